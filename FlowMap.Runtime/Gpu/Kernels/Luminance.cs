using System;
using System.Runtime.InteropServices;

namespace FlowMap.Gpu.Kernels
{
    /// <summary>RGB8/RGBA8 bytes to float luminance (Rec. 601), FlowMap.Shaders/imaging/luminance.comp.</summary>
    internal static class Luminance
    {
        public const string Shader = "luminance.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height, Channels, RowBytes; }

        /// <param name="src">Bytes (packed 4 per uint) of a width x height image, <paramref name="channels"/> per pixel, rows <paramref name="rowBytes"/> apart.</param>
        public static void Record(CommandBatch batch, GpuContext ctx, GpuBuffer src, GpuImage dst, int channels, int rowBytes)
        {
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(dst.Width, k.LocalX), ComputeKernel.Groups(dst.Height, k.LocalY), 1,
                new Push { Width = dst.Width, Height = dst.Height, Channels = channels, RowBytes = rowBytes }, src, dst.Buffer);
        }

        /// <summary>CPU reference, double precision: Y = (0.299 R + 0.587 G + 0.114 B) / 255.</summary>
        public static double[] Reference(ReadOnlySpan<byte> src, int width, int height, int channels, int rowBytes)
        {
            var dst = new double[width * height];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int b = y * rowBytes + x * channels;
                    dst[y * width + x] = (0.299 * src[b] + 0.587 * src[b + 1] + 0.114 * src[b + 2]) / 255.0;
                }
            return dst;
        }
    }
}
