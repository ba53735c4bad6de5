#version 450
// Variational refinement, one red-black SOR half-sweep on the linearised energy of var_data.comp:
//   E(u) = sum_x d (Ix u + Iy v - c)^2 + sum_x s_x (|u_x - u_{x+(1,0)}|^2 + |u_x - u_{x+(0,1)}|^2)
// (each pixel's smoothness weight on its two forward edges, the usual discretisation of the lagged Charbonnier term).
// Pixels with (x + y) % 2 == parity solve their 2x2 normal equations with the neighbours fixed,
//   [a11 + W, a12; a12, a22 + W] u = [b1 + sum w_n u_n; b2 + sum w_n v_n],  W = sum w_n,
// with w = s_x towards the right and lower neighbours, s_{x-(1,0)} and s_{x-(0,1)} towards the left and upper ones,
// and move by omega towards the solution (omega in (0, 2); over-relaxation above 1). In place on flow.
// Dispatch ceil(w / 2) x h invocations: invocation (gx, y) updates x = 2 gx + ((y + parity) & 1).
// coefA: vec4[h, w] (a11, a12, a22, b1); coefB: vec2[h, w] (b2, s); flow: vec2[h, w] (read and written).
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer CoefA { vec4 c[]; } coefA;
layout(std430, binding = 1) readonly buffer CoefB { vec2 c[]; } coefB;
layout(std430, binding = 2) buffer Flow { vec2 f[]; } flow;
layout(push_constant) uniform Push { int width; int height; int parity; float omega; } pc;

void main()
{
    int y = int(gl_GlobalInvocationID.y);
    int x = 2 * int(gl_GlobalInvocationID.x) + ((y + pc.parity) & 1);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    vec4 a = coefA.c[i];
    vec2 bs = coefB.c[i];
    float s = bs.y;
    float wsum = 0.0;
    vec2 acc = vec2(0.0);
    if (x > 0)              { float w = coefB.c[i - 1].y;        wsum += w; acc += w * flow.f[i - 1]; }
    if (x < pc.width - 1)   {                                    wsum += s; acc += s * flow.f[i + 1]; }
    if (y > 0)              { float w = coefB.c[i - pc.width].y; wsum += w; acc += w * flow.f[i - pc.width]; }
    if (y < pc.height - 1)  {                                    wsum += s; acc += s * flow.f[i + pc.width]; }
    float a11 = a.x + wsum, a12 = a.y, a22 = a.z + wsum;
    vec2 b = vec2(a.w, bs.x) + acc;
    float det = a11 * a22 - a12 * a12;
    vec2 u = flow.f[i];
    if (det > 1e-20)
    {
        vec2 sol = vec2(a22 * b.x - a12 * b.y, a11 * b.y - a12 * b.x) / det;
        flow.f[i] = finite2(mix(u, sol, pc.omega));
    }
}
