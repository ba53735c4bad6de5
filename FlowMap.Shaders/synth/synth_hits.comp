#version 450
// First pass of rendering a synthetic frame (FlowMap.Runtime/Synthetic/SceneRaycaster.cs is the double-precision
// reference): the ray through each pixel centre. Pixel centres at integer coordinates; the ray through pixel (u, v) has
// camera-space direction (x, y, 1) with (x, y) the undistorted normalised point of ((u - cx) / fx, (v - cy) / fy)
// (radial coefficient k1, synthUndistort; the pinhole when k1 = 0), so the ray parameter t is the z-depth.
//   hits:  vec4[height, width, 2]: (t, primitive index or -1, u, v), (normal.xyz, 0) of the nearest hit.
//   depth: float[height, width], z-depth in metres (0 where nothing is hit).
// Camera-to-world pose: rows rot0..rot2 = (R row i, T_i).
#include "common.glsl"
#include "synth/synth_scene.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 1) writeonly buffer Hits { vec4 v[]; } hits;
layout(std430, binding = 2) writeonly buffer Depth { float v[]; } depth;
layout(push_constant) uniform Push
{
    int width; int height; int nodeCount; float k1;
    float fx; float fy; float cx; float cy;
    vec4 rot0; vec4 rot1; vec4 rot2;
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    vec3 c = vec3(synthUndistort(vec2((float(x) - pc.cx) / pc.fx, (float(y) - pc.cy) / pc.fy), pc.k1), 1.0);
    vec3 d = vec3(dot(pc.rot0.xyz, c), dot(pc.rot1.xyz, c), dot(pc.rot2.xyz, c));
    SynthHit h = synthTrace(vec3(pc.rot0.w, pc.rot1.w, pc.rot2.w), d, pc.nodeCount);
    hits.v[2 * i] = vec4(h.t, float(h.prim), h.uv);
    hits.v[2 * i + 1] = vec4(h.n, 0.0);
    depth.v[i] = h.prim >= 0 ? h.t : 0.0;
}
