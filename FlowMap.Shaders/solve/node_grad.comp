#version 450
// Gradient of every grid node (both levels, all frames): the weighted sum of dL/dg over the node's support (the transpose
// of the bilinear upsampling, gathered in a fixed order) plus the gradient of the second-difference smoothness
// lam * sum d^2 (SolverReference.Smoothness). Also writes the smoothness terms centred on the node (for the loss).
// One more invocation (index frames * nodes) writes the gradient entries that are sums (SolverReference.Evaluate):
// dL/dlog f = f * sum over pairs of (loss dL/df + Procrustes dL/df), and each frame's prior scale and shift; the
// Procrustes dL/df and prior sums arrive as per-work-group partials and are reduced here in the fixed order of
// reduce_partials.comp (fixed_sum.glsl).
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Gg { float v[]; } gg;
layout(std430, binding = 2) buffer Grad { float v[]; } grad;
layout(std430, binding = 3) writeonly buffer Smooth { float v[]; } smoothTerms;
layout(std430, binding = 4) readonly buffer Losses { float v[]; } losses;
layout(std430, binding = 5) readonly buffer ProcF { float v[]; } procF;
layout(std430, binding = 6) readonly buffer Prior { float v[]; } priorPartials;
layout(push_constant) uniform Push
{
    int width; int height; int frames; int cell; int gw; int gh; int cw; int ch; int nodes; float lam;
    int pairs; int hasPrior; int throughPoses; int scaleBase; int focalIndex; int groups;
} pc;

#include "fixed_sum.glsl"

// procF: float[pairs, groups] (points_backward.comp); priorPartials: float[frames, groups, 2] (depth_backward.comp).
void scalarGrads()
{
    float gf = 0.0;
    for (int k = 0; k < pc.pairs; k++)
    {
        gf += losses.v[k * 16 + 13];
        if (pc.throughPoses != 0)
        {
            float pf;
            FIXED_SUM(pf, procF, k, pc.groups, 1, 0);
            gf += pf;
        }
    }
    grad.v[pc.focalIndex] = gf * exp(prm.v[pc.focalIndex]);
    if (pc.hasPrior != 0)
        for (int fr = 0; fr < pc.frames; fr++)
        {
            float a, b;
            FIXED_SUM(a, priorPartials, fr, pc.groups, 2, 0);
            FIXED_SUM(b, priorPartials, fr, pc.groups, 2, 1);
            grad.v[pc.scaleBase + 2 * fr] = a;
            grad.v[pc.scaleBase + 2 * fr + 1] = b;
        }
}

#define COARSE_RATIO 4

float th(int base, int gw, int a, int b) { return prm.v[base + b * gw + a]; }

// Second difference centred at (a, b) along x (axis 0) or y (axis 1); 0 when the centre has no two neighbours.
float d2(int base, int gw, int gh, int a, int b, int axis)
{
    if (axis == 0) return (a >= 1 && a + 1 < gw) ? th(base, gw, a - 1, b) - 2.0 * th(base, gw, a, b) + th(base, gw, a + 1, b) : 0.0;
    return (b >= 1 && b + 1 < gh) ? th(base, gw, a, b - 1) - 2.0 * th(base, gw, a, b) + th(base, gw, a, b + 1) : 0.0;
}

void main()
{
    int n = int(gl_GlobalInvocationID.x);
    if (n == pc.frames * pc.nodes) { scalarGrads(); return; }
    if (n > pc.frames * pc.nodes) return;
    int fr = n / pc.nodes, local = n - fr * pc.nodes;
    int fine = pc.gw * pc.gh;
    int gw, gh, cell, base, idx;
    if (local < fine) { gw = pc.gw; gh = pc.gh; cell = pc.cell; base = fr * pc.nodes; idx = local; }
    else { gw = pc.cw; gh = pc.ch; cell = pc.cell * COARSE_RATIO; base = fr * pc.nodes + fine; idx = local - fine; }
    int a = idx % gw, b = idx / gw;
    // 1. Transpose of the upsampling.
    int x0 = max(0, (a - 1) * cell + 1), x1 = min(pc.width - 1, (a + 1) * cell - 1);
    int y0 = max(0, (b - 1) * cell + 1), y1 = min(pc.height - 1, (b + 1) * cell - 1);
    float s = 0.0;
    int P = pc.width * pc.height;
    for (int y = y0; y <= y1; y++)
    {
        float wy = 1.0 - abs(float(y) / float(cell) - float(b));
        if (wy <= 0.0) continue;
        for (int x = x0; x <= x1; x++)
        {
            float wx = 1.0 - abs(float(x) / float(cell) - float(a));
            if (wx > 0.0) s += wx * wy * gg.v[fr * P + y * pc.width + x];
        }
    }
    // 2. Smoothness: d/dtheta(a,b) of lam sum d^2 over the centres (a-1, a, a+1) along x and (b-1, b, b+1) along y.
    float gs = 0.0;
    gs += 2.0 * pc.lam * (d2(base, gw, gh, a - 1, b, 0) - 2.0 * d2(base, gw, gh, a, b, 0) + d2(base, gw, gh, a + 1, b, 0));
    gs += 2.0 * pc.lam * (d2(base, gw, gh, a, b - 1, 1) - 2.0 * d2(base, gw, gh, a, b, 1) + d2(base, gw, gh, a, b + 1, 1));
    grad.v[n] = s + gs;
    float dx = d2(base, gw, gh, a, b, 0), dy = d2(base, gw, gh, a, b, 1);
    smoothTerms.v[n] = pc.lam * (dx * dx + dy * dy);
}
