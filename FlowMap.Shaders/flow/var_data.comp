#version 450
// Variational refinement, linearisation step (coarse-to-fine variational flow with lagged robust weights, as in Brox et
// al. ECCV 2004 and the refinement stage of DIS, Kroeger et al. 2016). Around the current flow u0 of each pixel x:
//   Iz = I1(x + u0) - I0(x),  (Ix, Iy) = (grad I0(x) + grad I1(x + u0)) / 2,
//   data weight  d = delta / sqrt(Iz^2 + epsData^2)   (Charbonnier; 0 where x + u0 leaves the image),
//   smoothness   s = alpha * exp(-edge * |grad I0(x)|) / sqrt(|grad u0|^2 + |grad v0|^2 + epsSmooth^2)
//                (forward differences, edge-aware: weaker across image edges, where motion boundaries lie).
// The linearised data term for the total flow u is d (Ix u + Iy v - c)^2 with c = Ix u0 + Iy v0 - Iz.
// Out per pixel, 6 floats: d Ix^2, d Ix Iy, d Iy^2, d Ix c, d Iy c, s (read by var_sor.comp).
// i0, i1: float[h, w]; grad0, grad1: vec2[h, w] (Sobel / 8); flow: vec2[h, w]; coef: float[h, w, 6].
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer I0 { float v[]; } i0;
layout(std430, binding = 1) readonly buffer I1 { float v[]; } i1;
layout(std430, binding = 2) readonly buffer G0 { vec2 g[]; } grad0;
layout(std430, binding = 3) readonly buffer G1 { vec2 g[]; } grad1;
layout(std430, binding = 4) readonly buffer Flow { vec2 f[]; } flow;
layout(std430, binding = 5) writeonly buffer Coef { float c[]; } coef;
layout(push_constant) uniform Push
{
    int width; int height; float delta; float alpha; float epsData; float epsSmooth; float edge;
} pc;

FLOWMAP_BILINEAR(sampleI1, i1.v)
FLOWMAP_BILINEAR2(sampleG1, grad1.g)

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    vec2 u0 = flow.f[i];
    vec2 p = vec2(x, y) + u0;
    bool inside = p.x >= 0.0 && p.y >= 0.0 && p.x <= float(pc.width - 1) && p.y <= float(pc.height - 1);
    vec2 g0 = grad0.g[i];
    float iz = sampleI1(p, pc.width, pc.height) - i0.v[i];
    vec2 g = 0.5 * (g0 + sampleG1(p, pc.width, pc.height));
    float d = inside ? pc.delta / sqrt(iz * iz + pc.epsData * pc.epsData) : 0.0;
    float c = dot(g, u0) - iz;

    vec2 ux = flow.f[y * pc.width + min(x + 1, pc.width - 1)] - u0;
    vec2 uy = flow.f[min(y + 1, pc.height - 1) * pc.width + x] - u0;
    float s = pc.alpha * exp(-pc.edge * length(g0)) / sqrt(dot(ux, ux) + dot(uy, uy) + pc.epsSmooth * pc.epsSmooth);

    int o = 6 * i;
    coef.c[o] = d * g.x * g.x;
    coef.c[o + 1] = d * g.x * g.y;
    coef.c[o + 2] = d * g.y * g.y;
    coef.c[o + 3] = d * g.x * c;
    coef.c[o + 4] = d * g.y * c;
    coef.c[o + 5] = s;
}
