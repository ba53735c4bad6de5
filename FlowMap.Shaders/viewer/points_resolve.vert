#version 450
// A triangle covering the framebuffer (vertices 0..2), for points_resolve.frag.
void main()
{
    vec2 uv = vec2((gl_VertexIndex << 1) & 2, gl_VertexIndex & 2);
    gl_Position = vec4(uv * 2.0 - 1.0, 0.0, 1.0);
}
