#version 450
// z-depth of every pixel of every frame from the parameters (InverseDepthGrid.Forward).
// prm: float[params] (layout SolverProblem); prior: float[N, H, W] (bound to a dummy without a prior); z: float[N, H, W].
#include "../common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Prior { float v[]; } prior;
layout(std430, binding = 2) writeonly buffer Depth { float v[]; } depth;
layout(push_constant) uniform Push { int width; int height; int cell; int gw; int gh; int cw; int ch; int nodes; int hasPrior; int scaleBase; } pc;

#include "depth_grid.glsl"

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y), fr = int(gl_GlobalInvocationID.z);
    if (x >= pc.width || y >= pc.height) return;
    int base = fr * pc.nodes;
    float g = bilinearGrid(base, pc.gw, pc.gh, pc.cell, x, y) + bilinearGrid(base + pc.gw * pc.gh, pc.cw, pc.ch, pc.cell * COARSE_RATIO, x, y);
    float q = exp(g);
    int i = (fr * pc.height + y) * pc.width + x;
    if (pc.hasPrior != 0) q *= posf(exp(prm.v[pc.scaleBase + 2 * fr]) * prior.v[i] + prm.v[pc.scaleBase + 2 * fr + 1]);
    depth.v[i] = 1.0 / q;
}
