#version 450
// Variational refinement, linearisation step (coarse-to-fine variational flow with lagged robust weights, as in Brox et
// al. ECCV 2004 and the refinement stage of DIS, Kroeger et al. 2016). Around the current flow u0 of each pixel x:
//   Iz = I1(x + u0) - I0(x),  (Ix, Iy) = (grad I0(x) + grad I1(x + u0)) / 2,
//   data weight  d = delta / sqrt(Iz^2 + epsData^2)   (Charbonnier; 0 where x + u0 leaves the image),
//   smoothness   s = alpha * exp(-edge * |grad I0(x)|) / sqrt(|grad u0|^2 + |grad v0|^2 + epsSmooth^2)
//                (forward differences, edge-aware: weaker across image edges, where motion boundaries lie).
// The linearised data term for the total flow u is d (Ix u + Iy v - c)^2 with c = Ix u0 + Iy v0 - Iz; s weighs the
// two forward edges of x, (x, x + (1, 0)) and (x, x + (0, 1)) (var_sor.comp).
// Out per pixel: coefA = (d Ix^2, d Ix Iy, d Iy^2, d Ix c), coefB = (d Iy c, s).
// feat0, feat1: vec4[h, w] (I, gx, gy, 0), quad1: vec4[h, w] (flow_prep.comp); flow: vec2[h, w];
// coefA: vec4[h, w]; coefB: vec2[h, w].
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Feat0 { vec4 f[]; } feat0;
layout(std430, binding = 1) readonly buffer Feat1 { vec4 f[]; } feat1;
layout(std430, binding = 2) readonly buffer Quad1 { vec4 q[]; } quad1;
layout(std430, binding = 3) readonly buffer Flow { vec2 f[]; } flow;
layout(std430, binding = 4) writeonly buffer CoefA { vec4 c[]; } coefA;
layout(std430, binding = 5) writeonly buffer CoefB { vec2 c[]; } coefB;
layout(push_constant) uniform Push
{
    int width; int height; float delta; float alpha; float epsData; float epsSmooth; float edge;
} pc;

FLOWMAP_BILINEAR_QUAD(sampleI1, quad1.q)

// Bilinear sample of grad I1 (feat1.yz), clamp-to-edge.
vec2 sampleG1(vec2 p, int w, int h)
{
    p = clamp(p, vec2(0.0), vec2(float(w - 1), float(h - 1)));
    int x0 = min(int(p.x), w - 1), y0 = min(int(p.y), h - 1);
    int x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1);
    vec2 a = p - vec2(x0, y0);
    vec2 top = mix(feat1.f[y0 * w + x0].yz, feat1.f[y0 * w + x1].yz, a.x);
    vec2 bot = mix(feat1.f[y1 * w + x0].yz, feat1.f[y1 * w + x1].yz, a.x);
    return mix(top, bot, a.y);
}

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    vec2 u0 = flow.f[i];
    vec2 p = vec2(x, y) + u0;
    bool inside = p.x >= 0.0 && p.y >= 0.0 && p.x <= float(pc.width - 1) && p.y <= float(pc.height - 1);
    vec4 f0 = feat0.f[i];
    vec2 g0 = f0.yz;
    float iz = sampleI1(p, pc.width, pc.height) - f0.x;
    vec2 g = 0.5 * (g0 + sampleG1(p, pc.width, pc.height));
    float d = inside ? pc.delta / sqrt(iz * iz + pc.epsData * pc.epsData) : 0.0;
    float c = dot(g, u0) - iz;

    vec2 ux = flow.f[y * pc.width + min(x + 1, pc.width - 1)] - u0;
    vec2 uy = flow.f[min(y + 1, pc.height - 1) * pc.width + x] - u0;
    float s = pc.alpha * exp(-pc.edge * length(g0)) / sqrt(dot(ux, ux) + dot(uy, uy) + pc.epsSmooth * pc.epsSmooth);

    coefA.c[i] = vec4(d * g.x * g.x, d * g.x * g.y, d * g.y * g.y, d * g.x * c);
    coefB.c[i] = vec2(d * g.y * c, s);
}
