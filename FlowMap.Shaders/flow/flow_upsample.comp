#version 450
// Resamples a flow field to another size (coarse -> fine pyramid level, or the processing level -> full resolution):
// dst(x, y) = bilinear(src, ((x + 0.5) * sw / dw - 0.5, (y + 0.5) * sh / dh - 0.5)) * (dw / sw, dh / sh).
// Pixel-centre aligned, clamp-to-edge; works for any sizes (odd levels of a ceil-halving pyramid included).
// src: vec2[srcHeight, srcWidth]; dst: vec2[dstHeight, dstWidth]; pixels of each level.
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Src { vec2 f[]; } src;
layout(std430, binding = 1) writeonly buffer Dst { vec2 f[]; } dst;
layout(push_constant) uniform Push { int srcWidth; int srcHeight; int dstWidth; int dstHeight; } pc;

FLOWMAP_BILINEAR2(sampleSrc, src.f)

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.dstWidth || y >= pc.dstHeight) return;
    vec2 scale = vec2(float(pc.srcWidth) / float(pc.dstWidth), float(pc.srcHeight) / float(pc.dstHeight));
    vec2 p = (vec2(x, y) + 0.5) * scale - 0.5;
    dst.f[y * pc.dstWidth + x] = finite2(sampleSrc(p, pc.srcWidth, pc.srcHeight) / scale);
}
