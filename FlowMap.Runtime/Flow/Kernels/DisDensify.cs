using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Flow.Kernels
{
    /// <summary>Dense inverse search, densification (photometric-error weighted mean of overlapping patch flows), FlowMap.Shaders/flow/dis_densify.comp.</summary>
    internal static class DisDensify
    {
        public const string Shader = "dis_densify.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height, PatchSize, Stride, GridWidth, GridHeight; public float MinDiff; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage feat0, GpuImage quad1, GpuImage patches, GpuImage dst, in Push push)
        {
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(push.Width, k.LocalX), ComputeKernel.Groups(push.Height, k.LocalY), 1,
                push, feat0.Buffer, quad1.Buffer, patches.Buffer, dst.Buffer);
        }

        /// <summary>double[h, w, 2]. Plain form: every patch is tested for coverage.</summary>
        public static double[] Reference(ReadOnlySpan<float> i0, ReadOnlySpan<float> i1, ReadOnlySpan<float> patches, Push pc)
        {
            int w = pc.Width, h = pc.Height, P = pc.PatchSize;
            var sum = new double[w * h * 2];
            var wsum = new double[w * h];
            for (int py = 0; py < pc.GridHeight; py++)
                for (int px = 0; px < pc.GridWidth; px++)
                {
                    int ox = Math.Min(px * pc.Stride, w - P), oy = Math.Min(py * pc.Stride, h - P);
                    float fu = patches[2 * (py * pc.GridWidth + px)], fv = patches[2 * (py * pc.GridWidth + px) + 1];
                    double ux = fu, uy = fv;
                    for (int y = oy; y < oy + P; y++)
                        for (int x = ox; x < ox + P; x++)
                        {
                            // Sample position x + u_p as the kernel forms it (a float32 sum); the rest in double.
                            double d = Math.Abs(FlowSampling.Bilinear(i1, w, h, 1, 0, (float)x + fu, (float)y + fv) - i0[y * w + x]);
                            double wt = 1.0 / Math.Max(d, pc.MinDiff);
                            int i = y * w + x;
                            sum[2 * i] += wt * ux; sum[2 * i + 1] += wt * uy; wsum[i] += wt;
                        }
                }
            for (int i = 0; i < w * h; i++)
            {
                sum[2 * i] = wsum[i] > 0 ? sum[2 * i] / wsum[i] : 0;
                sum[2 * i + 1] = wsum[i] > 0 ? sum[2 * i + 1] / wsum[i] : 0;
            }
            return sum;
        }
    }
}
