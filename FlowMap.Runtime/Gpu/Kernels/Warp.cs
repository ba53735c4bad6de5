using System;
using System.Runtime.InteropServices;

namespace FlowMap.Gpu.Kernels
{
    /// <summary>Bilinear backward warp of an image by a flow field, FlowMap.Shaders/imaging/warp.comp.</summary>
    internal static class Warp
    {
        public const string Shader = "warp.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height; }

        /// <summary>dst(x, y) = src(x + u, y + v); valid = 1 where the sample lies inside the image.</summary>
        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage src, GpuImage flow, GpuImage dst, GpuImage valid)
        {
            if (flow.Channels != 2 || flow.Width != src.Width || flow.Height != src.Height) throw new ArgumentException("Flow must be 2 channels, the size of the image.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(src.Width, k.LocalX), ComputeKernel.Groups(src.Height, k.LocalY), 1,
                new Push { Width = src.Width, Height = src.Height }, src.Buffer, flow.Buffer, dst.Buffer, valid.Buffer);
        }

        /// <summary>Bilinear sample with clamp-to-edge at real-valued pixel coordinates (pixel centres at integers).</summary>
        public static double Sample(ReadOnlySpan<float> src, int width, int height, double px, double py)
        {
            px = Math.Clamp(px, 0, width - 1);
            py = Math.Clamp(py, 0, height - 1);
            int x0 = Math.Min((int)Math.Floor(px), width - 1), y0 = Math.Min((int)Math.Floor(py), height - 1);
            int x1 = Math.Min(x0 + 1, width - 1), y1 = Math.Min(y0 + 1, height - 1);
            double ax = px - x0, ay = py - y0;
            double top = src[y0 * width + x0] * (1 - ax) + src[y0 * width + x1] * ax;
            double bot = src[y1 * width + x0] * (1 - ax) + src[y1 * width + x1] * ax;
            return top * (1 - ay) + bot * ay;
        }

        public static (double[] Warped, double[] Valid) Reference(ReadOnlySpan<float> src, ReadOnlySpan<float> flow, int width, int height)
        {
            var dst = new double[width * height];
            var valid = new double[width * height];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int i = y * width + x;
                    double px = x + (double)flow[2 * i], py = y + (double)flow[2 * i + 1];
                    valid[i] = px >= 0 && py >= 0 && px <= width - 1 && py <= height - 1 ? 1 : 0;
                    dst[i] = Sample(src, width, height, px, py);
                }
            return (dst, valid);
        }
    }
}
