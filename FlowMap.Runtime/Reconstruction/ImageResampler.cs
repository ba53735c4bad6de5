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
        /// <see cref="Intrinsics.Resized"/>.
        /// </summary>
        public static RgbImage Resize(RgbImage src, int width, int height)
        {
            if (src == null) throw new ArgumentNullException(nameof(src));
            if (width < 1 || height < 1) throw new ArgumentException($"Target size {width}x{height} is empty.");
            if (src.Width == width && src.Height == height) return new RgbImage(width, height, (byte[])src.Pixels.Clone());
            var dst = new RgbImage(width, height);
            int W = src.Width, H = src.Height;
            double sx = (double)W / width, sy = (double)H / height;
            var px = src.Pixels;
            for (int y = 0; y < height; y++)
            {
                // Vertical footprint [y0, y1) in input rows (at least one pixel wide, centred, when enlarging).
                double fy0 = y * sy, fy1 = (y + 1) * sy;
                if (sy < 1) { double c = (y + 0.5) * sy; fy0 = c - 0.5; fy1 = c + 0.5; }
                for (int x = 0; x < width; x++)
                {
                    double fx0 = x * sx, fx1 = (x + 1) * sx;
                    if (sx < 1) { double c = (x + 0.5) * sx; fx0 = c - 0.5; fx1 = c + 0.5; }
                    double r = 0, g = 0, b = 0, wsum = 0;
                    for (int iy = (int)Math.Floor(fy0); iy < (int)Math.Ceiling(fy1); iy++)
                    {
                        double wy = Math.Min(fy1, iy + 1) - Math.Max(fy0, iy);
                        if (wy <= 0) continue;
                        int yy = Math.Max(0, Math.Min(H - 1, iy));
                        for (int ix = (int)Math.Floor(fx0); ix < (int)Math.Ceiling(fx1); ix++)
                        {
                            double wx = Math.Min(fx1, ix + 1) - Math.Max(fx0, ix);
                            if (wx <= 0) continue;
                            int xx = Math.Max(0, Math.Min(W - 1, ix));
                            int o = 3 * (yy * W + xx);
                            double wgt = wx * wy;
                            r += wgt * px[o]; g += wgt * px[o + 1]; b += wgt * px[o + 2]; wsum += wgt;
                        }
                    }
                    int d = 3 * (y * width + x);
                    dst.Pixels[d] = (byte)Math.Round(r / wsum);
                    dst.Pixels[d + 1] = (byte)Math.Round(g / wsum);
                    dst.Pixels[d + 2] = (byte)Math.Round(b / wsum);
                }
            }
            return dst;
        }
    }
}
