#version 450
// Image gradient by the 3x3 Sobel operator scaled by 1/8 (so a linear ramp a*x gives gx = a), clamp-to-edge.
// dst: vec2[height, width] interleaved (gx, gy), units: intensity per pixel.
#include "common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Src { float v[]; } src;
layout(std430, binding = 1) writeonly buffer Dst { vec2 g[]; } dst;
layout(push_constant) uniform Push { int width; int height; } pc;

float at(int x, int y) { return src.v[clampi(y, 0, pc.height - 1) * pc.width + clampi(x, 0, pc.width - 1)]; }

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    float gx = (at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1))
             - (at(x - 1, y - 1) + 2.0 * at(x - 1, y) + at(x - 1, y + 1));
    float gy = (at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1))
             - (at(x - 1, y - 1) + 2.0 * at(x, y - 1) + at(x + 1, y - 1));
    dst.g[y * pc.width + x] = vec2(gx, gy) * 0.125;
}
