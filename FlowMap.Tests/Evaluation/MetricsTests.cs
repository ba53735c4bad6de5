using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Export;
using FlowMap.Tests.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Evaluation
{
    public sealed class TrajectoryMetricsTests
    {
        /// <summary>Applies a world similarity (scale s, rotation W, translation t) to camera-to-world poses: c' = s W c + t, R' = W R.</summary>
        internal static List<CameraPose> Transform(IEnumerable<CameraPose> poses, double s, CameraPose w, double[] t) =>
            poses.Select(p =>
            {
                var c = w.Transform(p.T(0), p.T(1), p.T(2));
                var r = w.Compose(new CameraPose(p.Rotation, new double[3])).Rotation;
                return new CameraPose(r, new[] { s * c.X + t[0], s * c.Y + t[1], s * c.Z + t[2] });
            }).ToList();

        internal static List<CameraPose> Walk(Random r, int n)
        {
            var list = new List<CameraPose>();
            var p = CameraPose.Identity;
            for (int i = 0; i < n; i++)
            {
                list.Add(p);
                var step = CameraPose.FromQuaternion(r.NextDouble() * 0.1 - 0.05, r.NextDouble() * 0.1 - 0.05, r.NextDouble() * 0.1 - 0.05, 1,
                                                     r.NextDouble() * 0.2 - 0.1, r.NextDouble() * 0.2 - 0.1, 0.05 + r.NextDouble() * 0.1);
                p = p.Compose(step);
            }
            return list;
        }

        [Fact]
        public void Umeyama_alignment_recovers_a_known_similarity()
        {
            var r = Rng.Fresh(out int seed);
            var src = Enumerable.Range(0, 20).Select(_ => (r.NextDouble() * 4 - 2, r.NextDouble() * 4 - 2, r.NextDouble() * 4 - 2)).ToList();
            var w = TumTrajectoryTests.RandomPose(r);
            var known = new Similarity(2.5, w.Rotation, new[] { 1.0, -2.0, 0.5 });
            var dst = src.Select(p => known.Apply(p)).ToList();
            var got = Similarity.Align(src, dst);
            Assert.True(Math.Abs(got.Scale - 2.5) < 1e-9, $"seed {seed}: scale {got.Scale}");
            for (int i = 0; i < 9; i++) Assert.True(Math.Abs(got.Rotation[i] - known.Rotation[i]) < 1e-9, $"seed {seed}: R[{i}]");
            for (int i = 0; i < 3; i++) Assert.True(Math.Abs(got.Translation[i] - known.Translation[i]) < 1e-9, $"seed {seed}: t[{i}]");
        }

        [Fact]
        public void A_trajectory_moved_by_a_similarity_has_zero_ATE_and_rotation_error()
        {
            var r = Rng.Fresh(out int seed);
            var gt = Walk(r, 30);
            var est = Transform(gt, 0.37, TumTrajectoryTests.RandomPose(r), new[] { 3.0, -1, 7 });
            var acc = TrajectoryMetrics.Evaluate(est, gt);
            Assert.True(acc.AteRmse < 1e-9, $"seed {seed}: ATE {acc.AteRmse}");
            Assert.True(acc.RelativeRotationDeg < 1e-6, $"seed {seed}: RRE {acc.RelativeRotationDeg}");
            Assert.Equal(1 / 0.37, acc.Alignment.Scale, 9);
            Assert.True(acc.PathLength > 1);

            // A straight forward motion (collinear centres: a degenerate alignment) too.
            var line = Enumerable.Range(0, 10).Select(i => CameraPose.FromQuaternion(0, 0, 0, 1, 0, 0, 0.1 * i)).ToList();
            var acc2 = TrajectoryMetrics.Evaluate(Transform(line, 3, TumTrajectoryTests.RandomPose(r), new[] { 1.0, 2, 3 }), line);
            Assert.True(acc2.AteRmse < 1e-9, $"seed {seed}: line ATE {acc2.AteRmse}");
            Assert.Equal(100 * acc2.AteRmse / 0.9, acc2.AtePercent, 9);
        }

        [Fact]
        public void A_known_perturbation_gives_the_known_errors()
        {
            // Centres at the cube corners (+-1, +-1, +-1); each estimated centre moved by d * (x y z) along x. That offset is
            // uncorrelated with the positions, so the optimal alignment keeps the rotation, shrinks the scale to
            // c = 24 / (24 + 8 d^2), and the ATE is sqrt(3 (c - 1)^2 + c^2 d^2).
            const double d = 0.1;
            var gt = new List<CameraPose>(); var est = new List<CameraPose>();
            var theta = 2.0 * Math.PI / 180;
            int k = 0;
            foreach (var x in new[] { -1, 1 }) foreach (var y in new[] { -1, 1 }) foreach (var z in new[] { -1, 1 })
            {
                var g = CameraPose.FromQuaternion(0.1 * k, 0.2, -0.05 * k, 1, x, y, z);
                gt.Add(g);
                // Every odd frame's orientation is turned by theta about its own z axis: each consecutive pair is off by theta.
                var turn = k % 2 == 1 ? CameraPose.FromQuaternion(0, 0, Math.Sin(theta / 2), Math.Cos(theta / 2), 0, 0, 0) : CameraPose.Identity;
                var rot = new CameraPose(g.Rotation, new double[3]).Compose(turn);
                est.Add(new CameraPose(rot.Rotation, new[] { x + d * x * y * z, (double)y, z }));
                k++;
            }
            var acc = TrajectoryMetrics.Evaluate(est, gt);
            double c = 24 / (24 + 8 * d * d);
            Assert.Equal(Math.Sqrt(3 * (c - 1) * (c - 1) + c * c * d * d), acc.AteRmse, 12);
            Assert.Equal(c, acc.Alignment.Scale, 12);
            Assert.Equal(2.0, acc.RelativeRotationDeg, 9);
        }

        [Fact]
        public void Focal_error_is_relative_and_resolution_aware()
        {
            Assert.Equal(1.0, TrajectoryMetrics.FocalErrorPercent(530.25, 525), 12);
            var truth = new Intrinsics(640, 480, 525, 525, 319.5, 239.5);
            Assert.Equal(-2.0, TrajectoryMetrics.FocalErrorPercent(new Intrinsics(320, 240, 257.25, 257.25, 159.5, 119.5), truth), 12);
        }
    }

    public sealed class DepthFlowMetricsTests
    {
        [Fact]
        public void Depth_scaled_by_a_constant_has_zero_error_after_median_scaling()
        {
            var r = Rng.Fresh(out int seed);
            var g = new FloatImage(37, 23, Rng.Floats(r, 37 * 23, 0.5f, 4));
            g.Data[0] = 0; g.Data[1] = float.NaN; // invalid truth is ignored
            var p = new FloatImage(37, 23, g.Data.Select(v => v * 3.7f).ToArray());
            var a = DepthFlowMetrics.DepthMedianScaled(p, g);
            Assert.True(a.AbsRel < 1e-6, $"seed {seed}: AbsRel {a.AbsRel}");
            Assert.Equal(1.0, a.Delta1);
            Assert.Equal(37 * 23 - 2, a.Pixels);
            Assert.Equal(1 / 3.7, a.Scale, 6);
        }

        [Fact]
        public void A_known_depth_error_gives_the_known_AbsRel_and_delta()
        {
            // Constant truth 2; 60 % of the prediction is k * 2, 40 % is k * 3 (50 % too far). Median scaling divides by k:
            // AbsRel = 0.4 * 0.5 = 0.2 and delta1 = 0.6.
            var g = new FloatImage(10, 10, Enumerable.Repeat(2f, 100).ToArray());
            var p = new FloatImage(10, 10, Enumerable.Range(0, 100).Select(i => i % 5 < 3 ? 0.5f * 2 : 0.5f * 3).ToArray());
            var a = DepthFlowMetrics.DepthMedianScaled(p, g);
            Assert.Equal(2.0, a.Scale, 12);
            Assert.Equal(0.2, a.AbsRel, 6);
            Assert.Equal(0.6, a.Delta1, 12);
            // The prediction at half resolution is compared at the truth's pixels (nearest pixel centre).
            var half = new FloatImage(5, 5, Enumerable.Repeat(1f, 25).ToArray());
            Assert.Equal(0, DepthFlowMetrics.DepthMedianScaled(half, g).AbsRel, 12);
        }

        [Fact]
        public void Flow_EPE_all_and_noc_with_masks()
        {
            int w = 8, h = 5, n = w * h;
            var gt = new FlowField(w, h, Enumerable.Range(0, 2 * n).Select(i => (float)(i % 7) - 3).ToArray());
            var est = new FlowField(w, h, (float[])gt.Data.Clone());
            var occ = new bool[n]; var inv = new bool[n];
            for (int i = 0; i < n; i++)
            {
                if (i % 4 == 0) { occ[i] = true; est.Data[2 * i] += 6; est.Data[2 * i + 1] += 8; }   // error 10 where occluded
                else { est.Data[2 * i] += 3; est.Data[2 * i + 1] += 4; }                              // error 5 elsewhere
            }
            inv[1] = true; est.Data[2] = 1000;                                                           // invalid: ignored
            var a = DepthFlowMetrics.Flow(est, gt, occ, inv);
            Assert.Equal(n - 1, a.PixelsAll);
            Assert.Equal(n - 1 - n / 4, a.PixelsNoc);
            Assert.Equal(5.0, a.EpeNoc, 5);
            Assert.Equal((10.0 * (n / 4) + 5.0 * (n - 1 - n / 4)) / (n - 1), a.EpeAll, 5);
            Assert.Equal(0, DepthFlowMetrics.Flow(gt, gt).EpeAll);
            est.Data[4] = float.NaN;
            Assert.True(double.IsPositiveInfinity(DepthFlowMetrics.Flow(est, gt, occ, inv).EpeAll));
            Assert.Throws<ArgumentException>(() => DepthFlowMetrics.Flow(new FlowField(3, 3), gt));
        }
    }
}
