#version 450
// Renders one frame of the analytic synthetic scene by ray casting (FlowMap.Runtime/Synthetic/SceneRaycaster.cs is the
// double-precision reference). Pinhole camera, pixel centres at integer coordinates: the ray through pixel (u, v) has
// camera-space direction ((u - cx) / fx, (v - cy) / fy, 1), so the ray parameter t is the z-depth.
//   colour: uint[height, width], RGBA8 (r in the low byte, a = 255): the mean of samples x samples sub-pixel rays,
//           each shaded with textures band-limited to the pixel's footprint on the surface (anti-aliased edges and
//           textures, about as sharp as a good camera).
//   depth:  float[height, width], z-depth in metres of the pixel-centre ray (0 where nothing is hit).
// Camera-to-world pose: rows rot0..rot2 = (R row i, T_i).
#include "common.glsl"
#include "synth/synth_scene.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 1) writeonly buffer Colour { uint v[]; } colour;
layout(std430, binding = 2) writeonly buffer Depth { float v[]; } depth;
layout(push_constant) uniform Push
{
    int width; int height; int primCount; int samples;
    float fx; float fy; float cx; float cy;
    vec4 rot0; vec4 rot1; vec4 rot2;
    vec4 light0; vec4 light1;
} pc;

vec3 worldDir(float u, float v)
{
    vec3 c = vec3((u - pc.cx) / pc.fx, (v - pc.cy) / pc.fy, 1.0);
    return vec3(dot(pc.rot0.xyz, c), dot(pc.rot1.xyz, c), dot(pc.rot2.xyz, c));
}

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    vec3 o = vec3(pc.rot0.w, pc.rot1.w, pc.rot2.w);

    SynthHit centre = synthTrace(o, worldDir(float(x), float(y)), pc.primCount);
    depth.v[i] = centre.prim >= 0 ? centre.t : 0.0;

    int s = pc.samples;
    vec3 sum = vec3(0.0);
    for (int sy = 0; sy < s; sy++)
        for (int sx = 0; sx < s; sx++)
        {
            float u = float(x) + (float(sx) + 0.5) / float(s) - 0.5;
            float v = float(y) + (float(sy) + 0.5) / float(s) - 0.5;
            vec3 d = worldDir(u, v);
            SynthHit h = synthTrace(o, d, pc.primCount);
            if (h.prim < 0) continue;
            SynthPrim q = scene.prims[h.prim];
            vec3 p = o + h.t * d;
            float cosine = abs(dot(h.n, d)) * inversesqrt(dot(d, d));
            float w = h.t / pc.fx / max(cosine, 0.3);
            sum += synthAlbedo(q, p, h.uv, w) * synthShade(p, h.n, pc.light0, pc.light1);
        }
    vec3 c = clamp(sum / float(s * s), 0.0, 1.0);
    colour.v[i] = packUnorm4x8(vec4(c, 1.0));
}
