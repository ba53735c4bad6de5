#version 450
// One pass of a separable Gaussian blur, clamp-to-edge borders.
// dst(x, y) = sum_k w_k src(clamp(x + k*dx), clamp(y + k*dy)), k in [-radius, radius],
// w_k = exp(-k^2 / (2 sigma^2)) / sum_j exp(-j^2 / (2 sigma^2)); (dx, dy) = (1, 0) horizontal, (0, 1) vertical.
#include "common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Src { float v[]; } src;
layout(std430, binding = 1) writeonly buffer Dst { float v[]; } dst;
layout(push_constant) uniform Push { int width; int height; int radius; int vertical; float sigma; } pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    float inv2s2 = 1.0 / (2.0 * pc.sigma * pc.sigma);
    float acc = 0.0, norm = 0.0;
    for (int k = -pc.radius; k <= pc.radius; k++)
    {
        float w = exp(-float(k * k) * inv2s2);
        int sx = pc.vertical != 0 ? x : clampi(x + k, 0, pc.width - 1);
        int sy = pc.vertical != 0 ? clampi(y + k, 0, pc.height - 1) : y;
        acc += w * src.v[sy * pc.width + sx];
        norm += w;
    }
    dst.v[y * pc.width + x] = acc / norm;
}
