#version 450
// Line lists in world space (grid, axes, camera frustums, trajectory): position and an RGBA8 colour per vertex.
layout(location = 0) in vec3 inPosition;
layout(location = 1) in vec4 inColor;

layout(push_constant) uniform Push
{
    mat4 viewProj;   // world -> clip
    vec4 unused;     // same push block as points.vert, so both pipelines share one layout
} pc;

layout(location = 0) out vec4 vColor;

void main()
{
    gl_Position = pc.viewProj * vec4(inPosition, 1.0);
    vColor = inColor;
}
