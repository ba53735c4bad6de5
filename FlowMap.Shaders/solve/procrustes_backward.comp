#version 450
// Backward pass of each pair's Procrustes (Procrustes.Backward): from dL/dR, dL/dt (the loss records, reduced here from
// flow_loss.comp's per-work-group partials float[pairs, groups, 16] in the fixed order of reduce_partials.comp and
// stored into `losses` for the later kernels and the host) to
// dL/dC, dL/dmuX, dL/dmuY. With G = dL/dR - dL/dt muX^T: dL/dC = -R^T (Kv - Kv^T), Kv = V K V^T,
// K_ab = B_ab / max(l_a + l_b, eps) (a != b), B = V^T G R^T V, eps = 1e-6 max |l| (the guard where l_a + l_b ~ 0).
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Fits { float v[]; } fits;
layout(std430, binding = 1) writeonly buffer Losses { float v[]; } losses;
layout(std430, binding = 2) writeonly buffer Back { float v[]; } back;
layout(std430, binding = 3) readonly buffer Partials { float v[]; } partials;
layout(push_constant) uniform Push { int pairs; int groups; } pc;

#include "solve_common.glsl"
#include "fixed_sum.glsl"

void main()
{
    int k = int(gl_GlobalInvocationID.x);
    if (k >= pc.pairs) return;
    int o = k * FIT_STRIDE, b = k * BACK_STRIDE;
    float rec[LOSS_STRIDE];
    for (int c = 0; c < LOSS_STRIDE; c++)
    {
        FIXED_SUM(rec[c], partials, k, pc.groups, LOSS_STRIDE, c);
        losses.v[k * LOSS_STRIDE + c] = rec[c];
    }
    float w = fits.v[o + FIT_W];
    if (!(w > 1e-12)) { for (int i = 0; i < BACK_STRIDE; i++) back.v[b + i] = 0.0; return; }
    mat3 R, V, G;
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 3; c++)
        {
            R[c][a] = fits.v[o + FIT_R + a * 3 + c];
            V[c][a] = fits.v[o + FIT_V + a * 3 + c];
            G[c][a] = rec[1 + a * 3 + c] - rec[10 + a] * fits.v[o + FIT_MUX + c];
        }
    vec3 gT = vec3(rec[10], rec[11], rec[12]);
    vec3 lam = vec3(fits.v[o + FIT_L], fits.v[o + FIT_L + 1], fits.v[o + FIT_L + 2]);
    float eps = max(1e-6 * max(abs(lam.x), max(abs(lam.y), abs(lam.z))), 1e-30);
    mat3 B = transpose(V) * G * transpose(R) * V;
    mat3 K = mat3(0.0);
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 3; c++)
            if (a != c) K[c][a] = B[c][a] / max(lam[a] + lam[c], eps);
    mat3 Kv = V * K * transpose(V);
    mat3 gC = -(transpose(R) * (Kv - transpose(Kv)));
    for (int a = 0; a < 3; a++) for (int c = 0; c < 3; c++) back.v[b + a * 3 + c] = gC[c][a];
    vec3 gMuX = -(transpose(R) * gT);
    for (int a = 0; a < 3; a++) { back.v[b + 9 + a] = gMuX[a]; back.v[b + 12 + a] = gT[a]; }
    back.v[b + 15] = 1.0 / w;
}
