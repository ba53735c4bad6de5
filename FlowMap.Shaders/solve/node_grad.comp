#version 450
// Gradient of every grid node (both levels, all frames): the weighted sum of dL/dg over the node's support (the transpose
// of the bilinear upsampling, gathered in a fixed order) plus the gradient of the second-difference smoothness
// lam * sum d^2 (SolverReference.Smoothness). Also writes the smoothness terms centred on the node (for the loss).
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Params { float v[]; } prm;
layout(std430, binding = 1) readonly buffer Gg { float v[]; } gg;
layout(std430, binding = 2) buffer Grad { float v[]; } grad;
layout(std430, binding = 3) writeonly buffer Smooth { float v[]; } smoothTerms;
layout(push_constant) uniform Push { int width; int height; int frames; int cell; int gw; int gh; int cw; int ch; int nodes; float lam; } pc;

#define COARSE_RATIO 4

float th(int base, int gw, int a, int b) { return prm.v[base + b * gw + a]; }

// Second difference centred at (a, b) along x (axis 0) or y (axis 1); 0 when the centre has no two neighbours.
float d2(int base, int gw, int gh, int a, int b, int axis)
{
    if (axis == 0) return (a >= 1 && a + 1 < gw) ? th(base, gw, a - 1, b) - 2.0 * th(base, gw, a, b) + th(base, gw, a + 1, b) : 0.0;
    return (b >= 1 && b + 1 < gh) ? th(base, gw, a, b - 1) - 2.0 * th(base, gw, a, b) + th(base, gw, a, b + 1) : 0.0;
}

void main()
{
    int n = int(gl_GlobalInvocationID.x);
    if (n >= pc.frames * pc.nodes) return;
    int fr = n / pc.nodes, local = n - fr * pc.nodes;
    int fine = pc.gw * pc.gh;
    int gw, gh, cell, base, idx;
    if (local < fine) { gw = pc.gw; gh = pc.gh; cell = pc.cell; base = fr * pc.nodes; idx = local; }
    else { gw = pc.cw; gh = pc.ch; cell = pc.cell * COARSE_RATIO; base = fr * pc.nodes + fine; idx = local - fine; }
    int a = idx % gw, b = idx / gw;
    // 1. Transpose of the upsampling.
    int x0 = max(0, (a - 1) * cell + 1), x1 = min(pc.width - 1, (a + 1) * cell - 1);
    int y0 = max(0, (b - 1) * cell + 1), y1 = min(pc.height - 1, (b + 1) * cell - 1);
    float s = 0.0;
    int P = pc.width * pc.height;
    for (int y = y0; y <= y1; y++)
    {
        float wy = 1.0 - abs(float(y) / float(cell) - float(b));
        if (wy <= 0.0) continue;
        for (int x = x0; x <= x1; x++)
        {
            float wx = 1.0 - abs(float(x) / float(cell) - float(a));
            if (wx > 0.0) s += wx * wy * gg.v[fr * P + y * pc.width + x];
        }
    }
    // 2. Smoothness: d/dtheta(a,b) of lam sum d^2 over the centres (a-1, a, a+1) along x and (b-1, b, b+1) along y.
    float gs = 0.0;
    gs += 2.0 * pc.lam * (d2(base, gw, gh, a - 1, b, 0) - 2.0 * d2(base, gw, gh, a, b, 0) + d2(base, gw, gh, a + 1, b, 0));
    gs += 2.0 * pc.lam * (d2(base, gw, gh, a, b - 1, 1) - 2.0 * d2(base, gw, gh, a, b, 1) + d2(base, gw, gh, a, b + 1, 1));
    grad.v[n] = s + gs;
    float dx = d2(base, gw, gh, a, b, 0), dy = d2(base, gw, gh, a, b, 1);
    smoothTerms.v[n] = pc.lam * (dx * dx + dy * dy);
}
