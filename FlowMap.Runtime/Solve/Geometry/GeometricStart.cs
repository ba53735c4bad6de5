using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Flow;

namespace FlowMap.Solve.Geometry
{
    /// <summary>Poses and depth of a keyframe chain from two-view geometry: the start of descent.</summary>
    internal sealed class StartResult
    {
        /// <summary>Camera-to-world poses, one per keyframe, frame 0 the identity, one scale for the chain.</summary>
        public CameraPose[] Poses = Array.Empty<CameraPose>();
        /// <summary>float[H,W] z-depth per keyframe in the chain's scale, every pixel finite and positive.</summary>
        public FloatImage[] Depth = Array.Empty<FloatImage>();
        /// <summary>float[H,W] in [0, 1] per keyframe: 0 where the depth was filled in, else flow confidence x parallax term.</summary>
        public FloatImage[] Confidence = Array.Empty<FloatImage>();
        /// <summary>Relative pose of each adjacent pair (null when it was degenerate: see <see cref="Warnings"/>).</summary>
        public RelativePose?[] PairPoses = Array.Empty<RelativePose?>();
        /// <summary>Length of each pair's translation in the chain's scale (0 for degenerate pairs).</summary>
        public double[] PairScale = Array.Empty<double>();
        /// <summary>Rotation a -> b used per pair (the essential matrix's, or the infinite homography's for degenerate pairs).</summary>
        public double[][] PairRotation = Array.Empty<double[]>();
        public List<string> Warnings = new List<string>();
    }

    /// <summary>
    /// A geometric start for descent (issue 11, item 3). Per adjacent keyframe pair:
    ///  1. relative pose from the essential matrix E = K^T F K with the cheirality check (<see cref="TwoViewGeometry.RelativePose"/>);
    ///  2. every confident, forward-backward consistent pixel of both keyframes triangulated from its flow and that pose
    ///     (midpoint method, Hartley and Zisserman 12.5), rejected when behind either camera or when its Sampson distance to
    ///     the pose's epipolar geometry exceeds 3 sigma + 0.5 px;
    ///  3. one scale for the chain: pair i's translation is scaled so that the keyframe it shares with pair i-1 gets the
    ///     same depth (median of the per-pixel ratios over pixels both pairs triangulated; ratio of medians otherwise);
    ///  4. a keyframe's depth is the confidence-weighted mean of its two pairs' depths; holes filled from a coarse grid of
    ///     median log-depths (empty cells diffused from their neighbours), upsampled bilinearly.
    /// A degenerate pair (pure rotation, planar, too little parallax) keeps the rotation of its homography, no translation,
    /// and chains the scale through the median depth of the previous keyframe.
    /// </summary>
    internal static class GeometricStart
    {
        public const double MinConfidence = 0.3;
        public const double MaxForwardBackwardPx = 1.0;
        /// <summary>Parallax angle (radians) at which a triangulated depth gets half confidence: 1 degree.</summary>
        private const double HalfConfidenceParallax = Math.PI / 180;

