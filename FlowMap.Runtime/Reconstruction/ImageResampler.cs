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
        /// <see cref="Intrinsics.Resized"/>. The result is the same to the bit as the plain two-dimensional loop
        /// (`Reconstruction/ImageResamplerTests.cs` keeps it as the reference): whole-number ratios (640x480 to 320x240,
        /// the live default) sum each block in integers (<see cref="ShrinkByBlocks"/>), other ratios sum the same products
        /// in the same order with each axis's footprints (<see cref="Footprints"/>) computed once per call instead of per
        /// pixel. That loop took 15.8 ms of a live session's median frame on a 2-core machine, a sixth of its processing.
        /// Not the separable sum: its rounding moved ~30 of a phone frame's 230,880 values by one level (at midpoints), and
        /// that moved the phone video's online trajectory from 0.40 % to 12.66 % of the path (README, issue 12).
        /// </summary>
        public static RgbImage Resize(RgbImage src, int width, int height)
        {
            if (src == null) throw new ArgumentNullException(nameof(src));
            if (width < 1 || height < 1) throw new ArgumentException($"Target size {width}x{height} is empty.");
            if (src.Width == width && src.Height == height) return new RgbImage(width, height, (byte[])src.Pixels.Clone());
            // Blocks of at most 4,096 pixels: the table of block means holds 255 n + 1 bytes (an extreme ratio takes the footprints).
            if (src.Width % width == 0 && src.Height % height == 0 && (long)(src.Width / width) * (src.Height / height) <= 4096)
                return ShrinkByBlocks(src, width, height);
            return ResampleFootprints(src, width, height);
        }

        private static unsafe RgbImage ResampleFootprints(RgbImage src, int width, int height)
        {
            var dst = new RgbImage(width, height);
            int W = src.Width;
            var xs = new Footprints(W, width);
            var ys = new Footprints(src.Height, height);
            fixed (byte* px = src.Pixels, outPx = dst.Pixels)
            fixed (double* xw = xs.Weight, yw = ys.Weight)
            fixed (int* xStart = xs.Start, xIndex = xs.Index, yStart = ys.Start, yIndex = ys.Index)
            {
                for (int y = 0; y < height; y++)
                {
                    byte* d = outPx + 3L * width * y;
                    for (int x = 0; x < width; x++, d += 3)
                    {
                        // The two-dimensional sum in its order: rows outer, columns inner, weight wx wy per input pixel.
                        double r = 0, g = 0, b = 0, wsum = 0;
                        for (int t = yStart[y]; t < yStart[y + 1]; t++)
                        {
                            double wy = yw[t];
                            byte* row = px + 3L * W * yIndex[t];
                            for (int u = xStart[x], end = xStart[x + 1]; u < end; u++)
                            {
                                double wgt = xw[u] * wy;
                                byte* q = row + 3 * xIndex[u];
                                r += wgt * q[0]; g += wgt * q[1]; b += wgt * q[2]; wsum += wgt;
                            }
                        }
                        d[0] = (byte)Math.Round(r / wsum);
                        d[1] = (byte)Math.Round(g / wsum);
                        d[2] = (byte)Math.Round(b / wsum);
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
