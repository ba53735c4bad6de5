// The learnable depth of a frame (FlowMap.Runtime/Depth/InverseDepthGrid.cs): g(u) = fine bilinear + coarse bilinear
// upsampling of the log-inverse-depth grids; q = exp(g) or pos(exp(s) d + b) exp(g); z = 1 / q.
#ifndef FLOWMAP_DEPTH_GRID_GLSL
#define FLOWMAP_DEPTH_GRID_GLSL
#define POS_EPS 1e-3
#define COARSE_RATIO 4

float bilinearGrid(int base, int gw, int gh, int cell, int x, int y)
{
    float gx = float(x) / float(cell), gy = float(y) / float(cell);
    int a0 = min(int(gx), gw - 1), b0 = min(int(gy), gh - 1);
    int a1 = min(a0 + 1, gw - 1), b1 = min(b0 + 1, gh - 1);
    float fx = gx - float(a0), fy = gy - float(b0);
    return (prm.v[base + b0 * gw + a0] * (1.0 - fx) + prm.v[base + b0 * gw + a1] * fx) * (1.0 - fy)
         + (prm.v[base + b1 * gw + a0] * (1.0 - fx) + prm.v[base + b1 * gw + a1] * fx) * fy;
}

float posf(float x) { return x >= POS_EPS ? x : POS_EPS * exp(x / POS_EPS - 1.0); }
float posDerivative(float x) { return x >= POS_EPS ? 1.0 : exp(x / POS_EPS - 1.0); }
#endif
