#version 450
// Point cloud rasterised in compute (after Schuetz, Kerbl, Wimmer 2021, "Rendering Point Clouds with Compute Shaders and
// Vertex Order Optimization", in a two-pass form that needs no 64-bit atomics): every point projects to one pixel;
//   pass 0 keeps the nearest depth per pixel (atomicMin on the depth's bits: non-negative floats order like their bits),
//   pass 1 lets the point whose depth won write its colour (atomicMin over a buffer cleared to 0xFFFFFFFF, so points
//   with exactly equal depth bits give the same pixel whatever the thread order).
// points_resolve.frag then grows each pixel into a splat of its depth-dependent size by gathering, and writes colour and
// depth into the render pass. On a CPU Vulkan device this is several times faster than point sprites.
layout(local_size_x = 256) in;

layout(std430, set = 0, binding = 0) readonly buffer Points { uint data[]; } points;   // per point: x, y, z (float bits), rgba8
layout(std430, set = 0, binding = 1) buffer Depth { uint value[]; } depth;             // per pixel: depth bits, 0xFFFFFFFF = empty
layout(std430, set = 0, binding = 2) buffer Color { uint value[]; } color;             // per pixel: rgba8

layout(push_constant) uniform Push
{
    mat4 viewProj;   // world -> clip (as points.vert)
    vec4 size;       // read by points_resolve.frag
    uvec4 dims;      // x: width, y: height, z: points drawn, w: pass (0 depth, 1 colour) | stride << 1
} pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.dims.z) return;
    uint o = i * (pc.dims.w >> 1) * 4u;
    vec3 p = vec3(uintBitsToFloat(points.data[o]), uintBitsToFloat(points.data[o + 1u]), uintBitsToFloat(points.data[o + 2u]));
    vec4 clip = pc.viewProj * vec4(p, 1.0);
    if (clip.w <= 0.0) return;
    vec3 ndc = clip.xyz / clip.w;
    if (ndc.z < 0.0 || ndc.z > 1.0) return;
    // Pixel i covers framebuffer x in [i, i + 1).
    vec2 fb = floor((ndc.xy * 0.5 + 0.5) * vec2(pc.dims.xy));
    if (fb.x < 0.0 || fb.y < 0.0 || fb.x >= float(pc.dims.x) || fb.y >= float(pc.dims.y)) return;
    uint idx = uint(fb.y) * pc.dims.x + uint(fb.x);
    uint z = floatBitsToUint(ndc.z);
    if ((pc.dims.w & 1u) == 0u) atomicMin(depth.value[idx], z);
    else if (depth.value[idx] == z) atomicMin(color.value[idx], points.data[o + 3u]); // equal depths: the smaller rgba8 wins, whatever the thread order
}
