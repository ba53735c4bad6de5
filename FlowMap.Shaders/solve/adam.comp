#version 450
// Adam (Kingma and Ba 2015; reference Solve/CpuWindowSolver.cs: Adam.Step): per parameter with rate[i] > 0 (0 = frozen),
// step size lr * rate[i]; c1 = 1 - beta1^t, c2 = 1 - beta2^t from the dispatcher.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Grad { float v[]; } grad;
layout(std430, binding = 2) buffer M { float v[]; } m;
layout(std430, binding = 3) buffer V { float v[]; } vv;
layout(std430, binding = 4) readonly buffer Rate { float v[]; } rate;
layout(push_constant) uniform Push { int count; float lr; float beta1; float beta2; float c1; float c2; float eps; } pc;

void main()
{
    int i = int(gl_GlobalInvocationID.x);
    if (i >= pc.count || rate.v[i] <= 0.0) return;
    float g = grad.v[i];
    float mi = pc.beta1 * m.v[i] + (1.0 - pc.beta1) * g;
    float vi = pc.beta2 * vv.v[i] + (1.0 - pc.beta2) * g * g;
    m.v[i] = mi; vv.v[i] = vi;
    prm.v[i] -= pc.lr * rate.v[i] * (mi / pc.c1) / (sqrt(vi / pc.c2) + pc.eps);
}
