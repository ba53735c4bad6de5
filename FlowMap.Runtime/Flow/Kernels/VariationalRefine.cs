using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Flow.Kernels
{
    /// <summary>
    /// Variational refinement: linearisation (FlowMap.Shaders/flow/var_data.comp) and red-black SOR sweeps
    /// (FlowMap.Shaders/flow/var_sor.comp). See the shaders for the energy.
    /// </summary>
    internal static class VarData
    {
        public const string Shader = "var_data.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height; public float Delta, Alpha, EpsData, EpsSmooth, Edge; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage i0, GpuImage i1, GpuImage grad0, GpuImage grad1, GpuImage flow, GpuBuffer coef, in Push push)
        {
            if (coef.SizeBytes < (long)push.Width * push.Height * 6 * sizeof(float)) throw new ArgumentException("Coefficient buffer too small.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(push.Width, k.LocalX), ComputeKernel.Groups(push.Height, k.LocalY), 1,
                push, i0.Buffer, i1.Buffer, grad0.Buffer, grad1.Buffer, flow.Buffer, coef);
        }

        /// <summary>double[h, w, 6].</summary>
        public static double[] Reference(ReadOnlySpan<float> i0, ReadOnlySpan<float> i1, ReadOnlySpan<float> grad0, ReadOnlySpan<float> grad1, ReadOnlySpan<float> flow, Push pc)
        {
            int w = pc.Width, h = pc.Height;
            var c = new double[w * h * 6];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x;
                    double u = flow[2 * i], v = flow[2 * i + 1];
                    double px = x + u, py = y + v;
                    double iz = FlowSampling.Bilinear(i1, w, h, 1, 0, px, py) - i0[i];
                    double g0x = grad0[2 * i], g0y = grad0[2 * i + 1];
                    double gx = 0.5 * (g0x + FlowSampling.Bilinear(grad1, w, h, 2, 0, px, py));
                    double gy = 0.5 * (g0y + FlowSampling.Bilinear(grad1, w, h, 2, 1, px, py));
                    double d = FlowSampling.Inside(px, py, w, h) ? pc.Delta / Math.Sqrt(iz * iz + (double)pc.EpsData * pc.EpsData) : 0;
                    double cc = gx * u + gy * v - iz;
                    int xr = Math.Min(x + 1, w - 1), yd = Math.Min(y + 1, h - 1);
                    double uxx = flow[2 * (y * w + xr)] - u, vxx = flow[2 * (y * w + xr) + 1] - v;
                    double uyy = flow[2 * (yd * w + x)] - u, vyy = flow[2 * (yd * w + x) + 1] - v;
                    double s = pc.Alpha * Math.Exp(-pc.Edge * Math.Sqrt(g0x * g0x + g0y * g0y))
                               / Math.Sqrt(uxx * uxx + vxx * vxx + uyy * uyy + vyy * vyy + (double)pc.EpsSmooth * pc.EpsSmooth);
                    c[6 * i] = d * gx * gx; c[6 * i + 1] = d * gx * gy; c[6 * i + 2] = d * gy * gy;
                    c[6 * i + 3] = d * gx * cc; c[6 * i + 4] = d * gy * cc; c[6 * i + 5] = s;
                }
            return c;
        }
    }

    /// <summary>One red-black SOR half-sweep of the variational refinement, FlowMap.Shaders/flow/var_sor.comp.</summary>
    internal static class VarSor
    {
        public const string Shader = "var_sor.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height, Parity; public float Omega; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuBuffer coef, GpuImage flow, int parity, float omega)
        {
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups((flow.Width + 1) / 2, k.LocalX), ComputeKernel.Groups(flow.Height, k.LocalY), 1,
                new Push { Width = flow.Width, Height = flow.Height, Parity = parity, Omega = omega }, coef, flow.Buffer);
        }

        /// <summary>Updates <paramref name="flow"/> (double[h, w, 2]) in place: the pixels of one colour.</summary>
        public static void Reference(ReadOnlySpan<double> coef, double[] flow, int w, int h, int parity, double omega)
        {
            for (int y = 0; y < h; y++)
                for (int x = ((y + parity) & 1); x < w; x += 2)
                {
                    int i = y * w + x;
                    double s = coef[6 * i + 5], ws = 0, ax = 0, ay = 0;
                    Span<int> nb = stackalloc int[4];
                    int count = 0;
                    if (x > 0) nb[count++] = i - 1;
                    if (x < w - 1) nb[count++] = i + 1;
                    if (y > 0) nb[count++] = i - w;
                    if (y < h - 1) nb[count++] = i + w;
                    for (int k = 0; k < count; k++)
                    {
                        int j = nb[k];
                        double wt = 0.5 * (s + coef[6 * j + 5]);
                        ws += wt; ax += wt * flow[2 * j]; ay += wt * flow[2 * j + 1];
                    }
                    double a11 = coef[6 * i] + ws, a12 = coef[6 * i + 1], a22 = coef[6 * i + 2] + ws;
                    double b0 = coef[6 * i + 3] + ax, b1 = coef[6 * i + 4] + ay;
                    double det = a11 * a22 - a12 * a12;
                    if (det > 1e-20)
                    {
                        double su = (a22 * b0 - a12 * b1) / det, sv = (a11 * b1 - a12 * b0) / det;
                        flow[2 * i] += omega * (su - flow[2 * i]);
                        flow[2 * i + 1] += omega * (sv - flow[2 * i + 1]);
                    }
                }
        }
    }
}
