#version 450
// Transpose of the bilinear depth taps of the Procrustes targets, as a gather (deterministic, no atomics): for target
// pixel p of frame k+1, gzB[k, p] += sum over the CSR row of p of gy[k, src] * weight. rows: int[K, P + 1] offsets into
// entries (per pair); srcs: int[], weights: float[] (built once per solve from the frozen flow).
#include "../common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Rows { int v[]; } rows;
layout(std430, binding = 1) readonly buffer Srcs { int v[]; } srcs;
layout(std430, binding = 2) readonly buffer Weights { float v[]; } weights;
layout(std430, binding = 3) readonly buffer Gy { float v[]; } gy;
layout(std430, binding = 4) buffer GzB { float v[]; } gzB;
layout(push_constant) uniform Push { int width; int height; } pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y), k = int(gl_GlobalInvocationID.z);
    if (x >= pc.width || y >= pc.height) return;
    int P = pc.width * pc.height;
    int p = y * pc.width + x;
    int r = k * (P + 1) + p;
    float s = 0.0;
    for (int e = rows.v[r]; e < rows.v[r + 1]; e++) s += gy.v[k * P + srcs.v[e]] * weights.v[e];
    gzB.v[k * P + p] += s;
}
