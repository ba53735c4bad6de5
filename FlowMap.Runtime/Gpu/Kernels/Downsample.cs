using System;
using System.Runtime.InteropServices;

namespace FlowMap.Gpu.Kernels
{
    /// <summary>2x2 box downsample to ceil(w/2) x ceil(h/2), FlowMap.Shaders/imaging/downsample2x.comp.</summary>
    internal static class Downsample
    {
        public const string Shader = "downsample2x.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int SrcWidth, SrcHeight, DstWidth, DstHeight; }

        public static (int Width, int Height) SizeOf(int width, int height) => ((width + 1) / 2, (height + 1) / 2);

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage src, GpuImage dst)
        {
            var (w, h) = SizeOf(src.Width, src.Height);
            if (dst.Width != w || dst.Height != h) throw new ArgumentException($"Downsample of {src.Width}x{src.Height} needs a {w}x{h} target, got {dst.Width}x{dst.Height}.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(w, k.LocalX), ComputeKernel.Groups(h, k.LocalY), 1,
                new Push { SrcWidth = src.Width, SrcHeight = src.Height, DstWidth = w, DstHeight = h }, src.Buffer, dst.Buffer);
        }

        public static double[] Reference(ReadOnlySpan<float> src, int width, int height)
        {
            var (w, h) = SizeOf(width, height);
            var dst = new double[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int x0 = Math.Min(2 * x, width - 1), x1 = Math.Min(2 * x + 1, width - 1);
                    int y0 = Math.Min(2 * y, height - 1), y1 = Math.Min(2 * y + 1, height - 1);
                    dst[y * w + x] = 0.25 * ((double)src[y0 * width + x0] + src[y0 * width + x1] + src[y1 * width + x0] + src[y1 * width + x1]);
                }
            return dst;
        }
    }
}
