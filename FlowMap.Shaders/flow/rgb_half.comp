#version 450
// RGB8 pixels straight to the first pyramid level: dst(x, y) = mean of the Rec. 601 luminance (imaging/luminance.comp)
// of src(2x..2x+1, 2y..2y+1), source coordinates clamped (odd sizes repeat the last row/column), i.e.
// downsample2x(luminance(src)) without the full-resolution image. src: bytes packed four to a uint, pixel (x, y)
// channel c at byte (y * rowBytes + x * 3 + c); dst: float[ceil(h / 2), ceil(w / 2)].
#include "common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Src { uint words[]; } src;
layout(std430, binding = 1) writeonly buffer Dst { float v[]; } dst;
layout(push_constant) uniform Push { int srcWidth; int srcHeight; int dstWidth; int dstHeight; int rowBytes; } pc;

// Luminance of the two horizontally adjacent pixels x0, x1 (x1 may equal x0) of row y: 6 bytes within 3 words.
float pairLuma(int x0, int x1, int y)
{
    int b0 = y * pc.rowBytes + x0 * 3, b1 = y * pc.rowBytes + x1 * 3;
    int w0 = b0 >> 2;
    int last = (pc.rowBytes * pc.srcHeight + 3) / 4 - 1; // the last word holding image bytes
    uint a = src.words[w0], b = src.words[min(w0 + 1, last)], c = src.words[min(w0 + 2, last)];
    float s = 0.0;
    for (int k = 0; k < 2; k++)
    {
        int off = (k == 0 ? b0 : b1) - w0 * 4; // byte offset from word w0, 0..5 (+3 for x1 = x0 + 1)
        vec3 rgb;
        for (int ch = 0; ch < 3; ch++)
        {
            int o = off + ch;
            uint word = o < 4 ? a : (o < 8 ? b : c);
            rgb[ch] = float((word >> ((o & 3) * 8)) & 0xffu);
        }
        s += 0.299 * rgb.r + 0.587 * rgb.g + 0.114 * rgb.b;
    }
    return s;
}

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.dstWidth || y >= pc.dstHeight) return;
    int x0 = min(2 * x, pc.srcWidth - 1), x1 = min(2 * x + 1, pc.srcWidth - 1);
    int y0 = min(2 * y, pc.srcHeight - 1), y1 = min(2 * y + 1, pc.srcHeight - 1);
    float s = pairLuma(x0, x1, y0) + pairLuma(x0, x1, y1);
    dst.v[y * pc.dstWidth + x] = s * (0.25 / 255.0);
}
