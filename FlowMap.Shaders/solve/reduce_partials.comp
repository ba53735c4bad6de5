#version 450
// Fixed-order sums of per-work-group partial records: src float[rows, groups, width] -> dst float[rows, width].
// One work group of 64 per (column, row): invocation l sums groups l, l + 64, ... serially, then invocation 0 sums
// the 64 values serially (deterministic).
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Src { float v[]; } src;
layout(std430, binding = 1) writeonly buffer Dst { float v[]; } dst;
layout(push_constant) uniform Push { int groups; int width; } pc;

shared float partial[64];

void main()
{
    uint lid = gl_LocalInvocationID.x;
    int col = int(gl_WorkGroupID.x), row = int(gl_WorkGroupID.y);
    float acc = 0.0;
    for (int g = int(lid); g < pc.groups; g += 64) acc += src.v[(row * pc.groups + g) * pc.width + col];
    partial[lid] = acc;
    barrier();
    if (lid == 0u)
    {
        float s = 0.0;
        for (int i = 0; i < 64; i++) s += partial[i];
        dst.v[row * pc.width + col] = s;
    }
}
