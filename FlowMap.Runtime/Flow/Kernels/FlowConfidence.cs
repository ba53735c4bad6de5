using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Flow.Kernels
{
    /// <summary>Per-pixel flow confidence (forward-backward consistency x photometric agreement), FlowMap.Shaders/flow/flow_confidence.comp.</summary>
    internal static class FlowConfidence
    {
        public const string Shader = "flow_confidence.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height; public float FbAbs, FbRel, SigmaPhoto; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage feat0, GpuImage quad1, GpuImage forward, GpuImage backward, GpuImage conf, in Push push)
        {
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(push.Width, k.LocalX), ComputeKernel.Groups(push.Height, k.LocalY), 1,
                push, feat0.Buffer, quad1.Buffer, forward.Buffer, backward.Buffer, conf.Buffer);
        }

        public static double[] Reference(ReadOnlySpan<float> i0, ReadOnlySpan<float> i1, ReadOnlySpan<float> fwd, ReadOnlySpan<float> bwd, Push pc)
        {
            int w = pc.Width, h = pc.Height;
            var c = new double[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x;
                    // The sample position x + u as the kernel forms it (a float32 sum): inside/outside is decided on it, and
                    // on random test fields half an ulp of position (7.6e-6 px at x ~ 130) moves a sample by up to 1e-4.
                    double u = fwd[2 * i], v = fwd[2 * i + 1], px = (float)x + fwd[2 * i], py = (float)y + fwd[2 * i + 1];
                    double bu = FlowSampling.Bilinear(bwd, w, h, 2, 0, px, py), bv = FlowSampling.Bilinear(bwd, w, h, 2, 1, px, py);
                    double ex = u + bu, ey = v + bv;
                    double tau2 = (double)pc.FbAbs * pc.FbAbs + (double)pc.FbRel * pc.FbRel * (u * u + v * v + bu * bu + bv * bv);
                    double c1 = Math.Exp(-(ex * ex + ey * ey) / (2 * tau2));
                    double r = FlowSampling.Bilinear(i1, w, h, 1, 0, px, py) - i0[i];
                    double c2 = Math.Exp(-r * r / (2.0 * pc.SigmaPhoto * pc.SigmaPhoto));
                    c[i] = FlowSampling.Inside(px, py, w, h) ? Math.Clamp(c1 * c2, 0, 1) : 0;
                }
            return c;
        }
    }
}
