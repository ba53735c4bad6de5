#version 450
// Per-level features for the flow kernels, from a luminance image I (float[h, w]):
//   feat(x, y) = (I, gx, gy, 0) with (gx, gy) the Sobel gradient / 8 (clamp-to-edge, as imaging/gradient.comp);
//   quad(x, y) = (I(x, y), I(x1, y), I(x, y1), I(x1, y1)), x1 = min(x + 1, w - 1), y1 = min(y + 1, h - 1),
// so that a bilinear sample is one vec4 load (lavapipe runs compute on the CPU, where every load is a gather: the
// patch search samples I1 64 times per iteration). feat, quad: vec4[h, w].
#include "common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Src { float v[]; } src;
layout(std430, binding = 1) writeonly buffer Feat { vec4 f[]; } feat;
layout(std430, binding = 2) writeonly buffer Quad { vec4 q[]; } quad;
layout(push_constant) uniform Push { int width; int height; } pc;

float at(int x, int y) { return src.v[clampi(y, 0, pc.height - 1) * pc.width + clampi(x, 0, pc.width - 1)]; }

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    float a = at(x - 1, y - 1), b = at(x, y - 1), c = at(x + 1, y - 1);
    float d = at(x - 1, y), e = at(x, y), f = at(x + 1, y);
    float g = at(x - 1, y + 1), h = at(x, y + 1), k = at(x + 1, y + 1);
    float gx = (c + 2.0 * f + k - a - 2.0 * d - g) * 0.125;
    float gy = (g + 2.0 * h + k - a - 2.0 * b - c) * 0.125;
    int i = y * pc.width + x;
    feat.f[i] = vec4(e, gx, gy, 0.0);
    // x1 = min(x + 1, w - 1): at the last column f (clamped) is e itself; same for rows.
    quad.q[i] = vec4(e, f, h, k);
}
