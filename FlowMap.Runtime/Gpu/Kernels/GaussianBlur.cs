using System;
using System.Runtime.InteropServices;

namespace FlowMap.Gpu.Kernels
{
    /// <summary>Separable Gaussian blur, clamp-to-edge, FlowMap.Shaders/imaging/blur1d.comp (two passes).</summary>
    internal static class GaussianBlur
    {
        public const string Shader = "blur1d.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height, Radius, Vertical; public float Sigma; }

        public static int RadiusFor(float sigma) => Math.Max(1, (int)Math.Ceiling(3 * sigma));

        /// <summary>src -> tmp (horizontal) -> dst (vertical). tmp and dst are the size of src.</summary>
        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage src, GpuImage tmp, GpuImage dst, float sigma)
        {
            if (sigma <= 0) throw new ArgumentOutOfRangeException(nameof(sigma), "sigma must be positive");
            var k = ctx.Kernel(Shader);
            uint gx = ComputeKernel.Groups(src.Width, k.LocalX), gy = ComputeKernel.Groups(src.Height, k.LocalY);
            int r = RadiusFor(sigma);
            batch.Dispatch(k, gx, gy, 1, new Push { Width = src.Width, Height = src.Height, Radius = r, Vertical = 0, Sigma = sigma }, src.Buffer, tmp.Buffer);
            batch.Dispatch(k, gx, gy, 1, new Push { Width = src.Width, Height = src.Height, Radius = r, Vertical = 1, Sigma = sigma }, tmp.Buffer, dst.Buffer);
        }

        /// <summary>CPU reference, double precision, the same two clamp-to-edge passes.</summary>
        public static double[] Reference(ReadOnlySpan<float> src, int width, int height, double sigma)
        {
            int r = RadiusFor((float)sigma);
            var w = new double[2 * r + 1];
            double norm = 0;
            for (int k = -r; k <= r; k++) { w[k + r] = Math.Exp(-k * k / (2 * sigma * sigma)); norm += w[k + r]; }
            for (int k = 0; k < w.Length; k++) w[k] /= norm;
            var tmp = new double[width * height];
            var dst = new double[width * height];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double acc = 0;
                    for (int k = -r; k <= r; k++) acc += w[k + r] * src[y * width + Math.Clamp(x + k, 0, width - 1)];
                    tmp[y * width + x] = acc;
                }
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double acc = 0;
                    for (int k = -r; k <= r; k++) acc += w[k + r] * tmp[Math.Clamp(y + k, 0, height - 1) * width + x];
                    dst[y * width + x] = acc;
                }
            return dst;
        }
    }
}
