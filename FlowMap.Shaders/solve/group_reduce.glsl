// Work-group reduction of RED_WIDTH values per invocation into one partial record per group, in a fixed order:
// every invocation first accumulates its samples serially, then one barrier, then invocation c < RED_WIDTH
// sums column c of the 256 invocation values serially (one barrier instead of a log-depth tree: cheap on CPU drivers
// such as lavapipe, still fine on GPUs for these small records). Requires a 16 x 16 work group and a one-dimensional
// grid of groups (x; z is the problem). The n samples of a problem, in row order, are split evenly over the groups:
// group g takes the run of 256 s consecutive samples from 256 s g, invocation l every 256th of it from l (s = samples per
// invocation, at most 16 with the host's group count, SolverKernels.ReduceGroups). Row order keeps the groups' work even
// whatever the image's shape; 64 x 64 tiles left up to half of each group idle at the keyframe size (106 x 80).
// Include after defining RED_WIDTH and a buffer `partials` (float[problems, groups, RED_WIDTH]).
#ifndef FLOWMAP_GROUP_REDUCE_GLSL
#define FLOWMAP_GROUP_REDUCE_GLSL
shared float red[RED_WIDTH * 256];

// Samples per invocation for n samples over the dispatch's groups.
int groupSamples(int n)
{
    int perStep = 256 * int(gl_NumWorkGroups.x);
    return (n + perStep - 1) / perStep;
}

// Index of this invocation's sample k of s (>= n past the end).
int groupSample(int k, int s)
{
    return (int(gl_WorkGroupID.x) * s + k) * 256 + int(gl_LocalInvocationIndex);
}

void groupReduceStore(float vals[RED_WIDTH], int problem)
{
    uint lid = gl_LocalInvocationIndex;
    for (int c = 0; c < RED_WIDTH; c++) red[c * 256 + int(lid)] = vals[c];
    barrier();
    if (lid < uint(RED_WIDTH))
    {
        float s = 0.0;
        for (int i = 0; i < 256; i++) s += red[int(lid) * 256 + i];
        int groups = int(gl_NumWorkGroups.x * gl_NumWorkGroups.y);
        int g = int(gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x);
        partials.v[(problem * groups + g) * RED_WIDTH + int(lid)] = s;
    }
}
#endif
