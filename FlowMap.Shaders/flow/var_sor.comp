#version 450
// Variational refinement, one red-black SOR half-sweep on the linearised energy of var_data.comp:
//   E(u) = sum_x d (Ix u + Iy v - c)^2 + sum_{x~n} w_xn |u_x - u_n|^2,   w_xn = (s_x + s_n) / 2 (4-neighbours).
// Pixels with (x + y) % 2 == parity solve their 2x2 normal equations with the neighbours fixed,
//   [a11 + W, a12; a12, a22 + W] u = [b1 + sum w u_n; b2 + sum w v_n],  W = sum w,
// and move by omega towards the solution (omega in (0, 2); over-relaxation above 1). In place on flow.
// Dispatch ceil(w / 2) x h invocations: invocation (gx, y) updates x = 2 gx + ((y + parity) & 1).
// coef: float[h, w, 6]; flow: vec2[h, w] (read and written).
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Coef { float c[]; } coef;
layout(std430, binding = 1) buffer Flow { vec2 f[]; } flow;
layout(push_constant) uniform Push { int width; int height; int parity; float omega; } pc;

void main()
{
    int y = int(gl_GlobalInvocationID.y);
    int x = 2 * int(gl_GlobalInvocationID.x) + ((y + pc.parity) & 1);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    int o = 6 * i;
    float s = coef.c[o + 5];
    float wsum = 0.0;
    vec2 acc = vec2(0.0);
    if (x > 0)              { float w = 0.5 * (s + coef.c[o - 1]);                 wsum += w; acc += w * flow.f[i - 1]; }
    if (x < pc.width - 1)   { float w = 0.5 * (s + coef.c[o + 11]);                wsum += w; acc += w * flow.f[i + 1]; }
    if (y > 0)              { float w = 0.5 * (s + coef.c[o - 6 * pc.width + 5]);  wsum += w; acc += w * flow.f[i - pc.width]; }
    if (y < pc.height - 1)  { float w = 0.5 * (s + coef.c[o + 6 * pc.width + 5]);  wsum += w; acc += w * flow.f[i + pc.width]; }
    float a11 = coef.c[o] + wsum, a12 = coef.c[o + 1], a22 = coef.c[o + 2] + wsum;
    vec2 b = vec2(coef.c[o + 3], coef.c[o + 4]) + acc;
    float det = a11 * a22 - a12 * a12;
    vec2 u = flow.f[i];
    if (det > 1e-20)
    {
        vec2 sol = vec2(a22 * b.x - a12 * b.y, a11 * b.y - a12 * b.x) / det;
        flow.f[i] = finite2(mix(u, sol, pc.omega));
    }
}
