using System;
using System.Collections.Generic;
using FlowMap.Export;

namespace FlowMap.Evaluation
{
    /// <summary>Depth accuracy: AbsRel = mean |s p - g| / g and Delta1 = share of pixels with max(s p / g, g / (s p)) &lt; 1.25.</summary>
    /// <param name="AbsRel">Mean absolute relative error.</param>
    /// <param name="Delta1">Share of pixels within a factor 1.25, in [0, 1].</param>
    /// <param name="Pixels">Pixels compared (valid ground truth and a positive finite prediction).</param>
    /// <param name="Coverage">Compared pixels / pixels with valid ground truth: where the prediction had no depth.</param>
    /// <param name="Scale">The scale s applied to the prediction.</param>
    internal sealed record DepthAccuracy(double AbsRel, double Delta1, long Pixels, double Coverage, double Scale);

    /// <summary>Flow accuracy: mean end-point error over pixels that are not invalid (all) and also not occluded (noc).</summary>
    internal sealed record FlowAccuracy(double EpeAll, double EpeNoc, long PixelsAll, long PixelsNoc);

    /// <summary>Depth and flow metrics of EVALUATION.md.</summary>
    internal static class DepthFlowMetrics
    {
        /// <summary>
        /// Per-frame median scale s = median(g) / median(p) over pixels with valid ground truth (g &gt; 0, finite) and a valid
        /// prediction (p &gt; 0, finite); null when no pixel is valid. The prediction is compared at the ground truth's pixels after
        /// <see cref="ToSize"/>.
        /// </summary>
        public static double? MedianScale(FloatImage predicted, FloatImage truth)
        {
            var p = ToSize(predicted, truth.Width, truth.Height);
            var ps = new List<float>(); var gs = new List<float>();
            for (int i = 0; i < truth.Data.Length; i++)
            {
                float g = truth.Data[i], q = p.Data[i];
                if (Valid(g) && Valid(q)) { gs.Add(g); ps.Add(q); }
            }
            if (gs.Count == 0) return null;
            return Median(gs) / Median(ps);
        }

        /// <summary>AbsRel and Delta1 of s * predicted against truth (see <see cref="DepthAccuracy"/>); pixels as in <see cref="MedianScale"/>.</summary>
        public static DepthAccuracy Depth(FloatImage predicted, FloatImage truth, double scale)
        {
            if (predicted == null) throw new ArgumentNullException(nameof(predicted));
            if (truth == null) throw new ArgumentNullException(nameof(truth));
            if (!(scale > 0) || double.IsInfinity(scale)) throw new ArgumentOutOfRangeException(nameof(scale), "The depth scale must be positive and finite.");
            var p = ToSize(predicted, truth.Width, truth.Height);
            double sumRel = 0; long n = 0, good = 0, validGt = 0;
            for (int i = 0; i < truth.Data.Length; i++)
            {
                float g = truth.Data[i];
                if (!Valid(g)) continue;
                validGt++;
                float q = p.Data[i];
                if (!Valid(q)) continue;
                double sp = scale * q;
                sumRel += Math.Abs(sp - g) / g;
                if (Math.Max(sp / g, g / sp) < 1.25) good++;
                n++;
            }
            return new DepthAccuracy(n > 0 ? sumRel / n : double.NaN, n > 0 ? (double)good / n : double.NaN, n, validGt > 0 ? (double)n / validGt : 0, scale);
        }

        /// <summary>Depth accuracy after per-frame median scaling.</summary>
        public static DepthAccuracy DepthMedianScaled(FloatImage predicted, FloatImage truth)
        {
            var s = MedianScale(predicted, truth);
            return s is double v && v > 0 && !double.IsInfinity(v) ? Depth(predicted, truth, v) : new DepthAccuracy(double.NaN, double.NaN, 0, 0, double.NaN);
        }

        /// <summary>
        /// The prediction sampled at another resolution by nearest pixel centre (pixel-centre convention: source x = (x + 0.5) W_src / W - 0.5,
        /// rounded), so invalid values never blend with valid ones. Returns the input when the size already matches.
        /// </summary>
        public static FloatImage ToSize(FloatImage image, int width, int height)
        {
            if (image.Width == width && image.Height == height) return image;
            var r = new FloatImage(width, height);
            double sx = (double)image.Width / width, sy = (double)image.Height / height;
            for (int y = 0; y < height; y++)
            {
                int ys = Math.Min(image.Height - 1, Math.Max(0, (int)Math.Round((y + 0.5) * sy - 0.5)));
                for (int x = 0; x < width; x++)
                {
                    int xs = Math.Min(image.Width - 1, Math.Max(0, (int)Math.Round((x + 0.5) * sx - 0.5)));
                    r.Data[y * width + x] = image.Data[ys * image.Width + xs];
                }
            }
            return r;
        }

        /// <summary>
        /// End-point error of an estimated flow against the truth: EPE over pixels that are not invalid and whose true flow is known
        /// (all), and over those that are also not occluded (noc). Masks are bool[H, W] (true = invalid / occluded), or null.
        /// </summary>
        public static FlowAccuracy Flow(FlowField estimated, FlowField truth, bool[]? occluded = null, bool[]? invalid = null)
        {
            if (estimated == null) throw new ArgumentNullException(nameof(estimated));
            if (truth == null) throw new ArgumentNullException(nameof(truth));
            if (estimated.Width != truth.Width || estimated.Height != truth.Height)
                throw new ArgumentException($"Estimated flow is {estimated.Width}x{estimated.Height}, the truth {truth.Width}x{truth.Height}.");
            int n = truth.Width * truth.Height;
            if (occluded != null && occluded.Length != n) throw new ArgumentException($"The occlusion mask has {occluded.Length} pixels, the flow {n}.");
            if (invalid != null && invalid.Length != n) throw new ArgumentException($"The invalid mask has {invalid.Length} pixels, the flow {n}.");
            double all = 0, noc = 0; long nAll = 0, nNoc = 0;
            for (int i = 0; i < n; i++)
            {
                float gu = truth.Data[2 * i], gv = truth.Data[2 * i + 1];
                if ((invalid != null && invalid[i]) || !FloFile.IsKnown(gu, gv)) continue;
                float eu = estimated.Data[2 * i], ev = estimated.Data[2 * i + 1];
                double e = float.IsNaN(eu) || float.IsNaN(ev) || float.IsInfinity(eu) || float.IsInfinity(ev)
                    ? double.PositiveInfinity
                    : Math.Sqrt((double)(eu - gu) * (eu - gu) + (double)(ev - gv) * (ev - gv));
                all += e; nAll++;
                if (occluded == null || !occluded[i]) { noc += e; nNoc++; }
            }
            return new FlowAccuracy(nAll > 0 ? all / nAll : double.NaN, nNoc > 0 ? noc / nNoc : double.NaN, nAll, nNoc);
        }

        private static bool Valid(float v) => v > 0 && !float.IsInfinity(v);

        internal static double Median(List<float> values)
        {
            values.Sort();
            int m = values.Count / 2;
            return values.Count % 2 == 1 ? values[m] : 0.5 * ((double)values[m - 1] + values[m]);
        }

        internal static double Median(List<double> values)
        {
            values.Sort();
            int m = values.Count / 2;
            return values.Count % 2 == 1 ? values[m] : 0.5 * (values[m - 1] + values[m]);
        }
    }
}
