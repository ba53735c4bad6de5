using System;
using System.Runtime.InteropServices;

namespace FlowMap.Gpu.Kernels
{
    /// <summary>Sobel gradient / 8, clamp-to-edge, output (gx, gy) interleaved, FlowMap.Shaders/imaging/gradient.comp.</summary>
    internal static class Gradient
    {
        public const string Shader = "gradient.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage src, GpuImage dst)
        {
            if (dst.Channels != 2 || dst.Width != src.Width || dst.Height != src.Height) throw new ArgumentException("Gradient target must be 2 channels, same size.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(src.Width, k.LocalX), ComputeKernel.Groups(src.Height, k.LocalY), 1,
                new Push { Width = src.Width, Height = src.Height }, src.Buffer, dst.Buffer);
        }

        /// <summary>double[height, width, 2] interleaved (gx, gy).</summary>
        public static double[] Reference(float[] src, int width, int height)
        {
            double At(int xx, int yy) => src[Math.Clamp(yy, 0, height - 1) * width + Math.Clamp(xx, 0, width - 1)];
            var dst = new double[width * height * 2];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double gx = At(x + 1, y - 1) + 2 * At(x + 1, y) + At(x + 1, y + 1) - At(x - 1, y - 1) - 2 * At(x - 1, y) - At(x - 1, y + 1);
                    double gy = At(x - 1, y + 1) + 2 * At(x, y + 1) + At(x + 1, y + 1) - At(x - 1, y - 1) - 2 * At(x, y - 1) - At(x + 1, y - 1);
                    dst[2 * (y * width + x)] = gx / 8;
                    dst[2 * (y * width + x) + 1] = gy / 8;
                }
            return dst;
        }
    }
}
