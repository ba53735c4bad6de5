using System;

namespace FlowMap.Reconstruction
{
    /// <summary>Resizing of frames to the processing size.</summary>
    internal static class ImageResampler
    {
        /// <summary>Smallest processing width or height (the flow pyramid and the solver's grid need a few cells per side).</summary>
        public const int MinProcessingSide = 16;

        /// <summary>Largest processing width or height: 4096 (16 times the default's area per side is far past what the solver
        /// runs in reasonable time, and keeps every per-pixel buffer well inside 32-bit sizes).</summary>
        public const int MaxProcessingSide = 4096;

        /// <summary>Null when a processing size is usable, else why not (one rule for the session's and the reconstruction's options).</summary>
        public static string? CheckProcessingSize(int width, int height) =>
            width < MinProcessingSide || height < MinProcessingSide || width > MaxProcessingSide || height > MaxProcessingSide
                ? $"Processing size {width}x{height}: each side from {MinProcessingSide} to {MaxProcessingSide} pixels."
                : null;

        /// <summary>
        /// The default processing size for a W x H input: about 320x240 pixels of area (76,800) keeping the aspect ratio,
        /// never larger than the input, both sides at least 16.
        /// </summary>
        public static (int Width, int Height) DefaultProcessingSize(int width, int height, int targetPixels = 320 * 240)
        {
            if (width < 1 || height < 1) throw new ArgumentException($"Input size {width}x{height} is empty.");
            if ((long)width * height <= targetPixels) return (width, height);
            double s = Math.Sqrt((double)targetPixels / ((double)width * height));
            int w = Math.Max(16, (int)Math.Round(width * s)), h = Math.Max(16, (int)Math.Round(height * s));
            return (Math.Min(w, width), Math.Min(h, height));
        }

        /// <summary>
        /// Area-weighted resampling (each output pixel = mean of the input area it covers; bilinear when enlarging):
        /// no aliasing when shrinking, exact copy at the same size. Pixel-centre aligned, so intrinsics follow
        /// <see cref="Intrinsics.Resized"/>. The area weight of an input pixel is the product of its overlap along x and
        /// along y, so the filter is separable: each axis's footprints (<see cref="Footprints"/>) are computed once per call,
        /// and each output row sums its input rows' horizontal sums. At whole-number ratios (640x480 to 320x240) every weight
        /// is 1 and the sums are exact; otherwise they differ from the two-dimensional sum only in double rounding
        /// (`Reconstruction/ImageResamplerTests.cs` compares both), and whole-number ratios are summed in integers
        /// (<see cref="ShrinkByBlocks"/>). The two-dimensional loop computed every pixel's footprint again: 15.8 ms of a
        /// live session's median frame on a 2-core machine, a sixth of its processing.
        /// </summary>
        public static RgbImage Resize(RgbImage src, int width, int height)
        {
            if (src == null) throw new ArgumentNullException(nameof(src));
            if (width < 1 || height < 1) throw new ArgumentException($"Target size {width}x{height} is empty.");
            if (src.Width == width && src.Height == height) return new RgbImage(width, height, (byte[])src.Pixels.Clone());
            if (src.Width % width == 0 && src.Height % height == 0) return ShrinkByBlocks(src, width, height);
            return ResampleSeparable(src, width, height);
        }

        private static unsafe RgbImage ResampleSeparable(RgbImage src, int width, int height)
        {
            var dst = new RgbImage(width, height);
            int W = src.Width;
            var xs = new Footprints(W, width);
            var ys = new Footprints(src.Height, height);
            var acc = new double[3 * width];
            fixed (byte* px = src.Pixels, outPx = dst.Pixels)
            fixed (double* a = acc, xw = xs.Weight, xSum = xs.Sum)
            fixed (int* xStart = xs.Start, xIndex = xs.Index)
            {
                for (int y = 0; y < height; y++)
                {
                    new Span<double>(a, acc.Length).Clear();
                    for (int t = ys.Start[y]; t < ys.Start[y + 1]; t++)
                    {
                        double wy = ys.Weight[t];
                        byte* row = px + 3L * W * ys.Index[t];
                        double* to = a;
                        for (int x = 0; x < width; x++, to += 3)
                        {
                            double r = 0, g = 0, b = 0;
                            for (int u = xStart[x], end = xStart[x + 1]; u < end; u++)
                            {
                                double wx = xw[u];
                                byte* q = row + 3 * xIndex[u];
                                r += wx * q[0]; g += wx * q[1]; b += wx * q[2];
                            }
                            to[0] += wy * r; to[1] += wy * g; to[2] += wy * b;
                        }
                    }
                    byte* d = outPx + 3L * width * y;
                    for (int x = 0; x < width; x++)
                    {
                        double inv = 1 / (xSum[x] * ys.Sum[y]);
                        d[3 * x] = (byte)Math.Round(a[3 * x] * inv);
                        d[3 * x + 1] = (byte)Math.Round(a[3 * x + 1] * inv);
                        d[3 * x + 2] = (byte)Math.Round(a[3 * x + 2] * inv);
                    }
                }
            }
            return dst;
        }

