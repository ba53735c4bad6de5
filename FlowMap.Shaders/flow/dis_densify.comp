#version 450
// Dense inverse search, densification step (Kroeger et al. 2016, eq. 3): the flow of pixel x is the weighted mean of
// the flows u_p of every patch p that covers x, weight 1 / max(|I1(x + u_p) - I0(x)|, minDiff) (patches that explain
// this pixel's intensity win; patch geometry as in dis_search.comp).
// feat0: vec4[h, w] (I0 in x), quad1: vec4[h, w] (flow_prep.comp); patches: vec2[gridHeight, gridWidth]; out: vec2[h, w], pixels.
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Feat0 { vec4 f[]; } feat0;
layout(std430, binding = 1) readonly buffer Quad1 { vec4 q[]; } quad1;
layout(std430, binding = 2) readonly buffer Patches { vec2 f[]; } patches;
layout(std430, binding = 3) writeonly buffer Out { vec2 f[]; } outFlow;
layout(push_constant) uniform Push
{
    int width; int height; int patchSize; int stride; int gridWidth; int gridHeight; float minDiff;
} pc;

FLOWMAP_BILINEAR_QUAD(sampleI1, quad1.q)

// First grid index whose patch may cover coordinate x (patch start min(p * S, size - P) <= x < start + P).
int firstPatch(int x, int grid) { return min(max(0, (x - pc.patchSize + pc.stride) / pc.stride), grid - 1); }

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int P = pc.patchSize, S = pc.stride;
    float t = feat0.f[y * pc.width + x].x;
    vec2 sum = vec2(0.0);
    float wsum = 0.0;
    for (int py = firstPatch(y, pc.gridHeight); py < pc.gridHeight; py++)
    {
        int oy = min(py * S, pc.height - P);
        if (oy > y) break;
        if (oy + P <= y) continue;
        for (int px = firstPatch(x, pc.gridWidth); px < pc.gridWidth; px++)
        {
            int ox = min(px * S, pc.width - P);
            if (ox > x) break;
            if (ox + P <= x) continue;
            vec2 u = patches.f[py * pc.gridWidth + px];
            float d = abs(sampleI1(vec2(x, y) + u, pc.width, pc.height) - t);
            float w = 1.0 / max(d, pc.minDiff);
            sum += w * u; wsum += w;
        }
    }
    outFlow.f[y * pc.width + x] = wsum > 0.0 ? finite2(sum / wsum) : vec2(0.0);
}
