#version 450
// Coloured point cloud as round splats sized by depth.
// Vertex: world position (x, y, z) and an RGBA8 colour. Output size in pixels = worldSize * focalPx / z_view,
// clamped to [minPx, maxPx] (a splat of constant world diameter, the way a surfel looks from a pinhole camera).
layout(location = 0) in vec3 inPosition;
layout(location = 1) in vec4 inColor;

layout(push_constant) uniform Push
{
    mat4 viewProj;   // world -> clip (Vulkan clip space: x right, y down, z in [0, 1], w = view depth)
    vec4 size;       // x: splat diameter in world units, y: focal length of the view in pixels, z: min px, w: max px
} pc;

layout(location = 0) out vec3 vColor;

void main()
{
    vec4 clip = pc.viewProj * vec4(inPosition, 1.0);
    gl_Position = clip;
    float px = pc.size.x * pc.size.y / max(clip.w, 1e-6);
    gl_PointSize = clamp(px, pc.size.z, pc.size.w);
    vColor = inColor.rgb;
}