        /// <summary>
        /// <see cref="Resize"/> at whole-number ratios (640x480 to 320x240, the live default): each output pixel is the mean
        /// of a kx x ky block, summed in integers and rounded half to even as <see cref="Math.Round(double)"/> rounds the
        /// mean, so the result is the area sum's to the bit (a mean of n integers is a midpoint only when twice its
        /// remainder is n, and is otherwise at least 1 / (2 n) from one, far beyond double rounding).
        /// </summary>
        private static unsafe RgbImage ShrinkByBlocks(RgbImage src, int width, int height)
        {
            int W = src.Width, kx = W / width, ky = src.Height / height, n = kx * ky, rowBytes = 3 * W, outRow = 3 * width;
            var dst = new RgbImage(width, height);
            var acc = new int[outRow];
            // The rounded mean of every possible block sum (an integer division per value cost more than the sums).
            var mean = new byte[255 * n + 1];
            for (int sum = 0; sum < mean.Length; sum++)
            {
                int q = sum / n, twice = 2 * (sum - q * n);
                mean[sum] = (byte)(twice > n || (twice == n && (q & 1) == 1) ? q + 1 : q);
            }
            fixed (byte* inPx = src.Pixels, outPx = dst.Pixels, m = mean)
            fixed (int* a = acc)
            {
                for (int y = 0; y < height; y++)
                {
                    new Span<int>(a, outRow).Clear();
                    for (int j = 0; j < ky; j++)
                    {
                        byte* p = inPx + (long)rowBytes * (y * ky + j);
                        int* t = a;
                        for (int x = 0; x < width; x++, t += 3)
                        {
                            int r = 0, g = 0, b = 0;
                            for (int i = 0; i < kx; i++, p += 3) { r += p[0]; g += p[1]; b += p[2]; }
                            t[0] += r; t[1] += g; t[2] += b;
                        }
                    }
                    byte* d = outPx + (long)outRow * y;
                    for (int c = 0; c < outRow; c++) d[c] = m[a[c]];
                }
            }
            return dst;
        }

        /// <summary>
        /// One axis of <see cref="Resize"/>: output pixel o covers input [o s, (o + 1) s) with s = input / output (at least
        /// one pixel wide and centred when enlarging); its taps <see cref="Start"/>[o] to <see cref="Start"/>[o + 1] hold
        /// the input index (clamped to the image) and the overlap of each input pixel, <see cref="Sum"/>[o] their sum.
        /// </summary>
        internal sealed class Footprints
        {
            public Footprints(int input, int output)
            {
                Start = new int[output + 1];
                Sum = new double[output];
                var index = new System.Collections.Generic.List<int>(2 * Math.Max(input, output) + 2 * output);
                var weight = new System.Collections.Generic.List<double>(index.Capacity);
                double s = (double)input / output;
                for (int o = 0; o < output; o++)
                {
                    Start[o] = index.Count;
                    double f0 = o * s, f1 = (o + 1) * s;
                    if (s < 1) { double c = (o + 0.5) * s; f0 = c - 0.5; f1 = c + 0.5; }
                    for (int i = (int)Math.Floor(f0); i < (int)Math.Ceiling(f1); i++)
                    {
                        double wgt = Math.Min(f1, i + 1) - Math.Max(f0, i);
                        if (wgt <= 0) continue;
                        index.Add(Math.Max(0, Math.Min(input - 1, i)));
                        weight.Add(wgt);
                        Sum[o] += wgt;
                    }
                }
                Start[output] = index.Count;
                Index = index.ToArray();
                Weight = weight.ToArray();
            }

            public int[] Start { get; }
            public int[] Index { get; }
            public double[] Weight { get; }
            public double[] Sum { get; }
        }
    }
}
