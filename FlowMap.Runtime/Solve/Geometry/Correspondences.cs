using System;
using System.Collections.Generic;
using FlowMap.Flow;

namespace FlowMap.Solve.Geometry
{
    /// <summary>
    /// Matches between keyframe a and keyframe b at the processing size (pixel-centre origin, x right, y down).
    /// </summary>
    internal sealed class Correspondences
    {
        public Correspondences(double[] a, double[] b, double[] weight)
        {
            if (a == null || b == null || weight == null) throw new ArgumentNullException(a == null ? nameof(a) : b == null ? nameof(b) : nameof(weight));
            if (a.Length != 2 * weight.Length || b.Length != 2 * weight.Length)
                throw new ArgumentException($"Correspondences need 2 coordinates per point in a and b: {a.Length}, {b.Length} values for {weight.Length} weights.");
            for (int i = 0; i < weight.Length; i++)
                if (!(weight[i] > 0 && weight[i] <= 1)) throw new ArgumentException($"Weight {i} is {weight[i]}, not in (0, 1].");
            for (int i = 0; i < a.Length; i++)
                if (!double.IsFinite(a[i]) || !double.IsFinite(b[i])) throw new ArgumentException($"Coordinate {i} is not finite.");
            A = a; B = b; Weight = weight;
        }

        public int Count => Weight.Length;
        /// <summary>double[2*Count]: (x, y) in a, pixels.</summary>
        public double[] A { get; }
        /// <summary>double[2*Count]: (x, y) in b, pixels.</summary>
        public double[] B { get; }
        /// <summary>double[Count], in (0, 1].</summary>
        public double[] Weight { get; }

        /// <summary>The same matches with a and b swapped (b -> a).</summary>
        public Correspondences Swapped() => new Correspondences(B, A, Weight);

        /// <summary>
        /// Samples an even grid of pixels of a whose flow is confident and forward-backward consistent
        /// (|fwd(u) + bwd(u + fwd(u))| small, backward flow sampled bilinearly), at most <paramref name="maxPoints"/>.
        /// The weight is the forward confidence (clamped to (0, 1]). Points whose match leaves b are dropped.
        /// </summary>
        public static Correspondences FromFlow(FlowResult flow, int maxPoints = 4000, double maxForwardBackwardPx = 0.75, double minConfidence = 0.3)
        {
            if (flow == null) throw new ArgumentNullException(nameof(flow));
            if (maxPoints < 1) throw new ArgumentOutOfRangeException(nameof(maxPoints), maxPoints, "At least one point.");
            int w = flow.Width, h = flow.Height;
            // 1. A grid a little finer than maxPoints needs (a quarter of the pixels fail the checks in typical flow), then
            //    an even subsample by index when more pass.
            double step = Math.Max(1.0, Math.Sqrt((double)w * h / (maxPoints * 1.3)));
            int nx = Math.Max(1, (int)Math.Floor(w / step)), ny = Math.Max(1, (int)Math.Floor(h / step));
            var fwd = flow.Forward.Data;
            var conf = flow.ForwardConfidence.Data;
            var xa = new List<double>(); var xb = new List<double>(); var wt = new List<double>();
            for (int gy = 0; gy < ny; gy++)
            {
                int y = Math.Min(h - 1, (int)((gy + 0.5) * h / ny));
                for (int gx = 0; gx < nx; gx++)
                {
                    int x = Math.Min(w - 1, (int)((gx + 0.5) * w / nx));
                    int i = y * w + x;
                    double c = conf[i];
                    if (!(c >= minConfidence)) continue;
                    double u = fwd[2 * i], v = fwd[2 * i + 1];
                    double bx = x + u, by = y + v;
                    if (!(bx >= 0 && by >= 0 && bx <= w - 1 && by <= h - 1)) continue;
                    // 2. Forward-backward consistency: the backward flow at the match returns to the start.
                    var (bu, bv) = Bilinear(flow.Backward, bx, by);
                    double ex = u + bu, ey = v + bv;
                    if (!(ex * ex + ey * ey <= maxForwardBackwardPx * maxForwardBackwardPx)) continue;
                    xa.Add(x); xa.Add(y); xb.Add(bx); xb.Add(by); wt.Add(Math.Min(1.0, c));
                }
            }
            int n = wt.Count;
            if (n <= maxPoints) return new Correspondences(xa.ToArray(), xb.ToArray(), wt.ToArray());
            var a = new double[2 * maxPoints]; var b = new double[2 * maxPoints]; var ww = new double[maxPoints];
            for (int k = 0; k < maxPoints; k++)
            {
                int j = (int)((long)k * n / maxPoints);
                a[2 * k] = xa[2 * j]; a[2 * k + 1] = xa[2 * j + 1];
                b[2 * k] = xb[2 * j]; b[2 * k + 1] = xb[2 * j + 1];
                ww[k] = wt[j];
            }
            return new Correspondences(a, b, ww);
        }

        /// <summary>Bilinear sample of a flow field at (x, y) inside [0, W-1] x [0, H-1].</summary>
        internal static (double U, double V) Bilinear(FlowField f, double x, double y)
        {
            int w = f.Width, h = f.Height;
            int x0 = Math.Min(w - 1, Math.Max(0, (int)Math.Floor(x))), y0 = Math.Min(h - 1, Math.Max(0, (int)Math.Floor(y)));
            int x1 = Math.Min(w - 1, x0 + 1), y1 = Math.Min(h - 1, y0 + 1);
            double fx = x - x0, fy = y - y0;
            var d = f.Data;
            double u = (1 - fy) * ((1 - fx) * d[2 * (y0 * w + x0)] + fx * d[2 * (y0 * w + x1)]) + fy * ((1 - fx) * d[2 * (y1 * w + x0)] + fx * d[2 * (y1 * w + x1)]);
            double v = (1 - fy) * ((1 - fx) * d[2 * (y0 * w + x0) + 1] + fx * d[2 * (y0 * w + x1) + 1]) + fy * ((1 - fx) * d[2 * (y1 * w + x0) + 1] + fx * d[2 * (y1 * w + x1) + 1]);
            return (u, v);
        }
    }
}
