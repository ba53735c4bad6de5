#version 450
// Solves each Procrustes problem from its sums (Procrustes.Solve), one invocation per problem. The sums arrive as the
// per-work-group partials of procrustes_sums.comp, float[problems, groups, 9], and are reduced here in the fixed order
// of reduce_partials.comp (fixed_sum.glsl): one dispatch fewer per pass.
// pass 0: sums = (W, sum wX, sum wY, pad) -> W, muX, muY into the fit record.
// pass 1: sums = centred C (9) -> R (Horn's quaternion: top eigenvector of a 4x4 symmetric matrix; the proper rotation
// maximising tr(R C)), t = muY - R muX, and the eigen-decomposition of M = sym(R C) for the backward pass.
// A problem with W ~ 0 gets the identity.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Partials { float v[]; } partials;
layout(std430, binding = 1) buffer Fits { float v[]; } fits;
layout(push_constant) uniform Push { int problems; int pass; int groups; } pc;

#include "solve_common.glsl"
#include "fixed_sum.glsl"

void main()
{
    int pr = int(gl_GlobalInvocationID.x);
    if (pr >= pc.problems) return;
    int o = pr * FIT_STRIDE;
    float sums[9];
    for (int i = 0; i < 9; i++) FIXED_SUM(sums[i], partials, pr, pc.groups, 9, i);
    if (pc.pass == 0)
    {
        float w = sums[0];
        fits.v[o + FIT_W] = w;
        float inv = w > 1e-12 ? 1.0 / w : 0.0;
        for (int a = 0; a < 3; a++) { fits.v[o + FIT_MUX + a] = sums[1 + a] * inv; fits.v[o + FIT_MUY + a] = sums[4 + a] * inv; }
        return;
    }
    float r[9];
    float w = fits.v[o + FIT_W];
    if (!(w > 1e-12))
    {
        for (int i = 0; i < 9; i++) { r[i] = (i % 4 == 0) ? 1.0 : 0.0; fits.v[o + FIT_R + i] = r[i]; fits.v[o + FIT_V + i] = r[i]; }
        for (int a = 0; a < 3; a++) { fits.v[o + FIT_T + a] = 0.0; fits.v[o + FIT_L + a] = 1.0; }
        return;
    }
    float c[9];
    for (int i = 0; i < 9; i++) c[i] = sums[i];
    float sxx = c[0], sxy = c[1], sxz = c[2], syx = c[3], syy = c[4], syz = c[5], szx = c[6], szy = c[7], szz = c[8];
    float n[16] = float[16](
        sxx + syy + szz, syz - szy, szx - sxz, sxy - syx,
        syz - szy, sxx - syy - szz, sxy + syx, szx + sxz,
        szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy,
        sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz);
    float vec[16];
    jacobi4(n, vec);
    int best = 0;
    for (int i = 1; i < 4; i++) if (n[i * 5] > n[best * 5]) best = i;
    vec4 q = normalize(vec4(vec[best], vec[4 + best], vec[8 + best], vec[12 + best])); // (w, x, y, z)
    float qw = q.x, qx = q.y, qy = q.z, qz = q.w;
    r[0] = 1.0 - 2.0 * (qy * qy + qz * qz); r[1] = 2.0 * (qx * qy - qz * qw); r[2] = 2.0 * (qx * qz + qy * qw);
    r[3] = 2.0 * (qx * qy + qz * qw); r[4] = 1.0 - 2.0 * (qx * qx + qz * qz); r[5] = 2.0 * (qy * qz - qx * qw);
    r[6] = 2.0 * (qx * qz - qy * qw); r[7] = 2.0 * (qy * qz + qx * qw); r[8] = 1.0 - 2.0 * (qx * qx + qy * qy);
    for (int i = 0; i < 9; i++) fits.v[o + FIT_R + i] = r[i];
    for (int a = 0; a < 3; a++)
        fits.v[o + FIT_T + a] = fits.v[o + FIT_MUY + a]
            - (r[a * 3] * fits.v[o + FIT_MUX] + r[a * 3 + 1] * fits.v[o + FIT_MUX + 1] + r[a * 3 + 2] * fits.v[o + FIT_MUX + 2]);
    float m[9];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            m[a * 3 + b] = r[a * 3] * c[b] + r[a * 3 + 1] * c[3 + b] + r[a * 3 + 2] * c[6 + b];
    float ms[9];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) ms[a * 3 + b] = 0.5 * (m[a * 3 + b] + m[b * 3 + a]);
    float v[9];
    jacobi3(ms, v);
    for (int i = 0; i < 9; i++) fits.v[o + FIT_V + i] = v[i];
    for (int a = 0; a < 3; a++) fits.v[o + FIT_L + a] = ms[a * 4];
}
