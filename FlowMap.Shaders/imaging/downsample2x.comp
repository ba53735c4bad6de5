#version 450
// 2x downsample by a 2x2 box: dst is ceil(w/2) x ceil(h/2); dst(x, y) = mean of src(2x..2x+1, 2y..2y+1),
// source coordinates clamped to the image (odd sizes repeat the last row/column).
// Blur first (blur1d) for an anti-aliased pyramid level.
#include "common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Src { float v[]; } src;
layout(std430, binding = 1) writeonly buffer Dst { float v[]; } dst;
layout(push_constant) uniform Push { int srcWidth; int srcHeight; int dstWidth; int dstHeight; } pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.dstWidth || y >= pc.dstHeight) return;
    int x0 = min(2 * x, pc.srcWidth - 1), x1 = min(2 * x + 1, pc.srcWidth - 1);
    int y0 = min(2 * y, pc.srcHeight - 1), y1 = min(2 * y + 1, pc.srcHeight - 1);
    float s = src.v[y0 * pc.srcWidth + x0] + src.v[y0 * pc.srcWidth + x1]
            + src.v[y1 * pc.srcWidth + x0] + src.v[y1 * pc.srcWidth + x1];
    dst.v[y * pc.dstWidth + x] = 0.25 * s;
}
