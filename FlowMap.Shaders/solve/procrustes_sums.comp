#version 450
// Weighted Procrustes sums of each problem (SolverReference.ProcrustesSums), per work group, in two passes:
// pass 0: W, sum wX, sum wY (7 values, padded to 9); pass 1: the centred cross-covariance sum w (X - muX)(Y - muY)^T (9),
// with the means of pass 0 read from the fit records. For pixel u of frame k with w = conf(u) (0 when u + flow leaves the
// image): X = z_k(u) ray(u), Y = z_{k+1}(u + flow) ray(u + flow), z bilinear, ray(p) = ((p - c) / f, 1).
// Problems: the pairs (focal = exp(prm[focalIndex]), pair = problem), or in candidate mode the candidate focals on pair 0.
// Samples: pixels (sx stride, sy stride) (stride > 1 only for the candidates), split over the groups in row order (group_reduce.glsl).
#include "../common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Candidates { float v[]; } cand;
layout(std430, binding = 2) readonly buffer Depth { float v[]; } depth;
layout(std430, binding = 3) readonly buffer Flow { vec2 v[]; } flow;
layout(std430, binding = 4) readonly buffer Conf { float v[]; } conf;
layout(std430, binding = 5) readonly buffer Fits { float v[]; } fits;
layout(std430, binding = 6) writeonly buffer Partials { float v[]; } partials;
layout(push_constant) uniform Push { int width; int height; int candidateMode; int pass; int focalIndex; int stride; } pc;

#define RED_WIDTH 9
#include "group_reduce.glsl"
#include "solve_common.glsl"

float tap(int base, int x, int y) { return depth.v[base + min(y, pc.height - 1) * pc.width + min(x, pc.width - 1)]; }

void accumulate(int x, int y, int pair, float f, vec3 muX, vec3 muY, inout float vals[RED_WIDTH])
{
    int P = pc.width * pc.height;
    int i = y * pc.width + x;
    float wt = conf.v[pair * P + i];
    vec2 p = vec2(x, y) + flow.v[pair * P + i];
    int x0, y0; float ax, ay;
    if (!(wt > 0.0 && sampleInside(pc.width, pc.height, p, x0, y0, ax, ay))) return;
    int bj = (pair + 1) * P;
    float zs = (tap(bj, x0, y0) * (1.0 - ax) + tap(bj, x0 + 1, y0) * ax) * (1.0 - ay)
             + (tap(bj, x0, y0 + 1) * (1.0 - ax) + tap(bj, x0 + 1, y0 + 1) * ax) * ay;
    vec2 c = vec2(float(pc.width - 1), float(pc.height - 1)) * 0.5;
    float zi = depth.v[pair * P + i];
    vec3 X = zi * vec3((vec2(x, y) - c) / f, 1.0);
    vec3 Y = zs * vec3((p - c) / f, 1.0);
    if (pc.pass == 0)
    {
        vals[0] += wt;
        vals[1] += wt * X.x; vals[2] += wt * X.y; vals[3] += wt * X.z;
        vals[4] += wt * Y.x; vals[5] += wt * Y.y; vals[6] += wt * Y.z;
    }
    else
    {
        vec3 xc = X - muX;
        vec3 yc = Y - muY;
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) vals[a * 3 + b] += wt * xc[a] * yc[b];
    }
}

void main()
{
    int problem = int(gl_GlobalInvocationID.z);
    int pair = pc.candidateMode != 0 ? 0 : problem;
    float f = pc.candidateMode != 0 ? cand.v[problem] : exp(prm.v[pc.focalIndex]);
    // The problem's means (second pass), read once per invocation, not per sample: the compiler cannot hoist buffer
    // reads past the writes of the loop (bindings may alias), and on CPU drivers the reloads were much of the cost.
    vec3 muX = vec3(0.0), muY = vec3(0.0);
    if (pc.pass != 0)
    {
        int o = problem * FIT_STRIDE;
        muX = vec3(fits.v[o + FIT_MUX], fits.v[o + FIT_MUX + 1], fits.v[o + FIT_MUX + 2]);
        muY = vec3(fits.v[o + FIT_MUY], fits.v[o + FIT_MUY + 1], fits.v[o + FIT_MUY + 2]);
    }
    float vals[RED_WIDTH];
    for (int c = 0; c < RED_WIDTH; c++) vals[c] = 0.0;
    int sw = (pc.width + pc.stride - 1) / pc.stride, n = sw * ((pc.height + pc.stride - 1) / pc.stride);
    int spi = groupSamples(n);
    for (int q = 0; q < spi; q++)
    {
        int i = groupSample(q, spi);
        if (i < n) accumulate((i % sw) * pc.stride, (i / sw) * pc.stride, pair, f, muX, muY, vals);
    }
    groupReduceStore(vals, problem);
}
