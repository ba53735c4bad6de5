using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using FlowMap.Datasets;
using FlowMap.Evaluation;
using FlowMap.Export;
using FlowMap.Flow;
using FlowMap.Reconstruction;
using FlowMap.Solve.Geometry;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Evaluation
{
    /// <summary>
    /// Which focal do ICL-NUIM's images hold, independent of our flow and of the sequence's reference poses? Direct image
    /// alignment with the rendered depth: for each pair, the second image sampled where the first image's pixels land
    /// (first frame's z-depth, focal f, relative pose), Gauss-Newton over the pose from the reference's, Huber on luminance;
    /// the photometric cost summed over pairs as a function of f, its minimum interpolated by a parabola. With exact depth
    /// the focal enters through the rotation's second-order terms and the depth-to-translation ratio, independent of any
    /// flow estimate.
    /// Measured (full resolution, 14 pairs 6 and 12 frames apart): the images put the focal at 0.999 x 525 px, the rendered
    /// control walk at 1.001 x its true focal: 525 px is the images' focal, and the offline solve's +1.44 % is ours. The
    /// reference poses are off: alignment lowers the photometric cost of every pair (by up to 2.7x, frames 90-102) and
    /// turns the relative rotation by 0.02-0.70 deg from the reference's, so an ATE against them has a floor. The mapping
    /// flow's self-calibration on these pairs says +0.61 % (relative std 0.79 %; the offline solve's own self-calibration,
    /// over its 33 keyframes' pairs, +1.16 %), but at the images' own motion (the aligned poses) its epipolar geometry
    /// holds 1.0044 x 525 px: the flow agrees with the images' focal given their motion, and the solve's +1.44 % arises
    /// where focal and motion are estimated together.
    /// Skips visibly when ../shared/data is absent.
    /// </summary>
    public sealed class ImageFocalTests : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public ImageFocalTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        /// <summary>Luminance (0-255) with bilinear samples and their gradient.</summary>
        private sealed class Luma
        {
            public readonly int W, H;
            public readonly double[] L;
            public Luma(RgbImage im)
            {
                W = im.Width; H = im.Height; L = new double[W * H];
                for (int p = 0; p < W * H; p++) L[p] = 0.299 * im.Pixels[3 * p] + 0.587 * im.Pixels[3 * p + 1] + 0.114 * im.Pixels[3 * p + 2];
            }

            /// <summary>Value and gradient at (x, y); false within a pixel of the border.</summary>
            public bool Sample(double x, double y, out double v, out double gx, out double gy)
            {
                v = gx = gy = 0;
                if (!(x >= 1 && y >= 1 && x < W - 2 && y < H - 2)) return false;
                int x0 = (int)x, y0 = (int)y;
                double fx = x - x0, fy = y - y0;
                double a = L[y0 * W + x0], b = L[y0 * W + x0 + 1], c = L[(y0 + 1) * W + x0], d = L[(y0 + 1) * W + x0 + 1];
                v = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
                gx = (1 - fy) * (b - a) + fy * (d - c);
                gy = (1 - fx) * (c - a) + fx * (d - b);
                return true;
            }
        }

        /// <summary>One pair: the first frame's pixels with depth that the second frame sees, and the relative pose (a -> b camera).</summary>
        private sealed class Pair
        {
            public Luma A = null!, B = null!;
            public readonly List<(int X, int Y, double Depth)> Pixels = new List<(int, int, double)>();
            public CameraPose Reference;
            public double[] R = null!, T = null!;
            public void Reset() { R = Reference.Rotation; T = Reference.Translation; }
        }

        /// <summary>
        /// Pixels on a grid of <paramref name="stride"/> with valid depth, away from depth edges (5x5 within 2 %), landing
        /// inside b at the reference pose and not occluded there (b's depth within 2 %): the same set for every focal tried.
        /// </summary>
        private static Pair MakePair(RgbImage a, RgbImage b, FloatImage da, FloatImage db, CameraPose aToB, Intrinsics k, int stride)
        {
            var p = new Pair { A = new Luma(a), B = new Luma(b), Reference = aToB };
            p.Reset();
            int w = k.Width, h = k.Height;
            for (int y = 3; y < h - 3; y += stride)
                for (int x = 3; x < w - 3; x += stride)
                {
                    double d = da[x, y];
                    if (!(d > 0)) continue;
                    bool edge = false;
                    for (int yy = -2; yy <= 2 && !edge; yy++)
                        for (int xx = -2; xx <= 2 && !edge; xx++)
                        {
                            double e = da[x + xx, y + yy];
                            edge = !(e > 0) || Math.Abs(e - d) > 0.02 * d;
                        }
                    if (edge) continue;
                    var (X, Y, Z) = aToB.Transform(d * (x - k.Cx) / k.Fx, d * (y - k.Cy) / k.Fy, d);
                    double u = k.Fx * X / Z + k.Cx, v = k.Fy * Y / Z + k.Cy;
                    if (!(u >= 4 && v >= 4 && u < w - 5 && v < h - 5)) continue;
                    if (!(Math.Abs(db[(int)Math.Round(u), (int)Math.Round(v)] - Z) < 0.02 * Z)) continue;
                    p.Pixels.Add((x, y, d));
                }
            return p;
        }

        /// <summary>
        /// Huber (8 grey levels) photometric cost of the pair at focal f (fx = fy = f, the principal point of
        /// <paramref name="k"/>) after <paramref name="iterations"/> Gauss-Newton steps over its pose (kept in the pair).
        /// </summary>
        private static double Align(Pair p, Intrinsics k, double f, int iterations)
        {
            const double huber = 8;
            double cost = 0;
            for (int it = 0; it <= iterations; it++)
            {
                var hm = new double[36];
                var g = new double[6];
                cost = 0;
                var R = p.R; var T = p.T;
                foreach (var (x, y, d) in p.Pixels)
                {
                    double X = d * (x - k.Cx) / f, Y = d * (y - k.Cy) / f;
                    double xb = R[0] * X + R[1] * Y + R[2] * d + T[0], yb = R[3] * X + R[4] * Y + R[5] * d + T[1], zb = R[6] * X + R[7] * Y + R[8] * d + T[2];
                    if (!(zb > 1e-6)) continue;
                    double iz = 1 / zb;
                    if (!p.B.Sample(f * xb * iz + k.Cx, f * yb * iz + k.Cy, out double vb, out double gx, out double gy)) continue;
                    p.A.Sample(x, y, out double va, out _, out _);
                    double r = vb - va, ar = Math.Abs(r);
                    double wgt = ar <= huber ? 1 : huber / ar;
                    cost += ar <= huber ? 0.5 * r * r : huber * (ar - 0.5 * huber);
                    // d(residual)/d(point in b), then the point's change under b <- exp(w) b + dt: w x P + dt.
                    double px = gx * f * iz, py = gy * f * iz, pz = -(gx * xb + gy * yb) * f * iz * iz;
                    var j = new[] { py * -zb + pz * yb, px * zb - pz * xb, -px * yb + py * xb, px, py, pz };
                    for (int m = 0; m < 6; m++)
                    {
                        g[m] += wgt * j[m] * r;
                        for (int q = 0; q <= m; q++) hm[6 * m + q] += wgt * j[m] * j[q];
                    }
                }
                if (it == iterations) break;
                for (int m = 0; m < 6; m++) for (int q = m + 1; q < 6; q++) hm[6 * m + q] = hm[6 * q + m];
                for (int m = 0; m < 6; m++) hm[7 * m] *= 1 + 1e-4; // a trace of damping: a textureless pair stays solvable
                var step = SolveSpd(hm, g);
                var dr = FramePoseEstimator.Rodrigues(-step[0], -step[1], -step[2]);
                p.R = Mul(dr, R);
                p.T = new[]
                {
                    dr[0] * T[0] + dr[1] * T[1] + dr[2] * T[2] - step[3],
                    dr[3] * T[0] + dr[4] * T[1] + dr[5] * T[2] - step[4],
                    dr[6] * T[0] + dr[7] * T[1] + dr[8] * T[2] - step[5],
                };
            }
            return cost;
        }

        /// <summary>Cholesky solve of the 6x6 system H x = g (H symmetric positive definite, row-major).</summary>
        private static double[] SolveSpd(double[] hm, double[] g)
        {
            const int n = 6;
            var l = new double[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++)
                {
                    double s = hm[i * n + j];
                    for (int q = 0; q < j; q++) s -= l[i * n + q] * l[j * n + q];
                    l[i * n + j] = i == j ? Math.Sqrt(s) : s / l[j * n + j];
                }
            var z = new double[n];
            for (int i = 0; i < n; i++) { double s = g[i]; for (int q = 0; q < i; q++) s -= l[i * n + q] * z[q]; z[i] = s / l[i * n + i]; }
            var x = new double[n];
            for (int i = n - 1; i >= 0; i--) { double s = z[i]; for (int q = i + 1; q < n; q++) s -= l[q * n + i] * x[q]; x[i] = s / l[i * n + i]; }
            return x;
        }

        private static double[] Mul(double[] a, double[] b)
        {
            var c = new double[9];
            for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int q = 0; q < 3; q++) c[3 * i + j] += a[3 * i + q] * b[3 * q + j];
            return c;
        }

        /// <summary>Angle (degrees) between two rotations (row-major).</summary>
        private static double AngleBetween(double[] a, double[] b)
        {
            double tr = 0;
            for (int i = 0; i < 3; i++) for (int q = 0; q < 3; q++) tr += a[3 * i + q] * b[3 * i + q];
            return Math.Acos(Math.Clamp((tr - 1) / 2, -1, 1)) * 180 / Math.PI;
        }

        private static readonly double[] s_epipolarScales = Enumerable.Range(-8, 17).Select(q => 1 + 0.0025 * q).ToArray();

        /// <summary>
        /// Sum over matches a -> b of ln(1 + d^2 / 0.25), d the distance in pixels of b from the epipolar line of a for the
        /// motion <paramref name="aToB"/> (its translation's direction) and focal <paramref name="f"/> (principal point of
        /// <paramref name="k"/>).
        /// </summary>
        private static double EpipolarCost(Correspondences c, CameraPose aToB, Intrinsics k, double f)
        {
            var r = aToB.Rotation; var t = aToB.Translation;
            double tn = Math.Sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
            double tx = t[0] / tn, ty = t[1] / tn, tz = t[2] / tn;
            var cross = new[] { 0, -tz, ty, tz, 0, -tx, -ty, tx, 0 };
            var e = new double[9];
            for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int q = 0; q < 3; q++) e[3 * i + j] += cross[3 * i + q] * r[3 * q + j];
            double cost = 0;
            for (int m = 0; m < c.Count; m++)
            {
                double x1 = (c.A[2 * m] - k.Cx) / f, y1 = (c.A[2 * m + 1] - k.Cy) / f, x2 = (c.B[2 * m] - k.Cx) / f, y2 = (c.B[2 * m + 1] - k.Cy) / f;
                double l0 = e[0] * x1 + e[1] * y1 + e[2], l1 = e[3] * x1 + e[4] * y1 + e[5], l2 = e[6] * x1 + e[7] * y1 + e[8];
                double d = f * (x2 * l0 + y2 * l1 + l2) / Math.Sqrt(l0 * l0 + l1 * l1);
                cost += Math.Log(1 + d * d / 0.25);
            }
            return cost;
        }

        private static readonly double[] s_focalScales = { 0.985, 0.99, 0.995, 1.0, 1.005, 1.01, 1.015 };

        /// <summary>
        /// The photometric cost over all pairs per focal (each pair's pose aligned from the reference at every focal), and
        /// the focal over <paramref name="k"/>'s at the parabola through the lowest cost and its neighbours.
        /// </summary>
        private double FocalOptimum(List<Pair> pairs, Intrinsics k, string label)
        {
            var costs = new double[s_focalScales.Length];
            for (int q = 0; q < s_focalScales.Length; q++)
            {
                var per = new double[pairs.Count];
                Parallel.For(0, pairs.Count, c => { pairs[c].Reset(); per[c] = Align(pairs[c], k, k.Fx * s_focalScales[q], 10); });
                costs[q] = per.Sum();
            }
            _out.WriteLine($"{label}: photometric cost by focal / nominal " + string.Join(", ", s_focalScales.Select((s, q) => $"{s:F3}: {costs[q]:F0}")));
            int best = Array.IndexOf(costs, costs.Min());
            Assert.True(best > 0 && best < costs.Length - 1, $"{label}: the lowest cost is at the edge of the focals tried ({s_focalScales[best]})");
            double e0 = costs[best - 1], e1 = costs[best], e2 = costs[best + 1], h = s_focalScales[1] - s_focalScales[0];
            double optimum = s_focalScales[best] + h * (e0 - e2) / (2 * (e0 - 2 * e1 + e2));
            _out.WriteLine($"{label}: optimum at {optimum:F4} x {k.Fx:F2} px");
            return optimum;
        }

        [Fact]
        public void Direct_alignment_finds_a_rendered_walks_focal()
        {
            // The control: the renderer's depth, images and poses agree exactly, so the measure must return the true focal;
            // within half the focal target (1 %). Over 20 other scene and path seeds (2-21) the optimum was 0.9989-1.0009.
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = "walk", Frames = 41, Width = 320, Height = 240, Seed = 1 }, Ctx, ownsContext: false);
            var k = seq.Intrinsics;
            var pairs = Enumerable.Range(0, 8).SelectMany(i => new[] { (4 * i, 4 * i + 4), (4 * i, 4 * i + 8) })
                .Select(ij => MakePair(seq.Frame(ij.Item1), seq.Frame(ij.Item2), seq.Depth(ij.Item1), seq.Depth(ij.Item2),
                    seq.Poses[ij.Item2].Inverse().Compose(seq.Poses[ij.Item1]), k, 1)).ToList();
            Assert.InRange(FocalOptimum(pairs, k, "rendered walk"), 0.995, 1.005);
        }

        [Fact]
        public void Icl_nuim_images_with_their_depth_hold_the_stated_focal_and_correct_the_reference_rotations()
        {
            var dir = Repo.SharedData("icl_nuim_livingroom1");
            if (dir == null) Assert.Skip("../shared/data/icl_nuim_livingroom1 is absent.");
            var icl = IclNuim.Open(dir);
            var k = icl.Intrinsics;
            var ij = Enumerable.Range(0, 7).SelectMany(i => new[] { 6, 12 }.Select(d => (A: 30 * i, B: 30 * i + d))).ToList();
            var pairs = ij.Select(q => MakePair(icl.ReadColor(q.A), icl.ReadColor(q.B), icl.ReadDepth(q.A), icl.ReadDepth(q.B),
                icl.Poses[q.B].Inverse().Compose(icl.Poses[q.A]), k, 2)).ToList();

            // 1. The focal the images hold, within the focal target of issue 11 (1 %) of the stated 525 px.
            Assert.InRange(FocalOptimum(pairs, k, "ICL-NUIM"), 0.99, 1.01);

            // 2. At 525 px, alignment from the reference poses lowers every pair's cost: the reference's rotations are off.
            var aligned = new CameraPose[pairs.Count];
            for (int c = 0; c < pairs.Count; c++)
            {
                var p = pairs[c];
                p.Reset();
                double before = Align(p, k, k.Fx, 0), after = Align(p, k, k.Fx, 10);
                aligned[c] = new CameraPose(p.R, p.T);
                _out.WriteLine($"pair {ij[c].A}-{ij[c].B}: cost per pixel {before / p.Pixels.Count:F2} at the reference pose, {after / p.Pixels.Count:F2} aligned; " +
                    $"rotation {AngleBetween(p.R, p.Reference.Rotation):F3} deg from the reference's ({p.Reference.RotationAngle() * 180 / Math.PI:F2} deg)");
                Assert.True(after <= before, $"pair {ij[c].A}-{ij[c].B}: alignment raised the cost");
            }

            // 3. Self-calibration at the processing size on the same pairs: exact on the flow of the depth and the aligned
            //    poses (it is unbiased on consistent flow), and what it says from the mapping flow (printed; issue 11's error).
            var kp = k.Resized(320, 240);
            using var flow = new VulkanFlowEstimator(Ctx, VulkanFlowOptions.Mapping());
            var estimated = new List<Correspondences>();
            var truth = new List<Correspondences>();
            var epipolar = new double[s_epipolarScales.Length];
            for (int c = 0; c < ij.Count; c++)
            {
                estimated.Add(Correspondences.FromFlow(flow.Estimate(ImageResampler.Resize(icl.ReadColor(ij[c].A), 320, 240), ImageResampler.Resize(icl.ReadColor(ij[c].B), 320, 240))));
                for (int q = 0; q < s_epipolarScales.Length; q++) epipolar[q] += EpipolarCost(estimated[c], aligned[c], kp, kp.Fx * s_epipolarScales[q]);
                var poseB = icl.Poses[ij[c].A].Compose(aligned[c].Inverse());
                truth.Add(Correspondences.FromFlow(TruthFlow.Between(icl.ReadDepth(ij[c].A), icl.Poses[ij[c].A], icl.ReadDepth(ij[c].B), poseB, kp)));
            }
            var fromTruth = SelfCalibration.Estimate(truth, 320, 240);
            var fromEstimate = SelfCalibration.Estimate(estimated, 320, 240);
            _out.WriteLine($"self-calibration from the flow of the depth and the aligned poses: {fromTruth.Focal / kp.Fx:F4} of the focal; " +
                $"from the mapping flow: {fromEstimate.Focal / kp.Fx - 1:+0.00%;-0.00%} (relative std {fromEstimate.RelStd:P2}, {fromEstimate.PairsUsed} of {ij.Count} pairs)");
            Assert.InRange(fromTruth.Focal / kp.Fx, 0.999, 1.001);

            // 4. The mapping flow's epipolar geometry at the images' own motion (the aligned poses) and focal f: a Cauchy cost
            //    (0.5 px) of each match's distance to its epipolar line. Given the motion, the flow holds the focal to well
            //    within the 1 % target; the offline solve's error arises where focal and motion are estimated together.
            int best = Array.IndexOf(epipolar, epipolar.Min());
            Assert.True(best > 0 && best < epipolar.Length - 1, $"the epipolar optimum is at the edge of the focals tried ({s_epipolarScales[best]})");
            double hq = s_epipolarScales[1] - s_epipolarScales[0];
            double atMotion = s_epipolarScales[best] + hq * (epipolar[best - 1] - epipolar[best + 1]) / (2 * (epipolar[best - 1] - 2 * epipolar[best] + epipolar[best + 1]));
            _out.WriteLine($"the mapping flow's epipolar optimum at the aligned motion: {atMotion:F4} x the focal");
            Assert.InRange(atMotion, 0.99, 1.01);
        }
    }
}
