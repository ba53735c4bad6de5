#version 450
// Backward warp: dst(x, y) = src(x + u, y + v), bilinear, where (u, v) = flow(x, y) in pixels.
// Sample coordinates are clamped to the image (clamp-to-edge); valid(x, y) = 1 when (x + u, y + v) lies inside
// [0, w-1] x [0, h-1], else 0. src, dst, valid: float[height, width]; flow: vec2[height, width].
#include "common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Src { float v[]; } src;
layout(std430, binding = 1) readonly buffer Flow { vec2 f[]; } flow;
layout(std430, binding = 2) writeonly buffer Dst { float v[]; } dst;
layout(std430, binding = 3) writeonly buffer Valid { float v[]; } valid;
layout(push_constant) uniform Push { int width; int height; } pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    vec2 p = vec2(x, y) + flow.f[i];
    bool inside = p.x >= 0.0 && p.y >= 0.0 && p.x <= float(pc.width - 1) && p.y <= float(pc.height - 1);
    p = clamp(p, vec2(0.0), vec2(pc.width - 1, pc.height - 1));
    int x0 = min(int(floor(p.x)), pc.width - 1), y0 = min(int(floor(p.y)), pc.height - 1);
    int x1 = min(x0 + 1, pc.width - 1), y1 = min(y0 + 1, pc.height - 1);
    float ax = p.x - float(x0), ay = p.y - float(y0);
    float top = mix(src.v[y0 * pc.width + x0], src.v[y0 * pc.width + x1], ax);
    float bot = mix(src.v[y1 * pc.width + x0], src.v[y1 * pc.width + x1], ax);
    dst.v[i] = mix(top, bot, ay);
    valid.v[i] = inside ? 1.0 : 0.0;
}
