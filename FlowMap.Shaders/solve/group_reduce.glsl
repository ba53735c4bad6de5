// Work-group reduction of RED_WIDTH values per invocation into one partial record per group, in a fixed order:
// every invocation first accumulates its TILE x TILE samples serially, then one barrier, then invocation c < RED_WIDTH
// sums column c of the 256 invocation values serially (one barrier instead of a log-depth tree: cheap on CPU drivers
// such as lavapipe, still fine on GPUs for these small records). Requires a 16 x 16 work group; a group covers
// (16 TILE) x (16 TILE) samples. Include after defining RED_WIDTH and a buffer `partials` (float[problems, groups, RED_WIDTH]).
#ifndef FLOWMAP_GROUP_REDUCE_GLSL
#define FLOWMAP_GROUP_REDUCE_GLSL
#define TILE 4
shared float red[RED_WIDTH * 256];

// Sample (sx, sy) of tile step (i, j) handled by this invocation.
ivec2 tileSample(int i, int j)
{
    return ivec2(int(gl_WorkGroupID.x) * 16 * TILE + int(gl_LocalInvocationID.x) + 16 * i,
                 int(gl_WorkGroupID.y) * 16 * TILE + int(gl_LocalInvocationID.y) + 16 * j);
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
