#version 450
// The softmin focal over candidates (SolverReference.SoftminCombine): weights exp(-k (E_c / E_min - 1)) on the
// candidates' flow losses E_c (reduced loss records, loss at [c * 16]); writes the weighted mean of log f_c into
// the log-focal parameter. One invocation.
layout(local_size_x = 1) in;

layout(std430, binding = 0) readonly buffer Losses { float v[]; } losses;
layout(std430, binding = 1) readonly buffer Candidates { float v[]; } cand;
layout(std430, binding = 2) buffer Params { float v[]; } prm;
layout(push_constant) uniform Push { int count; int focalIndex; float sharpness; } pc;

void main()
{
    float emin = 3.4e38;
    for (int c = 0; c < pc.count; c++) emin = min(emin, losses.v[c * 16]);
    float den = max(emin, 1e-30), sw = 0.0, sf = 0.0;
    for (int c = 0; c < pc.count; c++)
    {
        float w = exp(-pc.sharpness * (losses.v[c * 16] / den - 1.0));
        sw += w; sf += w * log(cand.v[c]);
    }
    prm.v[pc.focalIndex] = sf / sw;
}
