#version 450
// Dense inverse search, patch step (Kroeger et al., "Fast Optical Flow using Dense Inverse Search", ECCV 2016).
// One invocation per patch of a regular grid: patch (px, py) covers P x P pixels from
// o = (min(px * S, w - P), min(py * S, h - P)), so the grid covers any image size (the last row/column is clamped).
//  1. Initial flow u0 = the dense initial flow (upsampled from the coarser level) at the patch centre.
//  2. Optional integer search: the mean-normalised SSD at every integer offset d in [-R, R]^2 around round(u0); the best
//     offset replaces u0 when it beats u0 (a small local cost volume; used on coarse levels for large motion).
//  3. Inverse-compositional Lucas-Kanade with mean normalisation (robust to an additive brightness change):
//     T = I0 patch, g = grad I0 (Sobel / 8), H = sum (g - mean g)(g - mean g)^T + eps I precomputed once; per iteration
//     w_i = I1(x_i + u) bilinear, b = sum g_i ((w_i - mean w) - (T_i - mean T)), u <- u - H^-1 b.
//     The damping eps = DAMPING_RELATIVE trace(H) + DAMPING_FLOOR P^2 is scale-free: it damps only directions whose
//     eigenvalue is below 1 % of the trace (the aperture problem: no information there, the flow stays near u0), and
//     patches whose gradients are at the level of 8-bit quantisation noise (E[g^2] of Sobel / 8 on uniform rounding
//     noise of variance 1 / (12 * 255^2) is 0.1875 / (12 * 255^2) = 2.4e-7 per pixel). Every other direction takes
//     at least 91 % of the Gauss-Newton step, so the iterations converge in a few steps whatever the image contrast.
//     (An absolute eps of 1e-5 P^2 had damped low-contrast and smooth patches to a few % of a step per iteration:
//     the early stop and the iteration limit then left them short of the shift, a bias towards u0 of 10 % and more.)
//  4. The SSD of every visited u is measured; the best one is the output (never worse than u0: divergence-safe),
//     except that a converged last step (< 0.01 px) is taken as is. Patch size at most MAX_PATCH.
//  Iterations stop early once a step is below 0.01 px.
// feat0: vec4[h, w] (I0, gx, gy, 0) and quad1: vec4[h, w] (I1 quads) from flow_prep.comp; init: vec2[h, w];
// out: vec2[gridHeight, gridWidth] patch flows, pixels.
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Feat0 { vec4 f[]; } feat0;
layout(std430, binding = 1) readonly buffer Quad1 { vec4 q[]; } quad1;
layout(std430, binding = 2) readonly buffer Init { vec2 f[]; } init;
layout(std430, binding = 3) writeonly buffer Out { vec2 f[]; } outFlow;
#define MAX_PATCH 8
// Damping of the Gauss-Newton step (step 3; DisSearch.DampingRelative / DampingFloor in the CPU reference).
const float DAMPING_RELATIVE = 0.01;
const float DAMPING_FLOOR = 2.4e-7;
layout(push_constant) uniform Push
{
    int width; int height; int patchSize; int stride; int gridWidth; int gridHeight; int iterations; int searchRadius;
} pc;

FLOWMAP_BILINEAR_QUAD(sampleI1, quad1.q)

// Mean-normalised SSD of the patch at origin o displaced by u (bilinear).
float patchCost(ivec2 o, vec2 u, float meanT)
{
    int P = pc.patchSize;
    float sw = 0.0, sww = 0.0, swt = 0.0, stt = 0.0;
    for (int j = 0; j < P; j++)
        for (int i = 0; i < P; i++)
        {
            ivec2 q = o + ivec2(i, j);
            float t = feat0.f[q.y * pc.width + q.x].x - meanT;
            float w = sampleI1(vec2(q) + u, pc.width, pc.height) - meanT; // offset: less float cancellation
            sw += w; sww += w * w; swt += w * t; stt += t * t;
        }
    float n = float(P * P);
    // sum ((w - mw) - t)^2 with sum t = 0
    return sww - sw * sw / n - 2.0 * swt + stt;
}

