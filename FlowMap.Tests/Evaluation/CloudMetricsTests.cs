using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Evaluation
{
    /// <summary><see cref="CloudMetrics"/>: its hash grid against a brute-force search, and the surface it samples.</summary>
    public sealed class CloudMetricsTests
    {
        private readonly ITestOutputHelper _out;
        public CloudMetricsTests(ITestOutputHelper output) { _out = output; }

        /// <summary>
        /// Random clouds around a random surface, mapped by a similarity: precision and completeness equal those of a
        /// brute-force nearest-neighbour search over all pairs (the same distance test, so exactly), for several tolerances,
        /// with points on cell boundaries, duplicates and non-finite points (dropped) among them.
        /// </summary>
        [Theory]
        [InlineData(0.05)]
        [InlineData(0.2)]
        [InlineData(0.013)]
        public void The_grid_counts_what_a_brute_force_search_counts(double tolerance)
        {
            var rng = Rng.Fresh(out int seed);
            _out.WriteLine($"seed {seed}, tolerance {tolerance}");
            var truth = Enumerable.Range(0, 1201).Select(_ => (X: rng.NextDouble(), Y: rng.NextDouble(), Z: 0.3 * rng.NextDouble())).ToList();
            truth.Add((2 * tolerance, 0, 0)); truth.Add(truth[5]); // a point on a cell boundary, a duplicate
            var sim = new Similarity(1.7, Rotation(0.4, -0.2, 0.9), new[] { 0.3, -1.1, 2.0 });
            // The cloud in estimate coordinates: truth points taken back through the similarity and jittered, plus outliers.
            var inv = Inverse(sim);
            var pts = new List<float>();
            for (int i = 0; i < 977; i++)
            {
                var q = truth[rng.Next(truth.Count)];
                double j = 2 * tolerance * (rng.NextDouble() - 0.5);
                var p = inv.Apply((q.X + j, q.Y - 0.5 * j, q.Z + 0.3 * j));
                pts.Add((float)p.X); pts.Add((float)p.Y); pts.Add((float)p.Z);
            }
            for (int i = 0; i < 101; i++) { pts.Add((float)(3 * rng.NextDouble())); pts.Add((float)rng.NextDouble()); pts.Add(-1f); }
            pts.Add(float.NaN); pts.Add(0); pts.Add(0);
            var cloud = new PointCloud(pts.ToArray(), new byte[pts.Count]);

            var a = CloudMetrics.Evaluate(cloud, sim, truth, tolerance);

            var mapped = Enumerable.Range(0, cloud.Count).Select(i => sim.Apply((cloud.Positions[3 * i], cloud.Positions[3 * i + 1], cloud.Positions[3 * i + 2])))
                .Where(p => double.IsFinite(p.X)).ToList();
            bool Near((double X, double Y, double Z) p, List<(double X, double Y, double Z)> set) =>
                set.Any(q => (q.X - p.X) * (q.X - p.X) + (q.Y - p.Y) * (q.Y - p.Y) + (q.Z - p.Z) * (q.Z - p.Z) <= tolerance * tolerance);
            int near = mapped.Count(p => Near(p, truth)), covered = truth.Count(q => Near(q, mapped));
            Assert.Equal(cloud.Count - 1, a.Points);
            // The same counts over the same numbers of points: the same doubles, exactly (not "to 12 places", which rounds).
            Assert.Equal(100.0 * near / mapped.Count, a.PrecisionPercent);
            Assert.Equal(100.0 * covered / truth.Count, a.CompletenessPercent);
            // Not trivially 0: a jittered point moves 1.157 |j| <= tolerance for |j| <= 0.864 tolerance, so about 86 % of the 977
            // lie within the tolerance of the truth point they came from whatever the seed (> 70 % of all 1,078 points).
            Assert.InRange(a.PrecisionPercent, 50, 100);
            Assert.InRange(a.CompletenessPercent, 1, 100);
        }

        [Fact]
        public void A_cloud_on_the_true_surface_is_precise_and_complete_and_one_beside_it_is_neither()
        {
            // A plane at z = 2 seen by a camera at the origin, 33 x 21 pixels, f = 30: its surface points every 2nd pixel.
            var depth = new FloatImage(33, 21);
            Array.Fill(depth.Data, 2f);
            depth[0, 0] = float.NaN; depth[2, 0] = 0; // no surface there
            var k = Intrinsics.Centered(33, 21, 30);
            var surface = new List<(double X, double Y, double Z)>();
            CloudMetrics.AddSurface(surface, depth, k, CameraPose.Identity, 2);
            Assert.Equal(17 * 11 - 2, surface.Count);
            Assert.All(surface, p => Assert.Equal(2, p.Z, 12));
            var on = new PointCloud(surface.SelectMany(p => new[] { (float)p.X, (float)p.Y, (float)p.Z }).ToArray(), new byte[3 * surface.Count]);
            var identity = new Similarity(1, new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[3]);
            var a = CloudMetrics.Evaluate(on, identity, surface, 0.04);
            Assert.Equal(100, a.PrecisionPercent);
            Assert.Equal(100, a.CompletenessPercent);
            Assert.Equal(100, a.FScorePercent, 12);
            // The same points 5 cm behind the plane (beyond a 4 cm tolerance): nothing matches.
            var behind = new Similarity(1, new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[] { 0, 0, 0.05 });
            var b = CloudMetrics.Evaluate(on, behind, surface, 0.04);
            Assert.Equal(0, b.PrecisionPercent);
            Assert.Equal(0, b.CompletenessPercent);
        }

        private static double[] Rotation(double ax, double ay, double az)
        {
            // A unit quaternion from the axis-angle vector (ax, ay, az).
            double th = Math.Sqrt(ax * ax + ay * ay + az * az), sn = Math.Sin(th / 2) / th;
            return CameraPose.FromQuaternion(ax * sn, ay * sn, az * sn, Math.Cos(th / 2), 0, 0, 0).Rotation;
        }

        private static Similarity Inverse(Similarity s)
        {
            var r = s.Rotation; // R^T, 1 / scale, -R^T T / scale
            var rt = new[] { r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8] };
            var t = new double[3];
            for (int i = 0; i < 3; i++) t[i] = -(rt[3 * i] * s.Translation[0] + rt[3 * i + 1] * s.Translation[1] + rt[3 * i + 2] * s.Translation[2]) / s.Scale;
            return new Similarity(1 / s.Scale, rt, t);
        }
    }
}
