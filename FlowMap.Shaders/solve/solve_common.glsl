// Shared definitions of the solver kernels (FlowMap.Runtime/Solve/GpuSolverKernels.cs; CPU reference
// FlowMap.Runtime/Solve/SolverReference.cs and Procrustes.cs). Images are float[H, W] row-major; pair k relates
// frame k and k + 1; the pose of pair k maps camera-k points to camera-(k+1) points: Y = R X + t.
#ifndef FLOWMAP_SOLVE_COMMON_GLSL
#define FLOWMAP_SOLVE_COMMON_GLSL

// One fit record per Procrustes problem, 32 floats:
// [0..8] R row-major, [9..11] t, [12..14] muX, [15..17] muY, [18] W, [19..27] V (eigenvectors of M = R C as
// columns, row-major), [28..30] eigenvalues of M, [31] unused.
#define FIT_STRIDE 32
#define FIT_R 0
#define FIT_T 9
#define FIT_MUX 12
#define FIT_MUY 15
#define FIT_W 18
#define FIT_V 19
#define FIT_L 28

// Reduced flow-loss record per pair (16 floats): [0] loss, [1..9] dL/dR, [10..12] dL/dt, [13] dL/df (pixels).
#define LOSS_STRIDE 16
// Procrustes backward record per pair (16 floats): [0..8] dL/dC, [9..11] dL/dmuX, [12..14] dL/dmuY, [15] 1/W.
#define BACK_STRIDE 16

// Fraction of the source depth below which a transformed point counts as behind the camera (SolverReference.MinDepthRatio).
#define MIN_DEPTH_RATIO 0.01

// Cyclic Jacobi on a symmetric 3x3 / 4x4 matrix, fixed sweep count (Procrustes.cs: Jacobi.Symmetric).
#define JACOBI_SWEEPS 12

void jacobi3(inout float m[9], out float v[9])
{
    for (int i = 0; i < 9; i++) v[i] = (i % 4 == 0) ? 1.0 : 0.0;
    for (int sweep = 0; sweep < JACOBI_SWEEPS; sweep++)
        for (int p = 0; p < 3; p++)
            for (int q = p + 1; q < 3; q++)
            {
                float apq = m[p * 3 + q];
                if (apq == 0.0) continue;
                float theta = (m[q * 3 + q] - m[p * 3 + p]) / (2.0 * apq);
                float t = theta == 0.0 ? 1.0 : sign(theta) / (abs(theta) + sqrt(theta * theta + 1.0));
                float c = inversesqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < 3; k++) { float a = m[k * 3 + p], b = m[k * 3 + q]; m[k * 3 + p] = c * a - s * b; m[k * 3 + q] = s * a + c * b; }
                for (int k = 0; k < 3; k++) { float a = m[p * 3 + k], b = m[q * 3 + k]; m[p * 3 + k] = c * a - s * b; m[q * 3 + k] = s * a + c * b; }
                for (int k = 0; k < 3; k++) { float a = v[k * 3 + p], b = v[k * 3 + q]; v[k * 3 + p] = c * a - s * b; v[k * 3 + q] = s * a + c * b; }
            }
}

void jacobi4(inout float m[16], out float v[16])
{
    for (int i = 0; i < 16; i++) v[i] = (i % 5 == 0) ? 1.0 : 0.0;
    for (int sweep = 0; sweep < JACOBI_SWEEPS; sweep++)
        for (int p = 0; p < 4; p++)
            for (int q = p + 1; q < 4; q++)
            {
                float apq = m[p * 4 + q];
                if (apq == 0.0) continue;
                float theta = (m[q * 4 + q] - m[p * 4 + p]) / (2.0 * apq);
                float t = theta == 0.0 ? 1.0 : sign(theta) / (abs(theta) + sqrt(theta * theta + 1.0));
                float c = inversesqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < 4; k++) { float a = m[k * 4 + p], b = m[k * 4 + q]; m[k * 4 + p] = c * a - s * b; m[k * 4 + q] = s * a + c * b; }
                for (int k = 0; k < 4; k++) { float a = m[p * 4 + k], b = m[q * 4 + k]; m[p * 4 + k] = c * a - s * b; m[q * 4 + k] = s * a + c * b; }
                for (int k = 0; k < 4; k++) { float a = v[k * 4 + p], b = v[k * 4 + q]; v[k * 4 + p] = c * a - s * b; v[k * 4 + q] = s * a + c * b; }
            }
}

// Huber on the end-point error in units of delta (SolverReference.Huber): returns h, writes dh/dr.
float huber(vec2 r, float delta, out vec2 g)
{
    float n = length(r);
    float e = n / delta;
    if (e < 1.0) { g = r / (delta * delta); return 0.5 * e * e; }
    g = r / (delta * n);
    return e - 0.5;
}

// Bilinear sample position inside [0, w-1] x [0, h-1]: base tap and fractions (SolverReference.SampleInside).
bool sampleInside(int w, int h, vec2 p, out int x0, out int y0, out float ax, out float ay)
{
    x0 = 0; y0 = 0; ax = 0.0; ay = 0.0;
    if (!(p.x >= 0.0 && p.y >= 0.0 && p.x <= float(w - 1) && p.y <= float(h - 1))) return false;
    x0 = min(int(p.x), max(0, w - 2)); y0 = min(int(p.y), max(0, h - 2));
    ax = p.x - float(x0); ay = p.y - float(y0);
    return true;
}

#endif
