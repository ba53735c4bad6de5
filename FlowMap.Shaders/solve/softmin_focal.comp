#version 450
// The softmin focal over candidates (SolverReference.SoftminCombine): weights exp(-k (E_c / E_min - 1)) on the
// candidates' flow losses E_c (column 0 of the candidates' per-work-group loss partials float[count, groups, 16] of
// flow_loss.comp, reduced here in the fixed order of reduce_partials.comp); writes the weighted mean of log f_c into
// the log-focal parameter. One invocation.
layout(local_size_x = 1) in;

layout(std430, binding = 0) readonly buffer Partials { float v[]; } partials;
layout(std430, binding = 1) readonly buffer Candidates { float v[]; } cand;
layout(std430, binding = 2) buffer Params { float v[]; } prm;
layout(push_constant) uniform Push { int count; int focalIndex; float sharpness; int groups; } pc;

#include "fixed_sum.glsl"

float candidateLoss(int c)
{
    float e;
    FIXED_SUM(e, partials, c, pc.groups, 16, 0);
    return e;
}

void main()
{
    float emin = 3.4e38;
    for (int c = 0; c < pc.count; c++) emin = min(emin, candidateLoss(c));
    float den = max(emin, 1e-30), sw = 0.0, sf = 0.0;
    for (int c = 0; c < pc.count; c++)
    {
        float w = exp(-pc.sharpness * (candidateLoss(c) / den - 1.0));
        sw += w; sf += w * log(cand.v[c]);
    }
    prm.v[pc.focalIndex] = sf / sw;
}
