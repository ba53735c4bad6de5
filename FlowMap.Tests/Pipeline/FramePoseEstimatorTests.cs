using System;
using System.Collections.Generic;
using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Pipeline
{
    public sealed class FramePoseEstimatorTests
    {
        /// <summary>A keyframe seeing a bumpy surface; the frame's true motion; matches made by projecting the truth.</summary>
        private static (KeyframeMatches M, FloatImage Depth, Intrinsics K) Scene(CameraPose keyToFrame, int w = 80, int h = 60)
        {
            var k = Intrinsics.Centered(w, h, 70);
            var depth = new FloatImage(w, h);
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) depth[x, y] = (float)(3 + 0.5 * Math.Sin(x * 0.1) + 0.3 * Math.Cos(y * 0.13));
            var kx = new List<float>(); var ky = new List<float>(); var u = new List<float>(); var v = new List<float>(); var wt = new List<float>();
            for (int y = 2; y < h; y += 5)
                for (int x = 2; x < w; x += 5)
                {
                    var (X, Y, Z) = k.Unproject(x, y, depth[x, y]);
                    var (a, b, c) = keyToFrame.Transform(X, Y, Z);
                    k.Project(a, b, c, out double pu, out double pv);
                    kx.Add(x); ky.Add(y); u.Add((float)pu); v.Add((float)pv); wt.Add(1);
                }
            return (new KeyframeMatches(kx.ToArray(), ky.ToArray(), u.ToArray(), v.ToArray(), wt.ToArray()), depth, k);
        }

        [Fact]
        public void Recovers_a_rigid_motion_from_identity()
        {
            var truth = new CameraPose(FramePoseEstimator.Rodrigues(0.03, -0.05, 0.02), new[] { 0.12, -0.04, 0.08 });
            var (m, d, k) = Scene(truth);
            var r = FramePoseEstimator.Solve(m, d, k, CameraPose.Identity);
            Assert.NotNull(r);
            var (pose, rms) = r!.Value;
            Assert.True(rms < 1e-3, $"rms {rms}");
            for (int i = 0; i < 3; i++) Assert.Equal(truth.T(i), pose.T(i), 5);
            Assert.True(truth.Inverse().Compose(pose).RotationAngle() < 1e-6);
        }

        [Fact]
        public void Robust_to_a_few_wrong_matches()
        {
            var truth = new CameraPose(FramePoseEstimator.Rodrigues(0, 0.04, 0), new[] { 0.1, 0, 0 });
            var (m, d, k) = Scene(truth);
            for (int i = 0; i < m.Count; i += 10) m.U[i] += 25; // 10 % gross outliers
            var (pose, _) = FramePoseEstimator.Solve(m, d, k, CameraPose.Identity)!.Value;
            Assert.True(Math.Abs(pose.T(0) - 0.1) < 0.01, $"tx {pose.T(0)}");
        }

        [Fact]
        public void Too_few_matches_give_null()
        {
            var m = new KeyframeMatches(new float[] { 1, 2 }, new float[] { 1, 2 }, new float[] { 1, 2 }, new float[] { 1, 2 }, new float[] { 1, 1 });
            var d = new FloatImage(4, 4); Array.Fill(d.Data, 1f);
            Assert.Null(FramePoseEstimator.Solve(m, d, Intrinsics.Centered(4, 4, 4), CameraPose.Identity));
        }
    }
}