        public static StartResult Build(IReadOnlyList<FlowResult> adjacentPairs, int width, int height, double focal)
        {
            if (adjacentPairs == null) throw new ArgumentNullException(nameof(adjacentPairs));
            if (adjacentPairs.Count < 1) throw new ArgumentException("A geometric start needs at least one keyframe pair.", nameof(adjacentPairs));
            if (!(focal > 0) || !double.IsFinite(focal)) throw new ArgumentOutOfRangeException(nameof(focal), focal, "The focal must be a positive number of pixels.");
            for (int i = 0; i < adjacentPairs.Count; i++)
                if (adjacentPairs[i] == null || adjacentPairs[i].Width != width || adjacentPairs[i].Height != height)
                    throw new ArgumentException($"Flow pair {i} is not {width}x{height}.", nameof(adjacentPairs));
            int np = adjacentPairs.Count, nk = np + 1;
            double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
            var res = new StartResult
            {
                Poses = new CameraPose[nk], Depth = new FloatImage[nk], Confidence = new FloatImage[nk],
                PairPoses = new RelativePose?[np], PairScale = new double[np], PairRotation = new double[np][],
            };
            // 1-2. Per pair: pose and the triangulated depth of both keyframes (pair scale: |t| = 1).
            var depA = new double[np][]; var confA = new double[np][];
            var depB = new double[np][]; var confB = new double[np][];
            for (int i = 0; i < np; i++)
            {
                var flow = adjacentPairs[i];
                var c = Correspondences.FromFlow(flow);
                var geo = TwoViewGeometry.Analyse(c);
                RelativePose? pose = geo.Motion == PairMotion.General ? TwoViewGeometry.PoseFromFundamental(c, geo.Fundamental, focal, cx, cy) : null;
                res.PairPoses[i] = pose;
                if (pose == null)
                {
                    res.PairRotation[i] = RotationFromHomography(geo.Homography, focal, cx, cy);
                    res.Warnings.Add($"Keyframe pair {i}-{i + 1}: no usable parallax ({geo.Motion}); kept the homography's rotation and no translation.");
                    continue;
                }
                res.PairRotation[i] = pose.R;
                double sigma = Math.Max(TwoViewGeometry.MinFlowNoisePx, pose.Fit.Sigma);
                Triangulate(flow.Forward, flow.Backward, flow.ForwardConfidence, pose.R, pose.T, focal, cx, cy, sigma, out depA[i], out confA[i]);
                var rt = Mat3.Transpose(pose.R);
                var (tx, ty, tz) = Mat3.Apply(rt, -pose.T[0], -pose.T[1], -pose.T[2]);
                Triangulate(flow.Backward, flow.Forward, flow.BackwardConfidence, rt, new[] { tx, ty, tz }, focal, cx, cy, sigma, out depB[i], out confB[i]);
            }

            // 3. Chain the scale: s_i makes pair i's depth of keyframe i match pair i-1's (already scaled) depth of keyframe i.
            var scale = new double[np];
            double? lastMedian = null; // median depth of the latest keyframe with depth, in chain scale
            for (int i = 0; i < np; i++)
            {
                if (res.PairPoses[i] == null) { scale[i] = 0; continue; }
                double s = 1;
                if (i > 0 && res.PairPoses[i - 1] != null)
                {
                    var ratios = new List<double>();
                    var prev = depB[i - 1]; var cur = depA[i];
                    for (int p = 0; p < cur.Length; p++) if (prev[p] > 0 && cur[p] > 0) ratios.Add(scale[i - 1] * prev[p] / cur[p]);
                    if (ratios.Count >= 50) s = Median(ratios);
                    else s = scale[i - 1] * MedianPositive(prev) / MedianPositive(cur);
                }
                else if (lastMedian.HasValue)
                    s = lastMedian.Value / MedianPositive(depA[i]);
                if (!(s > 0) || !double.IsFinite(s)) s = lastMedian.HasValue ? lastMedian.Value / MedianPositive(depA[i]) : 1;
                if (!(s > 0) || !double.IsFinite(s)) s = 1;
                scale[i] = s;
                lastMedian = s * MedianPositive(depB[i]);
            }
            res.PairScale = scale;

            // Poses: c2w_{i+1} = c2w_i o (X_a = R^T (X_b - s t)).
            res.Poses[0] = CameraPose.Identity;
            for (int i = 0; i < np; i++)
            {
                var r = res.PairRotation[i];
                var rt = Mat3.Transpose(r);
                var t = res.PairPoses[i]?.T ?? new double[3];
                var (tx, ty, tz) = Mat3.Apply(rt, -scale[i] * t[0], -scale[i] * t[1], -scale[i] * t[2]);
                res.Poses[i + 1] = res.Poses[i].Compose(new CameraPose(rt, new[] { tx, ty, tz }));
            }

            // 4. Per keyframe: merge the two pairs' depths, then fill the holes.
            int npx = width * height;
            double fallback = 1;
            for (int i = 0; i < np; i++) if (scale[i] > 0) { fallback = scale[i] * MedianPositive(depA[i]); break; }
            for (int k = 0; k < nk; k++)
            {
                var d = new double[npx]; var w = new double[npx];
                void Add(double[]? dep, double[]? conf, double s)
                {
                    if (dep == null || conf == null || !(s > 0)) return;
                    for (int p = 0; p < npx; p++) if (dep[p] > 0 && conf[p] > 0) { d[p] += conf[p] * s * dep[p]; w[p] += conf[p]; }
                }
                if (k < np) Add(depA[k], confA[k], scale[k]);
                if (k > 0) Add(depB[k - 1], confB[k - 1], scale[k - 1]);
                var depth = new float[npx]; var conf = new float[npx];
                bool any = false;
                for (int p = 0; p < npx; p++)
                    if (w[p] > 0) { depth[p] = (float)(d[p] / w[p]); conf[p] = (float)Math.Min(1, w[p]); any = true; }
                if (!any)
                {
                    // A keyframe between degenerate pairs: the nearest earlier keyframe's median depth.
                    double m = k > 0 ? Median(res.Depth[k - 1].Data.Select(v => (double)v).ToList()) : fallback;
                    for (int p = 0; p < npx; p++) depth[p] = (float)m;
                }
                else FillHoles(depth, conf, width, height);
                res.Depth[k] = new FloatImage(width, height, depth);
                res.Confidence[k] = new FloatImage(width, height, conf);
            }
            return res;
        }

