#version 450
// Induced-flow loss of each problem, both directions, and its gradient (SolverReference.FlowLoss).
// Thread (x, y, problem): forward term at pixel u of frame k (X = z_k(u) ray(u), P = R X + t, against the forward flow)
// and backward term at pixel u of frame k+1 (X = z_{k+1}(u) ray(u), P = R^T (X - t), against the backward flow); each
// conf * huber(|f P.xy / P.z + c - u - flow| / delta) * invTerms. Writes dL/dz per pixel (gzA: frame k, gzB: frame k+1)
// and per-group partial records [loss, dL/dR (9), dL/dt (3), dL/df, 0, 0]. Candidate mode: pair 0 with the candidate
// focal and fit of each problem, loss only, on pixels (sx stride, sy stride) with weight stride^2, the samples split over the groups in row order (group_reduce.glsl).
#include "../common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Candidates { float v[]; } cand;
layout(std430, binding = 2) readonly buffer Depth { float v[]; } depth;
layout(std430, binding = 3) readonly buffer FlowF { vec2 v[]; } flowF;
layout(std430, binding = 4) readonly buffer FlowB { vec2 v[]; } flowB;
layout(std430, binding = 5) readonly buffer ConfF { float v[]; } confF;
layout(std430, binding = 6) readonly buffer ConfB { float v[]; } confB;
layout(std430, binding = 7) readonly buffer Fits { float v[]; } fits;
layout(std430, binding = 8) writeonly buffer GzA { float v[]; } gzA;
layout(std430, binding = 9) writeonly buffer GzB { float v[]; } gzB;
layout(std430, binding = 10) writeonly buffer Partials { float v[]; } partials;
layout(push_constant) uniform Push { int width; int height; int candidateMode; int gradient; int focalIndex; float delta; float invTerms; int stride; } pc;

#define RED_WIDTH 16
#include "group_reduce.glsl"
#include "solve_common.glsl"

void accumulate(int x, int y, int problem, int pair, float f, mat3 R, vec3 t, inout float vals[RED_WIDTH])
{
    int P = pc.width * pc.height;
    int i = y * pc.width + x;
    vec2 cc = vec2(float(pc.width - 1), float(pc.height - 1)) * 0.5;
    vec2 ray = (vec2(x, y) - cc) / f;
    float w2 = float(pc.stride * pc.stride);
    for (int dir = 0; dir < 2; dir++)
    {
        float c = (dir == 0 ? confF.v[pair * P + i] : confB.v[pair * P + i]) * pc.invTerms * w2;
        float gz = 0.0;
        if (c > 0.0)
        {
            float z = depth.v[(pair + dir) * P + i];
            vec3 X = z * vec3(ray, 1.0);
            vec3 D = X - t;
            vec3 Pc = dir == 0 ? R * X + t : transpose(R) * D;
            if (Pc.z > MIN_DEPTH_RATIO * X.z)
            {
                vec2 ab = Pc.xy / Pc.z;
                vec2 obs = dir == 0 ? flowF.v[pair * P + i] : flowB.v[pair * P + i];
                vec2 res = f * ab + cc - vec2(x, y) - obs;
                vec2 h;
                vals[0] += c * huber(res, pc.delta, h);
                if (pc.gradient != 0)
                {
                    h *= c;
                    vec3 gP = vec3(f / Pc.z * h, -f / Pc.z * dot(h, ab));
                    float gf = dot(h, ab);
                    vec3 gX;
                    mat3 gR;
                    if (dir == 0)
                    {
                        gR = outerProduct(gP, X); // element (row a, col b) = gP_a X_b = dL/dR_ab
                        vals[10] += gP.x; vals[11] += gP.y; vals[12] += gP.z;
                        gX = transpose(R) * gP;
                    }
                    else
                    {
                        gR = outerProduct(D, gP); // dL/dR_ba = gP_a D_b: element (row b, col a)
                        gX = R * gP;
                        vals[10] -= gX.x; vals[11] -= gX.y; vals[12] -= gX.z;
                    }
                    for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) vals[1 + a * 3 + b] += gR[b][a];
                    gz = dot(gX, vec3(ray, 1.0));
                    gf -= (gX.x * X.x + gX.y * X.y) / f;
                    vals[13] += gf;
                }
            }
        }
        if (pc.gradient != 0 && pc.candidateMode == 0)
        {
            if (dir == 0) gzA.v[pair * P + i] = gz; else gzB.v[pair * P + i] = gz;
        }
    }
}

void main()
{
    int problem = int(gl_GlobalInvocationID.z);
    int pair = pc.candidateMode != 0 ? 0 : problem;
    float f = pc.candidateMode != 0 ? cand.v[problem] : exp(prm.v[pc.focalIndex]);
    // The problem's fit, read once per invocation, not per sample: the compiler cannot hoist buffer reads past the
    // writes of the loop (bindings may alias), and on CPU drivers the reloads were a third of this kernel's time.
    int o = problem * FIT_STRIDE;
    mat3 R; // R[col][row] in GLSL: R[b][a] = r_ab
    for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) R[b][a] = fits.v[o + FIT_R + a * 3 + b];
    vec3 t = vec3(fits.v[o + FIT_T], fits.v[o + FIT_T + 1], fits.v[o + FIT_T + 2]);
    float vals[RED_WIDTH];
    for (int c = 0; c < RED_WIDTH; c++) vals[c] = 0.0;
    int sw = (pc.width + pc.stride - 1) / pc.stride, n = sw * ((pc.height + pc.stride - 1) / pc.stride);
    int spi = groupSamples(n);
    for (int q = 0; q < spi; q++)
    {
        int i = groupSample(q, spi);
        if (i < n) accumulate((i % sw) * pc.stride, (i / sw) * pc.stride, problem, pair, f, R, t, vals);
    }
    groupReduceStore(vals, problem);
}
