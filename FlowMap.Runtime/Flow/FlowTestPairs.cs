using System;

namespace FlowMap.Flow
{
    /// <summary>A pair of frames with its exact flow: <see cref="Truth"/> maps pixels of A to B; <see cref="Occluded"/>
    /// (1 = occluded or leaving the frame in B, else 0) excludes pixels with no correspondence from "noc" metrics.</summary>
    internal sealed record FlowTestPair(RgbImage A, RgbImage B, FlowField Truth, FloatImage Occluded, string Name);

    /// <summary>
    /// Procedural image pairs with exact optical flow, for tests and benchmarks of flow estimators. The texture is an
    /// analytic multi-scale sum of sinusoids (1/f amplitudes, 0.01..0.3 cycles per pixel, so it is not aliased), evaluated
    /// at exact positions: B is A's scene moved, without resampling error.
    /// A layered scene: a background under an affine motion (translation, rotation, zoom) and a textured foreground
    /// ellipse with its own translation (motion boundaries and occlusions), optionally with a brightness change of B.
    /// </summary>
    internal static class FlowTestPairs
    {
        private sealed class Texture
        {
            private readonly double[] _fx, _fy, _ph, _amp;
            private readonly double _gain;
            public Texture(Random r, int count)
            {
                _fx = new double[count]; _fy = new double[count]; _ph = new double[count]; _amp = new double[count];
                double total = 0;
                for (int i = 0; i < count; i++)
                {
                    double f = 0.01 * Math.Pow(30, r.NextDouble());   // 0.01 .. 0.3 cycles / pixel
                    double a = r.NextDouble() * Math.PI;
                    _fx[i] = 2 * Math.PI * f * Math.Cos(a); _fy[i] = 2 * Math.PI * f * Math.Sin(a);
                    _ph[i] = r.NextDouble() * 2 * Math.PI;
                    _amp[i] = Math.Pow(f, -0.6);
                    total += _amp[i];
                }
                _gain = 1.6 / total;
            }

            /// <summary>Intensity in about [0, 1] at a real-valued position.</summary>
            public double At(double x, double y)
            {
                double s = 0;
                for (int i = 0; i < _fx.Length; i++) s += _amp[i] * Math.Sin(_fx[i] * x + _fy[i] * y + _ph[i]);
                return Math.Clamp(0.5 + _gain * s, 0, 1);
            }
        }