        /// <summary>
        /// z-depth of every pixel of the source frame from its flow to the target, given X_target = R X_source + t (|t| = 1).
        /// 0 where rejected. Confidence = flow confidence x (1 - exp(-(angle / 1 deg)^2)).
        /// </summary>
        internal static void Triangulate(FlowField fwd, FlowField bwd, FloatImage confidence, double[] r, double[] t, double focal, double cx, double cy,
            double sigma, out double[] depth, out double[] conf)
        {
            int w = fwd.Width, h = fwd.Height;
            depth = new double[w * h]; conf = new double[w * h];
            var k = Mat3.K(focal, cx, cy);
            var kinv = Mat3.KInverse(focal, cx, cy);
            // F of the pose: F = K^-T [t]_x R K^-1.
            var f = Mat3.Mul(Mat3.Transpose(kinv), Mat3.Mul(Mat3.Skew(t[0], t[1], t[2]), r), kinv);
            double maxSampson = 3 * sigma + 0.5;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x;
                    double c = confidence.Data[i];
                    if (!(c >= MinConfidence)) continue;
                    double u = fwd.Data[2 * i], v = fwd.Data[2 * i + 1];
                    double bx = x + u, by = y + v;
                    if (!(bx >= 0 && by >= 0 && bx <= w - 1 && by <= h - 1)) continue;
                    var (bu, bv) = Correspondences.Bilinear(bwd, bx, by);
                    if ((u + bu) * (u + bu) + (v + bv) * (v + bv) > MaxForwardBackwardPx * MaxForwardBackwardPx) continue;
                    if (!(TwoViewGeometry.Sampson(f, x, y, bx, by) <= maxSampson)) continue;
                    var (za, zb, ang) = TwoViewGeometry.Triangulate(r, t, (x - cx) / focal, (y - cy) / focal, (bx - cx) / focal, (by - cy) / focal);
                    if (!(za > 0 && zb > 0) || !double.IsFinite(za)) continue;
                    double pa = ang / HalfConfidenceParallax;
                    double cc = Math.Min(1, c) * (1 - Math.Exp(-pa * pa * Math.Log(2)));
                    if (!(cc > 1e-3)) continue;
                    depth[i] = za; conf[i] = cc;
                }
        }

