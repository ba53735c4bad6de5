using System;
using System.Collections.Generic;
using FlowMap.Solve.Refine;
using FlowMap.Synthetic;

namespace FlowMap.Tests.Solve.Refine
{
    /// <summary>Bundle problems with exact truth from the synthetic renderer, and their perturbed starts and scores.</summary>
    internal sealed class BundleScene
    {
        public BundleProblem Problem = null!;
        public BundleState Truth = null!;
        /// <summary>Per keyframe and cell: true when the true depth is smooth around the cell centre (within 5 % over the stride x stride block).</summary>
        public bool[][] Smooth = null!;

        /// <summary>The linearisation tests' problem at an odd size: a walk rendered at 61x47, 4 keyframes 3 frames apart,
        /// stride 4 (15 x 11 = 165 cells, not a multiple of the 32-wide work group). The sequence stays the caller's to dispose.</summary>
        public static (SyntheticSequence Sequence, BundleScene Scene) Small(FlowMap.Gpu.GpuContext ctx, double k1)
        {
            var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 2),
                new SyntheticSequenceOptions { Path = "walk", Frames = 10, Width = 61, Height = 47, Seed = 2, Samples = 1 }, ctx, ownsContext: false);
            return (seq, Create(seq, keyframes: 4, step: 3, stride: 4, k1: k1));
        }

        /// <summary>The linearisation tests' start on <see cref="Small"/>: 1 degree, 5 % of the baseline, 10 % of the inverse depth and 3 % of the focal off; k1 at 0.9 of the scene's.</summary>
        public BundleState SmallStart(Random rng)
        {
            var s = Perturbed(rng, 1, 0.05, 0.1, 1.03);
            s.K1 = Truth.K1 * 0.9;
            return s;
        }

        /// <summary>
        /// Keyframes every <paramref name="step"/> frames of a rendered sequence, edges (i, i+1), (i, i+2), (i, i+3).
        /// k1 = 0: the renderer's exact flow and occlusion (confidence = 1 - occlusion). k1 != 0: flow of a SIMPLE_RADIAL
        /// camera synthesised from the true pinhole depth and poses (each distorted pixel undistorted, lifted with the
        /// depth of its ray, moved, projected and distorted), confidence 0 where the ray leaves the rendered view, crosses a
        /// depth edge, or is occluded in J (z-test against J's depth).
        /// </summary>
        public static BundleScene Create(SyntheticSequence seq, int keyframes, int step, int stride, double k1 = 0, Func<int, int, FlowField, FlowField>? corrupt = null)
        {
            var K = seq.Intrinsics;
            int w = K.Width, h = K.Height;
            var kf = new int[keyframes];
            for (int i = 0; i < keyframes; i++) kf[i] = i * step;
            var depth = new FloatImage[keyframes];
            for (int i = 0; i < keyframes; i++) depth[i] = Copy(seq.Depth(kf[i]));
            var edges = new List<BundleEdge>();
            for (int i = 0; i < keyframes; i++)
                for (int d = 1; d <= 3 && i + d < keyframes; d++)
                {
                    int j = i + d;
                    FlowField flow; FloatImage conf;
                    if (k1 == 0)
                    {
                        flow = new FlowField(w, h, (float[])seq.Flow(kf[i], kf[j]).Data.Clone());
                        var occ = seq.Occlusion(kf[i], kf[j]);
                        conf = new FloatImage(w, h);
                        for (int p = 0; p < conf.Data.Length; p++) conf.Data[p] = 1 - Math.Min(1, Math.Max(0, occ.Data[p]));
                    }
                    else (flow, conf) = DistortedFlow(K, k1, seq.Pose(kf[i]), seq.Pose(kf[j]), depth[i], depth[j]);
                    if (corrupt != null) flow = corrupt(i, j, flow);
                    edges.Add(new BundleEdge { I = i, J = j, Flow = flow, Confidence = conf });
                }
            var prob = new BundleProblem(w, h, keyframes, edges, stride);
            var truth = new BundleState { Poses = new CameraPose[keyframes], InverseDepth = new double[keyframes][], Focal = K.Fx, K1 = k1 };
            var smooth = new bool[keyframes][];
            for (int i = 0; i < keyframes; i++)
            {
                truth.Poses[i] = seq.Pose(kf[i]);
                truth.InverseDepth[i] = new double[prob.Cells];
                smooth[i] = new bool[prob.Cells];
                for (int gy = 0; gy < prob.Gh; gy++)
                    for (int gx = 0; gx < prob.Gw; gx++)
                    {
                        double x = prob.CellCenter(gx), y = prob.CellCenter(gy);
                        double px = x, py = y;
                        if (k1 != 0)
                        {
                            BundleModel.Undistort(x, y, K.Cx, K.Cy, K.Fx, k1, out double xn, out double yn, out _, out _, out _, out _);
                            px = K.Fx * xn + K.Cx; py = K.Fy * yn + K.Cy;
                        }
                        double z = Bilinear(depth[i], px, py);
                        truth.InverseDepth[i][gy * prob.Gw + gx] = z > 0 ? 1 / z : 1;
                        smooth[i][gy * prob.Gw + gx] = z > 0 && SmoothAround(depth[i], px, py, stride);
                    }
            }
            return new BundleScene { Problem = prob, Truth = truth, Smooth = smooth };
        }

        private static FloatImage Copy(FloatImage a) => new FloatImage(a.Width, a.Height, (float[])a.Data.Clone());

        public static double Bilinear(FloatImage img, double x, double y)
        {
            if (x < 0 || y < 0 || x > img.Width - 1 || y > img.Height - 1) return -1;
            int x0 = Math.Min((int)x, img.Width - 2), y0 = Math.Min((int)y, img.Height - 2);
            double ax = x - x0, ay = y - y0;
            return (img[x0, y0] * (1 - ax) + img[x0 + 1, y0] * ax) * (1 - ay) + (img[x0, y0 + 1] * (1 - ax) + img[x0 + 1, y0 + 1] * ax) * ay;
        }

        private static bool SmoothAround(FloatImage d, double x, double y, int stride)
        {
            int r = Math.Max(1, stride / 2 + 1);
            float lo = float.MaxValue, hi = 0;
            for (int yy = (int)y - r; yy <= (int)y + r + 1; yy++)
                for (int xx = (int)x - r; xx <= (int)x + r + 1; xx++)
                {
                    if (xx < 0 || yy < 0 || xx >= d.Width || yy >= d.Height) continue;
                    lo = Math.Min(lo, d[xx, yy]); hi = Math.Max(hi, d[xx, yy]);
                }
            return lo > 0 && hi <= 1.05f * lo;
        }

        private static (FlowField, FloatImage) DistortedFlow(Intrinsics K, double k1, CameraPose pi, CameraPose pj, FloatImage di, FloatImage dj)
        {
            int w = K.Width, h = K.Height;
            var flow = new FlowField(w, h); var conf = new FloatImage(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    if (!BundleModel.Undistort(x, y, K.Cx, K.Cy, K.Fx, k1, out double xn, out double yn, out _, out _, out _, out _)) continue;
                    double px = K.Fx * xn + K.Cx, py = K.Fy * yn + K.Cy;
                    double z = Bilinear(di, px, py);
                    if (!(z > 0) || !SmoothAround(di, px, py, 1)) continue;
                    var wp = pi.Transform(xn * z, yn * z, z);
                    var inv = pj.Inverse();
                    var c = inv.Transform(wp.X, wp.Y, wp.Z);
                    if (!(c.Z > 0)) continue;
                    double xj = c.X / c.Z, yj = c.Y / c.Z;
                    double zj = Bilinear(dj, K.Fx * xj + K.Cx, K.Fy * yj + K.Cy);
                    if (!(zj > 0) || c.Z > 1.01 * zj) continue;
                    double r2 = xj * xj + yj * yj;
                    if (!(1 + 3 * k1 * r2 > 0)) continue;
                    double u = K.Fx * xj * (1 + k1 * r2) + K.Cx, v = K.Fy * yj * (1 + k1 * r2) + K.Cy;
                    flow.Data[2 * (y * w + x)] = (float)(u - x); flow.Data[2 * (y * w + x) + 1] = (float)(v - y);
                    conf[x, y] = 1;
                }
            return (flow, conf);
        }

        /// <summary>
        /// A corruption for <see cref="Create"/>: in <paramref name="fraction"/> of the cells of every edge the flow of the
        /// whole stride x stride block is shifted by 15-40 px in a random direction; the corrupted (I, J, cell) go into
        /// <paramref name="bad"/>.
        /// </summary>
        public static Func<int, int, FlowField, FlowField> GrossOutliers(Random rng, int width, int height, int stride, double fraction, HashSet<(int I, int J, int Cell)> bad)
        {
            int gw = width / stride, gh = height / stride;
            return (i, j, f) =>
            {
                for (int c = 0; c < gw * gh; c++)
                {
                    if (rng.NextDouble() >= fraction) continue;
                    bad.Add((i, j, c));
                    double ang = 2 * Math.PI * rng.NextDouble(), mag = 15 + 25 * rng.NextDouble();
                    int gx = c % gw, gy = c / gw;
                    for (int y = gy * stride; y < gy * stride + stride; y++)
                        for (int x = gx * stride; x < gx * stride + stride; x++)
                        {
                            f.Data[2 * (y * width + x)] += (float)(mag * Math.Cos(ang));
                            f.Data[2 * (y * width + x) + 1] += (float)(mag * Math.Sin(ang));
                        }
                }
                return f;
            };
        }

        /// <summary>
        /// A depth is identifiable under gross outliers only where its clean observations outnumber its corrupted ones
        /// (one clean and one corrupted observation are two equally good minima): true for cells where they do not.
        /// </summary>
        public bool Unidentifiable(HashSet<(int I, int J, int Cell)> bad, int k, int c)
        {
            int clean = 0, corrupted = 0;
            for (int e = 0; e < Problem.Edges.Count; e++)
            {
                if (Problem.Edges[e].I != k || !(Problem.Obs[e][4 * c + 2] > 0.5f)) continue;
                if (bad.Contains((k, Problem.Edges[e].J, c))) corrupted++; else clean++;
            }
            return clean <= corrupted;
        }

        /// <summary>
        /// The truth perturbed: keyframe 0 exact (the gauge), the others rotated by <paramref name="degrees"/> about a
        /// random axis and moved by <paramref name="translation"/> x their distance to keyframe 0 in a random direction;
        /// inverse depth x (1 + depthNoise u), u uniform in [-1, 1]; focal x <paramref name="focalFactor"/>; k1 = 0.
        /// </summary>
        public BundleState Perturbed(Random rng, double degrees, double translation, double depthNoise, double focalFactor)
        {
            var s = Truth.Clone();
            for (int k = 1; k < s.Poses.Length; k++)
            {
                var p = s.Poses[k];
                double dist = Math.Sqrt(Sq(p.T(0) - s.Poses[0].T(0)) + Sq(p.T(1) - s.Poses[0].T(1)) + Sq(p.T(2) - s.Poses[0].T(2)));
                var a = Unit(rng); var b = Unit(rng);
                double th = degrees * Math.PI / 180;
                var d = new[] { 0.0, 0, 0, th * a[0], th * a[1], th * a[2] };
                var rot = BundleModel.Retract(p, d);
                s.Poses[k] = new CameraPose(rot.Rotation, new[] { p.T(0) + translation * dist * b[0], p.T(1) + translation * dist * b[1], p.T(2) + translation * dist * b[2] });
            }
            foreach (var g in s.InverseDepth)
                for (int c = 0; c < g.Length; c++) g[c] *= 1 + depthNoise * (2 * rng.NextDouble() - 1);
            s.Focal *= focalFactor;
            s.K1 = 0;
            return s;
        }

        private static double Sq(double v) => v * v;
        private static double[] Unit(Random r)
        {
            while (true)
            {
                double x = 2 * r.NextDouble() - 1, y = 2 * r.NextDouble() - 1, z = 2 * r.NextDouble() - 1, n = Math.Sqrt(x * x + y * y + z * z);
                if (n > 0.1 && n <= 1) return new[] { x / n, y / n, z / n };
            }
        }

        /// <summary>Scores a state against the truth after the scale gauge: s = |c_1 - c_0| true / estimated.</summary>
        public (double Scale, double MaxRotDeg, double MaxCentreErr, double AbsRel) Score(BundleState est, Func<int, int, bool>? exclude = null) =>
            ScoreWithMedian(est, exclude).Score;

        /// <summary><see cref="Score"/>, and the median of the cells' relative depth errors (robust to a few cells in another minimum).</summary>
        public ((double Scale, double MaxRotDeg, double MaxCentreErr, double AbsRel) Score, double MedianRel) ScoreWithMedian(BundleState est, Func<int, int, bool>? exclude = null)
        {
            var t = Truth;
            double bt = Dist(t.Poses[1], t.Poses[0]), be = Dist(est.Poses[1], est.Poses[0]);
            double scale = bt / be;
            double maxRot = 0, maxC = 0;
            for (int k = 0; k < t.Poses.Length; k++)
            {
                var d = t.Poses[k].Inverse().Compose(est.Poses[k]);
                maxRot = Math.Max(maxRot, d.RotationAngle() * 180 / Math.PI);
                double ex = t.Poses[0].T(0) + scale * (est.Poses[k].T(0) - est.Poses[0].T(0)) - t.Poses[k].T(0);
                double ey = t.Poses[0].T(1) + scale * (est.Poses[k].T(1) - est.Poses[0].T(1)) - t.Poses[k].T(1);
                double ez = t.Poses[0].T(2) + scale * (est.Poses[k].T(2) - est.Poses[0].T(2)) - t.Poses[k].T(2);
                maxC = Math.Max(maxC, Math.Sqrt(ex * ex + ey * ey + ez * ez));
            }
            double sum = 0; int n = 0;
            var rel = new List<double>();
            for (int k = 0; k < t.Poses.Length; k++)
            {
                bool source = false;
                foreach (var e in Problem.Edges) if (e.I == k) source = true;
                if (!source) continue;
                for (int c = 0; c < Problem.Cells; c++)
                {
                    if (!Smooth[k][c] || !Observed(k, c)) continue;
                    if (exclude != null && exclude(k, c)) continue;
                    double zt = 1 / t.InverseDepth[k][c], ze = scale / est.InverseDepth[k][c];
                    sum += Math.Abs(ze - zt) / zt; n++;
                    rel.Add(Math.Abs(ze - zt) / zt);
                }
            }
            rel.Sort();
            return ((scale, maxRot, maxC, sum / Math.Max(1, n)), rel.Count > 0 ? rel[rel.Count / 2] : double.NaN);
        }

        private bool Observed(int k, int c)
        {
            for (int e = 0; e < Problem.Edges.Count; e++)
                if (Problem.Edges[e].I == k && Problem.Obs[e][4 * c + 2] > 0.5f) return true;
            return false;
        }

        private static double Dist(CameraPose a, CameraPose b) => Math.Sqrt(Sq(a.T(0) - b.T(0)) + Sq(a.T(1) - b.T(1)) + Sq(a.T(2) - b.T(2)));
    }
}
