#version 450
// RGB8 (or RGBA8) pixels -> float luminance in [0, 1], Rec. 601 weights: Y = 0.299 R + 0.587 G + 0.114 B.
// src: bytes packed four to a uint, pixel (x, y) channel c at byte (y * rowBytes + x * channels + c).
// dst: float[height, width].
#include "common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Src { uint bytes[]; } src;
layout(std430, binding = 1) writeonly buffer Dst { float v[]; } dst;
layout(push_constant) uniform Push { int width; int height; int channels; int rowBytes; } pc;

uint byteAt(int i) { return (src.bytes[i >> 2] >> ((i & 3) * 8)) & 0xffu; }

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int b = y * pc.rowBytes + x * pc.channels;
    float r = float(byteAt(b)), g = float(byteAt(b + 1)), bl = float(byteAt(b + 2));
    dst.v[y * pc.width + x] = (0.299 * r + 0.587 * g + 0.114 * bl) * (1.0 / 255.0);
}