        /// <summary>
        /// Fills pixels with zero confidence: median log-depth per coarse cell (about 16 cells across the short side), empty
        /// cells diffused from filled neighbours (Jacobi averaging until all are set), bilinear upsampling of the cell grid.
        /// </summary>
        internal static void FillHoles(float[] depth, float[] conf, int w, int h)
        {
            int cell = Math.Max(2, Math.Min(w, h) / 16);
            int gw = (w + cell - 1) / cell, gh = (h + cell - 1) / cell;
            var grid = new double[gw * gh];
            var has = new bool[gw * gh];
            var vals = new List<double>();
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                {
                    vals.Clear();
                    for (int y = gy * cell; y < Math.Min(h, (gy + 1) * cell); y++)
                        for (int x = gx * cell; x < Math.Min(w, (gx + 1) * cell); x++)
                            if (conf[y * w + x] > 0) vals.Add(Math.Log(depth[y * w + x]));
                    if (vals.Count >= Math.Max(1, cell * cell / 10)) { grid[gy * gw + gx] = Median(vals); has[gy * gw + gx] = true; }
                }
            if (!has.Any(b => b))
            {
                // Too sparse for cells: use the median of whatever is valid.
                vals.Clear();
                for (int p = 0; p < depth.Length; p++) if (conf[p] > 0) vals.Add(Math.Log(depth[p]));
                double m = vals.Count > 0 ? Median(vals) : 0;
                for (int p = 0; p < depth.Length; p++) if (!(conf[p] > 0)) depth[p] = (float)Math.Exp(m);
                return;
            }
            // Diffuse into empty cells (deterministic order; each round sets cells with a set neighbour).
            while (has.Any(b => !b))
            {
                var next = (double[])grid.Clone(); var nextHas = (bool[])has.Clone();
                for (int gy = 0; gy < gh; gy++)
                    for (int gx = 0; gx < gw; gx++)
                    {
                        if (has[gy * gw + gx]) continue;
                        double s = 0; int n = 0;
                        for (int dy = -1; dy <= 1; dy++)
                            for (int dx = -1; dx <= 1; dx++)
                            {
                                int qx = gx + dx, qy = gy + dy;
                                if (qx < 0 || qy < 0 || qx >= gw || qy >= gh || !has[qy * gw + qx]) continue;
                                s += grid[qy * gw + qx]; n++;
                            }
                        if (n > 0) { next[gy * gw + gx] = s / n; nextHas[gy * gw + gx] = true; }
                    }
                grid = next; has = nextHas;
            }
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int p = y * w + x;
                    if (conf[p] > 0) continue;
                    double fx = (x + 0.5) / cell - 0.5, fy = (y + 0.5) / cell - 0.5;
                    int x0 = Math.Max(0, Math.Min(gw - 1, (int)Math.Floor(fx))), y0 = Math.Max(0, Math.Min(gh - 1, (int)Math.Floor(fy)));
                    int x1 = Math.Min(gw - 1, x0 + 1), y1 = Math.Min(gh - 1, y0 + 1);
                    double ax = Math.Max(0, Math.Min(1, fx - x0)), ay = Math.Max(0, Math.Min(1, fy - y0));
                    double g = (1 - ay) * ((1 - ax) * grid[y0 * gw + x0] + ax * grid[y0 * gw + x1]) + ay * ((1 - ax) * grid[y1 * gw + x0] + ax * grid[y1 * gw + x1]);
                    depth[p] = (float)Math.Exp(g);
                }
        }

        /// <summary>The rotation nearest K^-1 H K (the infinite homography's rotation), identity when H is unusable.</summary>
        private static double[] RotationFromHomography(HomographyFit h, double focal, double cx, double cy)
        {
            if (!h.Valid) return Mat3.Identity();
            var m = Mat3.Mul(Mat3.KInverse(focal, cx, cy), h.H, Mat3.K(focal, cx, cy));
            if (Mat3.Det(m) < 0) m = Mat3.Scale(m, -1);
            return Mat3.NearestRotation(m);
        }

        private static double Median(List<double> v)
        {
            if (v.Count == 0) return double.NaN;
            v.Sort();
            return v.Count % 2 == 1 ? v[v.Count / 2] : 0.5 * (v[v.Count / 2 - 1] + v[v.Count / 2]);
        }

        private static double MedianPositive(double[] v)
        {
            var l = new List<double>();
            foreach (var x in v) if (x > 0) l.Add(x);
            return Median(l);
        }
    }
}
