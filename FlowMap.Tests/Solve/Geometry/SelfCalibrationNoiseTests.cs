using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using FlowMap.Solve.Geometry;
using FlowMap.Tests.Support;
using Xunit;
using static FlowMap.Tests.Solve.Geometry.TwoViewGeometryTests;

namespace FlowMap.Tests.Solve.Geometry
{
    /// <summary>Self-calibration on random scenes with noise and outliers (CPU only): the uncertainty it reports is honest.</summary>
    public sealed class SelfCalibrationNoiseTests
    {
        private readonly ITestOutputHelper _out;
        public SelfCalibrationNoiseTests(ITestOutputHelper output) { _out = output; }

        private static (double[] R, double[] T) Motion(Random rng, double rotDeg, double forward)
        {
            double d2r = Math.PI / 180;
            var axis = new[] { Gauss(rng), Gauss(rng), 0.3 * Gauss(rng) };
            double an = Math.Sqrt(axis.Sum(v => v * v));
            var r = Rot(axis[0] / an * rotDeg * d2r, axis[1] / an * rotDeg * d2r, axis[2] / an * rotDeg * d2r);
            var t = new[] { Gauss(rng), Gauss(rng), forward * Gauss(rng) };
            double tn = Math.Sqrt(t.Sum(v => v * v));
            return (r, t.Select(v => 0.3 * v / tn).ToArray());
        }

        [Fact]
        public void Twenty_noisy_pairs_give_the_focal_within_their_stated_uncertainty()
        {
            var rng = Rng.Fresh(out int seed);
            var pairs = new List<Correspondences>();
            for (int p = 0; p < 20; p++)
            {
                var (r, t) = Motion(rng, 3 + 7 * rng.NextDouble(), 0.5);
                pairs.Add(Scene(rng, r, t, 4000, 0.1, 0.3).C);
            }
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var e = SelfCalibration.Estimate(pairs, W, H);
            double sec = sw.Elapsed.TotalSeconds, cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            double err = Math.Log(e.Focal / Focal);
            _out.WriteLine($"seed {seed}: focal {e.Focal:F3} (truth {Focal}), error {100 * err:+0.000;-0.000} %, rel std {100 * e.RelStd:F3} %, pairs used {e.PairsUsed}/20, {sec:F2} s wall, {cpu:F2} s CPU (process) for 20 pairs of 4000 matches");
            foreach (var p in e.Pairs) _out.WriteLine("  " + p);
            Assert.True(e.Determined, $"seed {seed}: {e.Warning}");
            // The stated uncertainty covers the error: |error| <= 4 RelStd fails with probability 6e-5 for a Gaussian
            // estimate; a 0.3 px noise over 20 pairs of 3-10 degrees should determine f to well under 2 %.
            Assert.True(Math.Abs(err) <= 4 * e.RelStd, $"seed {seed}: error {100 * err:F3} % vs rel std {100 * e.RelStd:F3} %");
            Assert.True(e.RelStd < 0.02, $"seed {seed}: rel std {e.RelStd}");
        }

        [Fact]
        public void One_wild_pair_does_not_drag_the_focal()
        {
            var rng = Rng.Fresh(out int seed);
            var pairs = new List<Correspondences>();
            for (int p = 0; p < 8; p++)
            {
                var (r, t) = Motion(rng, 5 + 5 * rng.NextDouble(), 0.5);
                pairs.Add(Scene(rng, r, t, 1500, 0.05, 0.2).C);
            }
            // A pair from a camera with 1.5x the focal (e.g. a zoomed frame): a consistent but wrong constraint.
            {
                var (r, t) = Motion(rng, 8, 0.5);
                var c = Scene(rng, r, t, 1500, 0.0, 0.0).C;
                var a = c.A.Select((v, i) => (i % 2 == 0 ? Cx : Cy) + 1.5 * (v - (i % 2 == 0 ? Cx : Cy))).ToArray();
                var b = c.B.Select((v, i) => (i % 2 == 0 ? Cx : Cy) + 1.5 * (v - (i % 2 == 0 ? Cx : Cy))).ToArray();
                pairs.Add(new Correspondences(a, b, c.Weight));
            }
            var e = SelfCalibration.Estimate(pairs, W, H);
            double err = Math.Log(e.Focal / Focal);
            _out.WriteLine($"seed {seed}: focal {e.Focal:F3}, error {100 * err:F3} %, rel std {100 * e.RelStd:F3} %, used {e.PairsUsed}");
            foreach (var p in e.Pairs) _out.WriteLine("  " + p);
            Assert.False(e.Pairs[^1].Used, $"seed {seed}: the wild pair was used");
            Assert.True(Math.Abs(err) <= 4 * e.RelStd, $"seed {seed}: error {100 * err:F3} % vs rel std {100 * e.RelStd:F3} %");
        }

        [Fact]
        public void A_planar_scene_is_not_determined()
        {
            var rng = Rng.Fresh(out int seed);
            var pairs = new List<Correspondences>();
            for (int p = 0; p < 6; p++)
            {
                var (r, t) = Motion(rng, 3 + 5 * rng.NextDouble(), 0.5);
                pairs.Add(Scene(rng, r, t, 2000, 0.05, 0.2, planar: true).C);
            }
            var e = SelfCalibration.Estimate(pairs, W, H);
            _out.WriteLine($"seed {seed}: focal {e.Focal:F3}, rel std {100 * e.RelStd:F3} %, determined {e.Determined}: {e.Warning}");
            foreach (var p in e.Pairs) _out.WriteLine("  " + p);
            Assert.False(e.Determined, $"seed {seed}");
            Assert.Contains("--focal", e.Warning);
        }

        [Fact]
        public void No_pairs_or_bad_sizes()
        {
            var e = SelfCalibration.Estimate(new List<Correspondences>(), W, H);
            Assert.False(e.Determined);
            Assert.True(double.IsNaN(e.Focal));
            Assert.Contains("--focal", e.Warning);
            Assert.Throws<ArgumentOutOfRangeException>(() => SelfCalibration.Estimate(new List<Correspondences>(), 1, 1));
            Assert.Throws<ArgumentNullException>(() => SelfCalibration.Estimate(null!, W, H));
        }
    }
}
