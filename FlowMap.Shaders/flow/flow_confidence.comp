#version 450
// Per-pixel confidence in [0, 1] of the flow a -> b, the product of
//  1. forward-backward consistency: e = |u(x) + u_b(x + u(x))| (u_b bilinear), c1 = exp(-e^2 / (2 tau^2)),
//     tau^2 = fbAbs^2 + fbRel^2 (|u|^2 + |u_b|^2) (scale-aware, after Sundaram et al. ECCV 2010);
//  2. photometric agreement after warping: r = I1(x + u) - I0(x), c2 = exp(-r^2 / (2 sigmaPhoto^2));
// and 0 where x + u leaves the image (nothing to match there) or a value is not finite.
// Computed at the finest estimated level (flow_finalize.comp brings it to full resolution).
// feat0: vec4[h, w] (I0 in x), quad1: vec4[h, w] (flow_prep.comp); forward, backward: vec2[h, w] pixels; conf: float[h, w].
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Feat0 { vec4 f[]; } feat0;
layout(std430, binding = 1) readonly buffer Quad1 { vec4 q[]; } quad1;
layout(std430, binding = 2) readonly buffer Fwd { vec2 f[]; } fwd;
layout(std430, binding = 3) readonly buffer Bwd { vec2 f[]; } bwd;
layout(std430, binding = 4) writeonly buffer Conf { float v[]; } conf;
layout(push_constant) uniform Push { int width; int height; float fbAbs; float fbRel; float sigmaPhoto; } pc;

FLOWMAP_BILINEAR_QUAD(sampleI1, quad1.q)
FLOWMAP_BILINEAR2(sampleBwd, bwd.f)

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    vec2 u = fwd.f[i];
    vec2 p = vec2(x, y) + u;
    bool inside = p.x >= 0.0 && p.y >= 0.0 && p.x <= float(pc.width - 1) && p.y <= float(pc.height - 1);
    vec2 ub = sampleBwd(p, pc.width, pc.height);
    vec2 e = u + ub;
    float tau2 = pc.fbAbs * pc.fbAbs + pc.fbRel * pc.fbRel * (dot(u, u) + dot(ub, ub));
    float c1 = exp(-dot(e, e) / (2.0 * tau2));
    float r = sampleI1(p, pc.width, pc.height) - feat0.f[i].x;
    float c2 = exp(-r * r / (2.0 * pc.sigmaPhoto * pc.sigmaPhoto));
    float c = inside ? c1 * c2 : 0.0;
    conf.v[i] = isnan(c) || isinf(c) ? 0.0 : clamp(c, 0.0, 1.0);
}
