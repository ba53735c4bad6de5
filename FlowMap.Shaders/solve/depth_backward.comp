#version 450
// From dL/dz per pixel to dL/dg per pixel (g = the upsampled log inverse depth) and per-group partial sums of
// dL/d(log scale), dL/dshift of the prior (InverseDepthGrid.Backward, first half). dL/dz of frame fr is
// gzA[fr] (terms where fr is the source of a pair) + gzB[fr - 1] (where it is the target). dL/dg = -gz z.
// With `gather` (gradient through the Procrustes poses) the target side also gets the transpose of the bilinear depth
// taps of the Procrustes targets, gathered (deterministic, no atomics) from gy of pair fr - 1 through the CSR rows
// (rows: int[K, P + 1] offsets into srcs/weights, built once per solve from the frozen flow; SolverReference.
// ProcrustesPointsBackward): gzB[fr - 1, p] + sum over the row of p of gy[fr - 1, src] * weight.
#include "../common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Prior { float v[]; } prior;
layout(std430, binding = 2) readonly buffer Depth { float v[]; } depth;
layout(std430, binding = 3) readonly buffer GzA { float v[]; } gzA;
layout(std430, binding = 4) readonly buffer GzB { float v[]; } gzB;
layout(std430, binding = 5) writeonly buffer Gg { float v[]; } gg;
layout(std430, binding = 6) writeonly buffer Partials { float v[]; } partials;
layout(std430, binding = 7) readonly buffer Rows { int v[]; } rows;
layout(std430, binding = 8) readonly buffer Srcs { int v[]; } srcs;
layout(std430, binding = 9) readonly buffer Weights { float v[]; } weights;
layout(std430, binding = 10) readonly buffer Gy { float v[]; } gy;
layout(push_constant) uniform Push { int width; int height; int frames; int cell; int gw; int gh; int cw; int ch; int nodes; int hasPrior; int scaleBase; int gather; } pc;

#define RED_WIDTH 2
#include "group_reduce.glsl"
#include "depth_grid.glsl"

void accumulate(int x, int y, int fr, inout float vals[RED_WIDTH])
{
    int P = pc.width * pc.height;
    int i = y * pc.width + x;
    float gz = 0.0;
    if (fr < pc.frames - 1) gz += gzA.v[fr * P + i];
    if (fr > 0)
    {
        int k = fr - 1;
        float t = gzB.v[k * P + i];
        if (pc.gather != 0)
        {
            int r = k * (P + 1) + i;
            float s = 0.0;
            for (int e = rows.v[r]; e < rows.v[r + 1]; e++) s += gy.v[k * P + srcs.v[e]] * weights.v[e];
            t += s;
        }
        gz += t;
    }
    float z = depth.v[fr * P + i];
    gg.v[fr * P + i] = -gz * z;
    if (pc.hasPrior != 0)
    {
        int base = fr * pc.nodes;
        float e = exp(bilinearGrid(base, pc.gw, pc.gh, pc.cell, x, y) + bilinearGrid(base + pc.gw * pc.gh, pc.cw, pc.ch, pc.cell * COARSE_RATIO, x, y));
        float s = exp(prm.v[pc.scaleBase + 2 * fr]);
        float arg = s * prior.v[fr * P + i] + prm.v[pc.scaleBase + 2 * fr + 1];
        float gArg = -gz * z * z * e * posDerivative(arg);
        vals[0] += gArg * s * prior.v[fr * P + i];
        vals[1] += gArg;
    }
}

void main()
{
    int fr = int(gl_GlobalInvocationID.z);
    float vals[RED_WIDTH];
    vals[0] = 0.0; vals[1] = 0.0;
    int n = pc.width * pc.height;
    int spi = groupSamples(n);
    for (int q = 0; q < spi; q++)
    {
        int i = groupSample(q, spi);
        if (i < n) accumulate(i % pc.width, i / pc.width, fr, vals);
    }
    groupReduceStore(vals, fr);
}
