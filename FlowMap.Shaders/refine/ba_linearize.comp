#version 450
// Dense bundle adjustment: residual, Jacobian and normal-equation blocks of every (edge, coarse pixel), float32.
// CPU reference: FlowMap.Runtime/Solve/Refine/BundleModel.cs (Residual, Robust) and BundleLinearization.Edge; the
// record layouts are those of BundleLinearization (RecordWidth 123 per edge and work group, PixelWidth 17 per pixel).
// Dispatch: x = coarse pixels (32 per group, one each), y = edges. Each group writes one partial record per edge:
// partials[edge, group, 123]; the host sums the groups in double.
#include "../common.glsl"
layout(local_size_x = 32) in;

layout(std430, binding = 0) readonly buffer Obs { vec4 v[]; } obs;          // [edges, cells]: target x, y, confidence, 0
layout(std430, binding = 1) readonly buffer Rho { float v[]; } rho;         // [keyframes, cells]
layout(std430, binding = 2) readonly buffer Edges { float v[]; } edges;     // [edges, 16]: R_JI (9, row-major), t_JI (3), source keyframe, 0...
layout(std430, binding = 3) writeonly buffer Pixels { float v[]; } pixels;  // [edges, cells, 17]
layout(std430, binding = 4) writeonly buffer Partials { float v[]; } partials; // [edges, groups, 123]
layout(push_constant) uniform Push { int gw; int gh; int stride; int jacobians; int robust; float cx; float cy; float focal; float k1; float robustPx; float penalty; } pc;

#define REC 123
#define PIX 17
shared float red[REC * 32];

bool undistort(vec2 u, out vec2 xn, out vec2 dF, out vec2 dK)
{
    float f = pc.focal, k1 = pc.k1;
    vec2 xd = (u - vec2(pc.cx, pc.cy)) / f;
    float rd = length(xd), r = rd;
    for (int it = 0; it < 8; it++)
    {
        float gp = 1.0 + 3.0 * k1 * r * r;
        if (!(gp > 0.0)) break;
        r -= (r + k1 * r * r * r - rd) / gp;
    }
    float gpr = 1.0 + 3.0 * k1 * r * r;
    xn = vec2(0.0); dF = vec2(0.0); dK = vec2(0.0);
    if (!(gpr > 0.0) || !(r >= 0.0) || abs(r + k1 * r * r * r - rd) > 1e-4 * (1.0 + rd)) return false;
    float m = 1.0 / (1.0 + k1 * r * r);
    float drdRd = 1.0 / gpr, drdK = -r * r * r / gpr;
    float dmdRd = -m * m * 2.0 * k1 * r * drdRd;
    float dmdK = -m * m * (r * r + 2.0 * k1 * r * drdK);
    xn = xd * m;
    dF = xd * (-(m + rd * dmdRd));
    dK = xd * dmdK;
    return true;
}

void robustWeight(float n2, out float w, out float cost)
{
    float c = pc.robustPx;
    if (pc.robust == 1) { float s = n2 / (c * c); w = 1.0 / (1.0 + s); cost = 0.5 * c * c * log(1.0 + s); return; }
    float n = sqrt(n2);
    if (n <= c) { w = 1.0; cost = 0.5 * n2; } else { w = c / n; cost = c * (n - 0.5 * c); }
}