        /// <summary>
        /// A layered pair of <paramref name="width"/> x <paramref name="height"/>.
        /// </summary>
        /// <param name="meanMotion">Length of the background translation in pixels (the mean |flow| is about this).</param>
        /// <param name="brightness">B = gain * scene + offset with gain 1 + brightness, offset -brightness / 2 (0 = none).</param>
        public static FlowTestPair Layered(int width, int height, int seed, double meanMotion, double brightness = 0, bool foreground = true)
        {
            if (width < 2 || height < 2) throw new ArgumentException("A flow test pair needs at least 2x2 pixels.");
            var r = new Random(seed);
            var bg = new Texture(r, 32);
            var fg = new Texture(r, 32);
            // Background: x_b = c + (1 + zoom) R(theta) (x - c) + t.
            double ang = r.NextDouble() * 2 * Math.PI;
            double tx = meanMotion * Math.Cos(ang), ty = meanMotion * Math.Sin(ang);
            double theta = (r.NextDouble() - 0.5) * 0.04, zoom = (r.NextDouble() - 0.5) * 0.06;
            double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
            double m00 = (1 + zoom) * Math.Cos(theta), m01 = -(1 + zoom) * Math.Sin(theta), m10 = -m01, m11 = m00;
            double det = m00 * m11 - m01 * m10;
            // Foreground ellipse: centre, radii, its own translation.
            double ex = width * (0.3 + 0.4 * r.NextDouble()), ey = height * (0.3 + 0.4 * r.NextDouble());
            double ra = Math.Max(2, Math.Min(width, height) * (0.15 + 0.1 * r.NextDouble())), rb = ra * (0.6 + 0.4 * r.NextDouble());
            double fang = r.NextDouble() * 2 * Math.PI, fmag = meanMotion * (0.5 + r.NextDouble());
            double fx = fmag * Math.Cos(fang), fy = fmag * Math.Sin(fang);
            bool InFg(double x, double y) => foreground && Sq((x - ex) / ra) + Sq((y - ey) / rb) <= 1;

            var a = new byte[width * height * 3];
            var b = new byte[width * height * 3];
            var truth = new float[width * height * 2];
            var occ = new float[width * height];
            double gain = 1 + brightness, offset = -brightness / 2;
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int i = y * width + x;
                    // Frame A.
                    double va;
                    double u, v;
                    if (InFg(x, y)) { va = fg.At(x, y); u = fx; v = fy; }
                    else
                    {
                        va = bg.At(x, y);
                        double dx = x - cx, dy = y - cy;
                        u = cx + m00 * dx + m01 * dy + tx - x;
                        v = cy + m10 * dx + m11 * dy + ty - y;
                    }
                    truth[2 * i] = (float)u; truth[2 * i + 1] = (float)v;
                    double xb = x + u, yb = y + v;
                    bool outside = xb < 0 || yb < 0 || xb > width - 1 || yb > height - 1;
                    bool hidden = !InFg(x, y) && InFg(xb - fx, yb - fy);
                    occ[i] = outside || hidden ? 1 : 0;
                    // Frame B: the foreground moved by (fx, fy) over the background moved by the affine map.
                    double vb;
                    if (InFg(x - fx, y - fy)) vb = fg.At(x - fx, y - fy);
                    else
                    {
                        double px = x - tx - cx, py = y - ty - cy;
                        double sx = (m11 * px - m01 * py) / det + cx, sy = (-m10 * px + m00 * py) / det + cy;
                        vb = bg.At(sx, sy);
                    }
                    vb = gain * vb + offset;
                    Put(a, i, va); Put(b, i, vb);
                }
            return new FlowTestPair(new RgbImage(width, height, a), new RgbImage(width, height, b),
                new FlowField(width, height, truth), new FloatImage(width, height, occ),
                $"layered {width}x{height} seed {seed} motion {meanMotion:0.#}px" + (brightness != 0 ? $" brightness {brightness:+0.##;-0.##}" : ""));
        }

        private static double Sq(double v) => v * v;

        private static void Put(byte[] px, int i, double v)
        {
            // A colour version of the intensity (luminance weights sum to 1, so the luminance stays v).
            byte c(double t) => (byte)Math.Clamp(Math.Round(t * 255), 0, 255);
            px[3 * i] = c(v * 1.05); px[3 * i + 1] = c(v * 0.97); px[3 * i + 2] = c(v);
        }
    }

    /// <summary>End-point error of a flow against ground truth.</summary>
    internal static class FlowError
    {
        /// <summary>
        /// Mean end-point error (pixels) over pixels that are not <paramref name="invalid"/> ("all") and over those that are
        /// also not <paramref name="occluded"/> ("noc"). Masks: value &gt; 0.5 means set; null means none.
        /// </summary>
        public static (double All, double NonOccluded) EndPointError(FlowField estimate, FlowField truth, FloatImage? occluded = null, FloatImage? invalid = null)
        {
            if (estimate.Width != truth.Width || estimate.Height != truth.Height)
                throw new ArgumentException($"Flow {estimate.Width}x{estimate.Height} and ground truth {truth.Width}x{truth.Height} differ in size.");
            double sumAll = 0, sumNoc = 0;
            long nAll = 0, nNoc = 0;
            for (int i = 0; i < truth.Width * truth.Height; i++)
            {
                if (invalid != null && invalid.Data[i] > 0.5f) continue;
                double du = estimate.Data[2 * i] - truth.Data[2 * i], dv = estimate.Data[2 * i + 1] - truth.Data[2 * i + 1];
                double e = Math.Sqrt(du * du + dv * dv);
                sumAll += e; nAll++;
                if (occluded == null || occluded.Data[i] <= 0.5f) { sumNoc += e; nNoc++; }
            }
            return (nAll > 0 ? sumAll / nAll : double.NaN, nNoc > 0 ? sumNoc / nNoc : double.NaN);
        }
    }
}
