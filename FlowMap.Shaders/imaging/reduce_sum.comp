#version 450
// Parallel sum: each work group of 256 invocations sums a contiguous chunk of `chunk` values of src
// (strided per invocation, then a shared-memory tree) and writes one partial sum to dst[group].
// The dispatcher repeats the pass on the partial sums until one value is left.
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer Src { float v[]; } src;
layout(std430, binding = 1) writeonly buffer Dst { float v[]; } dst;
layout(push_constant) uniform Push { int count; int chunk; } pc;

shared float partial[256];

void main()
{
    uint lid = gl_LocalInvocationID.x;
    int begin = int(gl_WorkGroupID.x) * pc.chunk;
    int end = min(begin + pc.chunk, pc.count);
    float acc = 0.0;
    for (int i = begin + int(lid); i < end; i += 256) acc += src.v[i];
    partial[lid] = acc;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1)
    {
        if (lid < s) partial[lid] += partial[lid + s];
        barrier();
    }
    if (lid == 0u) dst.v[gl_WorkGroupID.x] = partial[0];
}