void main()
{
    int cells = pc.gw * pc.gh;
    int cell = int(gl_GlobalInvocationID.x);
    int e = int(gl_WorkGroupID.y);
    uint lid = gl_LocalInvocationID.x;
    float vals[REC];
    for (int i = 0; i < REC; i++) vals[i] = 0.0;
    float pix[PIX];
    for (int i = 0; i < PIX; i++) pix[i] = 0.0;
    bool inRange = cell < cells;
    if (inRange)
    {
        vec4 o = obs.v[e * cells + cell];
        if (o.z > 0.0)
        {
            int eb = e * 16;
            mat3 R = mat3(edges.v[eb + 0], edges.v[eb + 3], edges.v[eb + 6],   // columns of the row-major R
                          edges.v[eb + 1], edges.v[eb + 4], edges.v[eb + 7],
                          edges.v[eb + 2], edges.v[eb + 5], edges.v[eb + 8]);
            vec3 t = vec3(edges.v[eb + 9], edges.v[eb + 10], edges.v[eb + 11]);
            int src = int(edges.v[eb + 12]);
            float rh = rho.v[src * cells + cell];
            vec2 u = vec2(float(pc.stride * (cell % pc.gw)), float(pc.stride * (cell / pc.gw))) + 0.5 * float(pc.stride - 1);
            vec2 xn, dF, dK;
            bool ok = undistort(u, xn, dF, dK);
            vec3 q = vec3(0.0);
            float x = 0.0, y = 0.0, r2 = 0.0, d = 1.0;
            if (ok)
            {
                q = R * vec3(xn, 1.0) + rh * t;
                ok = q.z > 1e-12;
            }
            if (ok)
            {
                x = q.x / q.z; y = q.y / q.z; r2 = x * x + y * y;
                ok = 1.0 + 3.0 * pc.k1 * r2 > 0.0;
            }
            vec2 res = vec2(0.0);
            float n2 = 0.0, rw = 0.0, cost = 0.0;
            if (ok)
            {
                d = 1.0 + pc.k1 * r2;
                res = vec2(pc.focal * x * d + pc.cx - o.x, pc.focal * y * d + pc.cy - o.y);
                n2 = dot(res, res);
                robustWeight(n2, rw, cost);
                ok = cost <= pc.penalty; // costlier than a dropped residual: dropped too (continuous at the camera plane)
            }
            if (!ok) vals[119] = o.z * pc.penalty;
            else
            {
                float f = pc.focal, k1 = pc.k1;
                vals[119] = o.z * cost; vals[120] = o.z; vals[121] = o.z * n2; vals[122] = 1.0;
                if (pc.jacobians != 0)
                {
                    float iz = 1.0 / q.z;
                    float a00 = f * (d + 2.0 * k1 * x * x), a01 = f * 2.0 * k1 * x * y, a11 = f * (d + 2.0 * k1 * y * y);
                    vec3 A0 = vec3(a00 * iz, a01 * iz, -(a00 * x + a01 * y) * iz);
                    vec3 A1 = vec3(a01 * iz, a11 * iz, -(a01 * x + a11 * y) * iz);
                    vec3 B0 = A0 * R, B1 = A1 * R;   // row vector times matrix: B = A R
                    vec3 p = vec3(xn, 1.0);
                    float J[2][15];
                    vec3 c0 = cross(p, B0), c1 = cross(p, B1), d0 = cross(A0, q), d1 = cross(A1, q);
                    for (int k = 0; k < 3; k++)
                    {
                        J[0][k] = rh * B0[k]; J[1][k] = rh * B1[k];
                        J[0][3 + k] = c0[k]; J[1][3 + k] = c1[k];
                        J[0][6 + k] = -rh * A0[k]; J[1][6 + k] = -rh * A1[k];
                        J[0][9 + k] = d0[k]; J[1][9 + k] = d1[k];
                    }
                    J[0][12] = dot(A0, t); J[1][12] = dot(A1, t);
                    J[0][13] = B0.x * dF.x + B0.y * dF.y + f * x * d; J[1][13] = B1.x * dF.x + B1.y * dF.y + f * y * d;
                    J[0][14] = B0.x * dK.x + B0.y * dK.y + f * x * r2; J[1][14] = B1.x * dK.x + B1.y * dK.y + f * y * r2;
                    float w = o.z * rw;
                    for (int row = 0; row < 2; row++)
                    {
                        float rr = res[row];
                        int idx = 0;
                        for (int a = 0; a < 12; a++)
                        {
                            float wa = w * J[row][a];
                            for (int b = a; b < 12; b++) vals[idx++] += wa * J[row][b];
                            vals[78 + 2 * a] += wa * J[row][13];
                            vals[79 + 2 * a] += wa * J[row][14];
                            vals[105 + a] += wa * rr;
                            pix[a] += w * J[row][12] * J[row][a];
                        }
                        float wf = w * J[row][13], wk = w * J[row][14];
                        vals[102] += wf * J[row][13]; vals[103] += wf * J[row][14]; vals[104] += wk * J[row][14];
                        vals[117] += wf * rr; vals[118] += wk * rr;
                        float wr = w * J[row][12];
                        pix[12] += wr * J[row][13]; pix[13] += wr * J[row][14];
                        pix[14] += wr * J[row][12]; pix[15] += wr * rr;
                    }
                    pix[16] = w;
                }
            }
        }
        if (pc.jacobians != 0)
            for (int i = 0; i < PIX; i++) pixels.v[(e * cells + cell) * PIX + i] = pix[i];
    }
    for (int c = 0; c < REC; c++) red[c * 32 + int(lid)] = vals[c];
    barrier();
    int groups = int(gl_NumWorkGroups.x);
    for (int c = int(lid); c < REC; c += 32)
    {
        float s = 0.0;
        for (int i = 0; i < 32; i++) s += red[c * 32 + i];
        partials.v[(e * groups + int(gl_WorkGroupID.x)) * REC + c] = s;
    }
}
