#version 450
// The gradient entries that are sums: dL/dlog f = f * sum over pairs of (loss dL/df + Procrustes dL/df), and each
// frame's prior scale and shift. One invocation.
layout(local_size_x = 1) in;

layout(std430, binding = 0) readonly buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Losses { float v[]; } losses;
layout(std430, binding = 2) readonly buffer ProcF { float v[]; } procF;
layout(std430, binding = 3) readonly buffer PriorSums { float v[]; } priorSums;
layout(std430, binding = 4) buffer Grad { float v[]; } grad;
layout(push_constant) uniform Push { int pairs; int frames; int hasPrior; int throughPoses; int scaleBase; int focalIndex; } pc;

void main()
{
    float gf = 0.0;
    for (int k = 0; k < pc.pairs; k++)
    {
        gf += losses.v[k * 16 + 13];
        if (pc.throughPoses != 0) gf += procF.v[k];
    }
    grad.v[pc.focalIndex] = gf * exp(prm.v[pc.focalIndex]);
    if (pc.hasPrior != 0)
        for (int fr = 0; fr < pc.frames; fr++)
        {
            grad.v[pc.scaleBase + 2 * fr] = priorSums.v[2 * fr];
            grad.v[pc.scaleBase + 2 * fr + 1] = priorSums.v[2 * fr + 1];
        }
}
