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

        /// <param name="coefA">vec4[h, w] (a11, a12, a22, b1).</param>
        /// <param name="coefB">vec2[h, w] (b2, s).</param>
        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage feat0, GpuImage feat1, GpuImage quad1, GpuImage flow, GpuImage coefA, GpuImage coefB, in Push push)
        {
            if (coefA.Channels != 4 || coefB.Channels != 2 || coefA.PixelCount != flow.PixelCount || coefB.PixelCount != flow.PixelCount)
                throw new ArgumentException("Coefficients: a 4-channel and a 2-channel image the size of the flow.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(push.Width, k.LocalX), ComputeKernel.Groups(push.Height, k.LocalY), 1,
                push, feat0.Buffer, feat1.Buffer, quad1.Buffer, flow.Buffer, coefA.Buffer, coefB.Buffer);
        }

        /// <summary>double[h, w, 6]: a11, a12, a22, b1, b2, s (the GPU splits them as coefA = first four, coefB = last two).</summary>
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

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage coefA, GpuImage coefB, GpuImage flow, int parity, float omega)
        {
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups((flow.Width + 1) / 2, k.LocalX), ComputeKernel.Groups(flow.Height, k.LocalY), 1,
                new Push { Width = flow.Width, Height = flow.Height, Parity = parity, Omega = omega }, coefA.Buffer, coefB.Buffer, flow.Buffer);
        }

        /// <summary>Updates <paramref name="flow"/> (double[h, w, 2]) in place: the pixels of one colour.</summary>
        public static void Reference(ReadOnlySpan<double> coef, double[] flow, int w, int h, int parity, double omega)
        {
            for (int y = 0; y < h; y++)
                for (int x = ((y + parity) & 1); x < w; x += 2)
                {
                    int i = y * w + x;
                    // Edge weights: s of the pixel whose forward edge it is.
                    double s = coef[6 * i + 5], ws = 0, ax = 0, ay = 0;
                    if (x > 0) { double wt = coef[6 * (i - 1) + 5]; ws += wt; ax += wt * flow[2 * (i - 1)]; ay += wt * flow[2 * (i - 1) + 1]; }
                    if (x < w - 1) { ws += s; ax += s * flow[2 * (i + 1)]; ay += s * flow[2 * (i + 1) + 1]; }
                    if (y > 0) { double wt = coef[6 * (i - w) + 5]; ws += wt; ax += wt * flow[2 * (i - w)]; ay += wt * flow[2 * (i - w) + 1]; }
                    if (y < h - 1) { ws += s; ax += s * flow[2 * (i + w)]; ay += s * flow[2 * (i + w) + 1]; }
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
