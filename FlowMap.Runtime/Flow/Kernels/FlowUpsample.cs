using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Flow.Kernels
{
    /// <summary>Flow resampling between pyramid levels (pixel-centre aligned, flow scaled), FlowMap.Shaders/flow/flow_upsample.comp.</summary>
    internal static class FlowUpsample
    {
        public const string Shader = "flow_upsample.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int SrcWidth, SrcHeight, DstWidth, DstHeight; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage src, GpuImage dst)
        {
            if (src.Channels != 2 || dst.Channels != 2) throw new ArgumentException("Flow fields have 2 channels.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(dst.Width, k.LocalX), ComputeKernel.Groups(dst.Height, k.LocalY), 1,
                new Push { SrcWidth = src.Width, SrcHeight = src.Height, DstWidth = dst.Width, DstHeight = dst.Height }, src.Buffer, dst.Buffer);
        }

        /// <summary>double[dh, dw, 2].</summary>
        public static double[] Reference(ReadOnlySpan<float> src, int sw, int sh, int dw, int dh)
        {
            var dst = new double[dw * dh * 2];
            double sx = (double)sw / dw, sy = (double)sh / dh;
            for (int y = 0; y < dh; y++)
                for (int x = 0; x < dw; x++)
                {
                    double px = (x + 0.5) * sx - 0.5, py = (y + 0.5) * sy - 0.5;
                    dst[2 * (y * dw + x)] = FlowSampling.Bilinear(src, sw, sh, 2, 0, px, py) / sx;
                    dst[2 * (y * dw + x) + 1] = FlowSampling.Bilinear(src, sw, sh, 2, 1, px, py) / sy;
                }
            return dst;
        }
    }
}