void main()
{
    int px = int(gl_GlobalInvocationID.x), py = int(gl_GlobalInvocationID.y);
    if (px >= pc.gridWidth || py >= pc.gridHeight) return;
    int P = pc.patchSize;
    ivec2 o = ivec2(min(px * pc.stride, pc.width - P), min(py * pc.stride, pc.height - P));
    ivec2 c = o + ivec2(P / 2);
    vec2 u = finite2(init.f[c.y * pc.width + c.x]);
    float n = float(P * P);

    // Template statistics: mean, sum of gradients, Hessian.
    // The template is kept in a private array: on a CPU device (lavapipe) that is a plain vector load per pixel in the
    // iterations instead of a gather from the buffer.
    vec3 tpl[MAX_PATCH * MAX_PATCH];
    float sumT = 0.0;
    vec2 sumG = vec2(0.0);
    for (int j = 0; j < P; j++)
        for (int i = 0; i < P; i++)
        {
            vec4 f = feat0.f[(o.y + j) * pc.width + o.x + i];
            tpl[j * P + i] = f.xyz;
            sumT += f.x;
            sumG += f.yz;
        }
    float meanT = sumT / n;
    vec2 meanG = sumG / n;
    // Centred sums (no float cancellation): stt = sum (T - meanT)^2 and the mean-normalised Hessian
    // H = sum (g - mean g)(g - mean g)^T (mean normalisation removes the patch's mean gradient from the Jacobian).
    // The template keeps the centred gradient from here on (the iterations need only it).
    float stt = 0.0, hxx = 0.0, hxy = 0.0, hyy = 0.0;
    for (int k = 0; k < P * P; k++)
    {
        float t = tpl[k].x - meanT;
        vec2 gc = tpl[k].yz - meanG;
        tpl[k].yz = gc;
        stt += t * t;
        hxx += gc.x * gc.x; hxy += gc.x * gc.y; hyy += gc.y * gc.y;
    }
    // Levenberg damping of the step, relative to the patch's own gradient energy (see the header, step 3).
    float eps = DAMPING_RELATIVE * (hxx + hyy) + DAMPING_FLOOR * n;
    hxx += eps; hyy += eps;
    float det = hxx * hyy - hxy * hxy;

    // Without a search the first iteration measures u0's cost; with one, u0 competes with the integer offsets.
    float bestCost = pc.searchRadius > 0 || pc.iterations == 0 ? patchCost(o, u, meanT) : 3.0e38;
    vec2 best = u;

    // Integer search around round(u0).
    if (pc.searchRadius > 0)
    {
        vec2 base = floor(u + 0.5);
        for (int dy = -pc.searchRadius; dy <= pc.searchRadius; dy++)
            for (int dx = -pc.searchRadius; dx <= pc.searchRadius; dx++)
            {
                vec2 cand = base + vec2(dx, dy);
                float cost = patchCost(o, cand, meanT);
                if (cost < bestCost) { bestCost = cost; best = cand; }
            }
        u = best;
    }

    // Inverse-compositional Gauss-Newton iterations.
    bool converged = false;
    for (int it = 0; it < pc.iterations; it++)
    {
        float sw = 0.0, sww = 0.0, swt = 0.0;
        vec2 b = vec2(0.0);
        for (int j = 0; j < P; j++)
            for (int i = 0; i < P; i++)
            {
                vec3 f = tpl[j * P + i];
                float s1 = sampleI1(vec2(o + ivec2(i, j)) + u, pc.width, pc.height);
                // Sums of w - meanT for the cost (its formula is invariant to this offset; it avoids float cancellation).
                float w = s1 - meanT;
                sw += w; sww += w * w; swt += w * (f.x - meanT);
                // The step's right-hand side b = sum (g - mean g)((w - mean w) - (T - mean T)) = sum (g - mean g)(I1(x + u) - T):
                // the centred gradient sums to 0, so the means drop out, and each term is a product with the residual
                // itself, small near the solution. Summed as sum g w - mean w sum g - sum g (T - mean T) instead, three sums
                // ~100x larger than b cancelled there: float rounding of ~1e-7 of their size, divided by the weak eigenvalue
                // of H, moved the iterations' fixed point by up to 0.007 px in weakly textured patches
                // (FlowMap.Tests/Issues/DisSearchStepCancelledInFloat.cs).
                b += f.yz * (s1 - f.x);
            }
        float mw = sw / n;
        // SSD of the current u comes free with the sums: sum ((w - mw) - t)^2 = sww - sw mw - 2 swt + stt.
        float cost = sww - sw * mw - 2.0 * swt + stt;
        if (cost < bestCost) { bestCost = cost; best = u; }
        vec2 du = vec2(hyy * b.x - hxy * b.y, hxx * b.y - hxy * b.x) / det;
        u -= du;
        if (dot(du, du) < 1e-4) { converged = true; break; }
    }
    // A converged step (< 0.01 px) is taken as is; otherwise the last iterate must beat the best visited one.
    if (converged) best = u;
    else
    {
        float finalCost = patchCost(o, u, meanT);
        if (finalCost < bestCost) { bestCost = finalCost; best = u; }
    }
    outFlow.f[py * pc.gridWidth + px] = finite2(best);
}
