using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Flow.Kernels
{
    /// <summary>Per-level features (I, gx, gy, 0) and bilinear quads of a luminance image, FlowMap.Shaders/flow/flow_prep.comp.</summary>
    internal static class FlowPrep
    {
        public const string Shader = "flow_prep.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage src, GpuImage feat, GpuImage quad)
        {
            if (feat.Channels != 4 || quad.Channels != 4 || feat.PixelCount != src.PixelCount || quad.PixelCount != src.PixelCount)
                throw new ArgumentException("Features and quads are 4-channel images the size of the source.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(src.Width, k.LocalX), ComputeKernel.Groups(src.Height, k.LocalY), 1,
                new Push { Width = src.Width, Height = src.Height }, src.Buffer, feat.Buffer, quad.Buffer);
        }

        /// <summary>(features, quads), each double[h, w, 4].</summary>
        public static (double[] Feat, double[] Quad) Reference(ReadOnlySpan<float> src, int w, int h)
        {
            var g = Gpu.Kernels.Gradient.Reference(src.ToArray(), w, h);
            var feat = new double[w * h * 4];
            var quad = new double[w * h * 4];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x, x1 = Math.Min(x + 1, w - 1), y1 = Math.Min(y + 1, h - 1);
                    feat[4 * i] = src[i]; feat[4 * i + 1] = g[2 * i]; feat[4 * i + 2] = g[2 * i + 1];
                    quad[4 * i] = src[i]; quad[4 * i + 1] = src[y * w + x1]; quad[4 * i + 2] = src[y1 * w + x]; quad[4 * i + 3] = src[y1 * w + x1];
                }
            return (feat, quad);
        }

        /// <summary>The reference as float arrays (inputs of the other kernels' tests).</summary>
        public static (float[] Feat, float[] Quad) ReferenceFloats(ReadOnlySpan<float> src, int w, int h)
        {
            var (f, q) = Reference(src, w, h);
            var ff = new float[f.Length]; var qq = new float[q.Length];
            for (int i = 0; i < f.Length; i++) { ff[i] = (float)f[i]; qq[i] = (float)q[i]; }
            return (ff, qq);
        }
    }

    /// <summary>Flow and confidence to full resolution in one pass, FlowMap.Shaders/flow/flow_finalize.comp.</summary>
    internal static class FlowFinalize
    {
        public const string Shader = "flow_finalize.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int SrcWidth, SrcHeight, DstWidth, DstHeight; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage srcFlow, GpuImage srcConf, GpuImage dstFlow, GpuImage dstConf)
        {
            if (srcFlow.Width > dstFlow.Width || srcFlow.Height > dstFlow.Height)
                throw new ArgumentException($"Finalize upsamples; {srcFlow.Width}x{srcFlow.Height} -> {dstFlow.Width}x{dstFlow.Height} would shrink.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups((dstFlow.Width + 1) / 2, k.LocalX), ComputeKernel.Groups((dstFlow.Height + 1) / 2, k.LocalY), 1,
                new Push { SrcWidth = srcFlow.Width, SrcHeight = srcFlow.Height, DstWidth = dstFlow.Width, DstHeight = dstFlow.Height },
                srcFlow.Buffer, srcConf.Buffer, dstFlow.Buffer, dstConf.Buffer);
        }

        /// <summary>(flow double[dh, dw, 2], confidence double[dh, dw]).</summary>
        public static (double[] Flow, double[] Conf) Reference(ReadOnlySpan<float> flow, ReadOnlySpan<float> conf, int sw, int sh, int dw, int dh)
        {
            var f = FlowUpsample.Reference(flow, sw, sh, dw, dh);
            var c = new double[dw * dh];
            double sx = (double)sw / dw, sy = (double)sh / dh;
            for (int y = 0; y < dh; y++)
                for (int x = 0; x < dw; x++)
                    c[y * dw + x] = Math.Clamp(FlowSampling.Bilinear(conf, sw, sh, 1, 0, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5), 0, 1);
            return (f, c);
        }
    }

    /// <summary>RGB8 straight to the half-resolution luminance level, FlowMap.Shaders/flow/rgb_half.comp.</summary>
    internal static class RgbHalf
    {
        public const string Shader = "rgb_half.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int SrcWidth, SrcHeight, DstWidth, DstHeight, RowBytes; }

        public static void Record(CommandBatch batch, GpuContext ctx, GpuBuffer rgb, int width, int height, GpuImage dst)
        {
            var (w, h) = Gpu.Kernels.Downsample.SizeOf(width, height);
            if (dst.Width != w || dst.Height != h) throw new ArgumentException($"Half of {width}x{height} is {w}x{h}, got {dst.Width}x{dst.Height}.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(w, k.LocalX), ComputeKernel.Groups(h, k.LocalY), 1,
                new Push { SrcWidth = width, SrcHeight = height, DstWidth = w, DstHeight = h, RowBytes = 3 * width }, rgb, dst.Buffer);
        }

        /// <summary>downsample2x(luminance(rgb)), double precision.</summary>
        public static double[] Reference(ReadOnlySpan<byte> rgb, int width, int height)
        {
            var lum = Gpu.Kernels.Luminance.Reference(rgb, width, height, 3, 3 * width);
            var (w, h) = Gpu.Kernels.Downsample.SizeOf(width, height);
            var dst = new double[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int x0 = Math.Min(2 * x, width - 1), x1 = Math.Min(2 * x + 1, width - 1);
                    int y0 = Math.Min(2 * y, height - 1), y1 = Math.Min(2 * y + 1, height - 1);
                    dst[y * w + x] = 0.25 * (lum[y0 * width + x0] + lum[y0 * width + x1] + lum[y1 * width + x0] + lum[y1 * width + x1]);
                }
            return dst;
        }
    }
}
