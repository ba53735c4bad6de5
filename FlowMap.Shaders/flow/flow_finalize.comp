#version 450
// Brings the flow and its confidence from the finest estimated level to full resolution in one pass:
// flow as flow_upsample.comp (pixel-centre aligned bilinear, scaled by the size ratio), confidence bilinear (unscaled).
// Each invocation writes a 2x2 block of output pixels from the 3x3 source pixels from the one under its first sample
// (adjacent samples are at most one source pixel apart when the source is not larger than the output), so about 2.25
// loads per output pixel instead of 4 for the flow and 4 for the confidence (loads dominate on a CPU device).
// srcFlow: vec2[srcHeight, srcWidth]; srcConf: float[srcHeight, srcWidth]; dstFlow: vec2[dstHeight, dstWidth];
// dstConf: float[dstHeight, dstWidth]. Non-finite values become 0. Needs src no larger than dst (checked on the host).
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer SrcFlow { vec2 f[]; } srcFlow;
layout(std430, binding = 1) readonly buffer SrcConf { float v[]; } srcConf;
layout(std430, binding = 2) writeonly buffer DstFlow { vec2 f[]; } dstFlow;
layout(std430, binding = 3) writeonly buffer DstConf { float v[]; } dstConf;
layout(push_constant) uniform Push { int srcWidth; int srcHeight; int dstWidth; int dstHeight; } pc;

vec2 F[9];
float C[9];

// Bilinear from the 3x3 cache at source position p (already clamped), cache origin b.
void sampleCache(vec2 p, ivec2 b, out vec2 flowOut, out float confOut)
{
    ivec2 i0 = min(ivec2(p), ivec2(pc.srcWidth - 1, pc.srcHeight - 1)) - b; // 0..1
    vec2 a = p - vec2(i0 + b);
    ivec2 i1 = min(i0 + 1, ivec2(2));
    // Clamp-to-edge: a column/row past the image repeats the last one; the cache loads clamp the same way.
    int k00 = i0.y * 3 + i0.x, k10 = i0.y * 3 + i1.x, k01 = i1.y * 3 + i0.x, k11 = i1.y * 3 + i1.x;
    vec2 f00 = F[0], f10 = F[0], f01 = F[0], f11 = F[0];
    float c00 = C[0], c10 = C[0], c01 = C[0], c11 = C[0];
    for (int k = 1; k < 9; k++)
    {
        if (k == k00) { f00 = F[k]; c00 = C[k]; }
        if (k == k10) { f10 = F[k]; c10 = C[k]; }
        if (k == k01) { f01 = F[k]; c01 = C[k]; }
        if (k == k11) { f11 = F[k]; c11 = C[k]; }
    }
    flowOut = mix(mix(f00, f10, a.x), mix(f01, f11, a.x), a.y);
    confOut = mix(mix(c00, c10, a.x), mix(c01, c11, a.x), a.y);
}

void main()
{
    int bx = 2 * int(gl_GlobalInvocationID.x), by = 2 * int(gl_GlobalInvocationID.y);
    if (bx >= pc.dstWidth || by >= pc.dstHeight) return;
    vec2 scale = vec2(float(pc.srcWidth) / float(pc.dstWidth), float(pc.srcHeight) / float(pc.dstHeight));
    vec2 lim = vec2(float(pc.srcWidth - 1), float(pc.srcHeight - 1));
    // Cache origin: the source pixel under the block's first sample.
    vec2 p00 = clamp((vec2(bx, by) + 0.5) * scale - 0.5, vec2(0.0), lim);
    ivec2 b = min(ivec2(p00), ivec2(pc.srcWidth - 1, pc.srcHeight - 1));
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++)
        {
            int sx = min(b.x + i, pc.srcWidth - 1), sy = min(b.y + j, pc.srcHeight - 1);
            F[j * 3 + i] = srcFlow.f[sy * pc.srcWidth + sx];
            C[j * 3 + i] = srcConf.v[sy * pc.srcWidth + sx];
        }
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++)
        {
            int x = bx + dx, y = by + dy;
            if (x >= pc.dstWidth || y >= pc.dstHeight) continue;
            vec2 p = clamp((vec2(x, y) + 0.5) * scale - 0.5, vec2(0.0), lim);
            vec2 f; float c;
            sampleCache(p, b, f, c);
            int o = y * pc.dstWidth + x;
            dstFlow.f[o] = finite2(f / scale);
            dstConf.v[o] = isnan(c) || isinf(c) ? 0.0 : clamp(c, 0.0, 1.0);
        }
}
