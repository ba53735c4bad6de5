#version 450
// Second pass of rendering a synthetic frame (FlowMap.Runtime/Synthetic/SceneRaycaster.cs is the double-precision
// reference): the colour, from the pixel-centre hits of synth_hits.comp.
//   hits:   vec4[height, width, 2] from synth_hits.comp.
//   colour: uint[height, width], RGBA8 (r in the low byte, a = 255).
// Textures are band-limited to a 1.5-pixel footprint on the surface (about the blur of a good lens), widened where the
// radial distortion k1 compresses the image (synthFootprintScale). Where the pixel and its four neighbours see one
// face (same primitive, same normal) the centre hit is shaded once; elsewhere (silhouettes, box edges, thin
// structures) samples x samples sub-pixel rays are cast, shaded and averaged, so edges are anti-aliased. Rays through
// pixel positions are undistorted (cameraRay). Camera-to-world pose: rows rot0..rot2 = (R row i, T_i).
#include "common.glsl"
#include "synth/synth_scene.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 1) readonly buffer Hits { vec4 v[]; } hits;
layout(std430, binding = 2) writeonly buffer Colour { uint v[]; } colour;
layout(push_constant) uniform Push
{
    int width; int height; int nodeCount; int samples;
    float fx; float fy; float cx; float cy;
    vec4 rot0; vec4 rot1; vec4 rot2;
    vec4 light0; vec4 light1;
    float k1;
} pc;

// Camera-space ray (x, y, 1) through pixel position (u, v): the undistorted normalised point.
vec3 cameraRay(float u, float v)
{
    return vec3(synthUndistort(vec2((u - pc.cx) / pc.fx, (v - pc.cy) / pc.fy), pc.k1), 1.0);
}

vec3 worldDir(vec3 c)
{
    return vec3(dot(pc.rot0.xyz, c), dot(pc.rot1.xyz, c), dot(pc.rot2.xyz, c));
}

// Shaded colour of a hit (black when nothing is hit).
vec3 shadeHit(vec3 o, vec3 c, vec3 d, SynthHit h)
{
    if (h.prim < 0) return vec3(0.0);
    SynthPrim q = synthPrim(pc.nodeCount, h.prim);
    vec3 p = o + h.t * d;
    float cosine = abs(dot(h.n, d)) * inversesqrt(dot(d, d));
    float w = 1.5 * h.t / pc.fx / max(cosine, 0.3) * synthFootprintScale(c.xy, pc.k1);
    return synthAlbedo(q, p, h.uv, w) * synthShade(p, h.n, pc.light0, pc.light1);
}

SynthHit loadHit(int x, int y)
{
    int j = y * pc.width + x;
    vec4 a = hits.v[2 * j], b = hits.v[2 * j + 1];
    SynthHit h; h.t = a.x; h.prim = int(a.y); h.uv = a.zw; h.n = b.xyz;
    return h;
}

bool sameFace(SynthHit a, int x, int y)
{
    SynthHit b = loadHit(clamp(x, 0, pc.width - 1), clamp(y, 0, pc.height - 1));
    return a.prim == b.prim && dot(a.n, b.n) >= 0.999;
}

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    vec3 o = vec3(pc.rot0.w, pc.rot1.w, pc.rot2.w);
    SynthHit centre = loadHit(x, y);
    bool uniformPixel = centre.prim >= 0 && sameFace(centre, x - 1, y) && sameFace(centre, x + 1, y) &&
                        sameFace(centre, x, y - 1) && sameFace(centre, x, y + 1);
    vec3 c = vec3(0.0);
    if (uniformPixel || pc.samples == 1)
    {
        vec3 ray = cameraRay(float(x), float(y));
        c = shadeHit(o, ray, worldDir(ray), centre);
    }
    else
    {
        int s = pc.samples;
        for (int k = 0; k < s * s; k++)
        {
            float u = float(x) + (float(k % s) + 0.5) / float(s) - 0.5;
            float v = float(y) + (float(k / s) + 0.5) / float(s) - 0.5;
            vec3 ray = cameraRay(u, v);
            vec3 d = worldDir(ray);
            c += shadeHit(o, ray, d, synthTrace(o, d, pc.nodeCount));
        }
        c /= float(s * s);
    }
    colour.v[y * pc.width + x] = packUnorm4x8(vec4(clamp(c, 0.0, 1.0), 1.0));
}
