#version 450
// Screen-space textured quads (text glyphs, the inset images, panels): position in pixels from the top-left corner,
// texture coordinates, and an RGBA8 colour the texel is multiplied by.
layout(location = 0) in vec2 inPixel;
layout(location = 1) in vec2 inUv;
layout(location = 2) in vec4 inColor;

layout(push_constant) uniform Push
{
    vec2 viewport;   // framebuffer width, height in pixels
} pc;

layout(location = 0) out vec2 vUv;
layout(location = 1) out vec4 vColor;

void main()
{
    gl_Position = vec4(inPixel / pc.viewport * 2.0 - 1.0, 0.0, 1.0);
    vUv = inUv;
    vColor = inColor;
}
