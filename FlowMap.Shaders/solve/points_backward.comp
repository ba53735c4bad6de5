#version 450
// Per correspondence of pair k (SolverReference.ProcrustesPointsBackward): gX = w (gC Y' + gMuX / W),
// gY = w (gC^T X' + gMuY / W). Adds gX . ray(u) into gzA (frame k, pixel u), writes gY . ray(u + flow) into gy
// (scattered to frame k+1 by gather_target), and per-group partial sums of dL/df.
#include "../common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Depth { float v[]; } depth;
layout(std430, binding = 2) readonly buffer Flow { vec2 v[]; } flow;
layout(std430, binding = 3) readonly buffer Conf { float v[]; } conf;
layout(std430, binding = 4) readonly buffer Fits { float v[]; } fits;
layout(std430, binding = 5) readonly buffer Back { float v[]; } back;
layout(std430, binding = 6) buffer GzA { float v[]; } gzA;
layout(std430, binding = 7) writeonly buffer Gy { float v[]; } gy;
layout(std430, binding = 8) writeonly buffer Partials { float v[]; } partials;
layout(push_constant) uniform Push { int width; int height; int focalIndex; } pc;

#define RED_WIDTH 1
#include "group_reduce.glsl"
#include "solve_common.glsl"

float tap(int base, int x, int y) { return depth.v[base + min(y, pc.height - 1) * pc.width + min(x, pc.width - 1)]; }

// The pair's fit and its backward record, read once per invocation, not per sample (the compiler cannot hoist buffer
// reads past the writes of the loop: bindings may alias).
struct PairBack { bool fitted; vec3 muX; vec3 muY; mat3 gC; vec3 gMuX; vec3 gMuY; float invW; };

void accumulate(int x, int y, int k, float f, PairBack pb, inout float vals[RED_WIDTH])
{
    int P = pc.width * pc.height;
    int i = y * pc.width + x;
    float wt = conf.v[k * P + i];
    vec2 p = vec2(x, y) + flow.v[k * P + i];
    int x0, y0; float ax, ay;
    float gys = 0.0;
    if (wt > 0.0 && pb.fitted && sampleInside(pc.width, pc.height, p, x0, y0, ax, ay))
    {
        int bj = (k + 1) * P;
        float zs = (tap(bj, x0, y0) * (1.0 - ax) + tap(bj, x0 + 1, y0) * ax) * (1.0 - ay)
                 + (tap(bj, x0, y0 + 1) * (1.0 - ax) + tap(bj, x0 + 1, y0 + 1) * ax) * ay;
        vec2 cc = vec2(float(pc.width - 1), float(pc.height - 1)) * 0.5;
        vec3 rx = vec3((vec2(x, y) - cc) / f, 1.0), sx = vec3((p - cc) / f, 1.0);
        vec3 X = depth.v[k * P + i] * rx, Y = zs * sx;
        vec3 xc = X - pb.muX;
        vec3 yc = Y - pb.muY;
        vec3 gX = wt * (pb.gC * yc + pb.gMuX * pb.invW);
        vec3 gY = wt * (transpose(pb.gC) * xc + pb.gMuY * pb.invW);
        gzA.v[k * P + i] += dot(gX, rx);
        gys = dot(gY, sx);
        vals[0] -= (gX.x * X.x + gX.y * X.y + gY.x * Y.x + gY.y * Y.y) / f;
    }
    gy.v[k * P + i] = gys;
}

void main()
{
    int k = int(gl_GlobalInvocationID.z);
    float f = exp(prm.v[pc.focalIndex]);
    int o = k * FIT_STRIDE, b = k * BACK_STRIDE;
    PairBack pb;
    pb.fitted = fits.v[o + FIT_W] > 1e-12;
    pb.muX = vec3(fits.v[o + FIT_MUX], fits.v[o + FIT_MUX + 1], fits.v[o + FIT_MUX + 2]);
    pb.muY = vec3(fits.v[o + FIT_MUY], fits.v[o + FIT_MUY + 1], fits.v[o + FIT_MUY + 2]);
    for (int a = 0; a < 3; a++) for (int c = 0; c < 3; c++) pb.gC[c][a] = back.v[b + a * 3 + c];
    pb.gMuX = vec3(back.v[b + 9], back.v[b + 10], back.v[b + 11]);
    pb.gMuY = vec3(back.v[b + 12], back.v[b + 13], back.v[b + 14]);
    pb.invW = back.v[b + 15];
    float vals[RED_WIDTH];
    vals[0] = 0.0;
    int n = pc.width * pc.height;
    int spi = groupSamples(n);
    for (int q = 0; q < spi; q++)
    {
        int i = groupSample(q, spi);
        if (i < n) accumulate(i % pc.width, i / pc.width, k, f, pb, vals);
    }
    groupReduceStore(vals, k);
}
