using System;
using System.Collections.Generic;

namespace FlowMap.Evaluation
{
    /// <summary>Accuracy of a fused cloud against the true surface (<see cref="CloudMetrics"/>).</summary>
    internal readonly record struct CloudAccuracy(int Points, int TruthPoints, double Tolerance, double PrecisionPercent, double CompletenessPercent)
    {
        /// <summary>The harmonic mean of precision and completeness (the F-score of Knapitsch et al. 2017, Tanks and Temples).</summary>
        public double FScorePercent => PrecisionPercent + CompletenessPercent > 0 ? 2 * PrecisionPercent * CompletenessPercent / (PrecisionPercent + CompletenessPercent) : 0;
    }

    /// <summary>
    /// A reconstructed cloud against the true surface, as multi-view stereo benchmarks measure it (Tanks and Temples,
    /// Knapitsch et al. 2017; ETH3D, Schoeps et al. 2017): precision, the share of the cloud's points within a tolerance of
    /// a true surface point, and completeness, the share of true surface points within the tolerance of a cloud point. The
    /// cloud is first brought into the truth's frame by a similarity; the true surface is sampled from the true depth maps.
    /// Nearest neighbours by a hash grid of cells one tolerance wide (the 27 cells around a point hold every point within
    /// it). Plain double-precision CPU code, for evaluation only.
    /// </summary>
    internal static class CloudMetrics
    {
        /// <summary>
        /// Precision and completeness of <paramref name="cloud"/> (estimate coordinates, mapped by <paramref name="toTruth"/>)
        /// against <paramref name="truth"/> (points on the true surface) at <paramref name="tolerance"/> (truth units).
        /// </summary>
        public static CloudAccuracy Evaluate(PointCloud cloud, Similarity toTruth, IReadOnlyList<(double X, double Y, double Z)> truth, double tolerance)
        {
            if (cloud == null || toTruth == null || truth == null) throw new ArgumentNullException(cloud == null ? nameof(cloud) : toTruth == null ? nameof(toTruth) : nameof(truth));
            if (!(tolerance > 0)) throw new ArgumentException("The tolerance must be positive.");
            var points = new List<(double X, double Y, double Z)>(cloud.Count);
            for (int i = 0; i < cloud.Count; i++)
            {
                var p = toTruth.Apply((cloud.Positions[3 * i], cloud.Positions[3 * i + 1], cloud.Positions[3 * i + 2]));
                if (double.IsFinite(p.X) && double.IsFinite(p.Y) && double.IsFinite(p.Z)) points.Add(p);
            }
            var truthGrid = new Grid(truth, tolerance);
            var cloudGrid = new Grid(points, tolerance);
            int near = 0, covered = 0;
            foreach (var p in points) if (truthGrid.AnyWithin(p)) near++;
            foreach (var q in truth) if (cloudGrid.AnyWithin(q)) covered++;
            return new CloudAccuracy(points.Count, truth.Count, tolerance,
                points.Count > 0 ? 100.0 * near / points.Count : 0, truth.Count > 0 ? 100.0 * covered / truth.Count : 0);
        }

        /// <summary>
        /// Points on the true surface: each <paramref name="step"/>-th pixel of a true z-depth map (zero, negative or
        /// non-finite: no surface) lifted by the true intrinsics at the map's size and the true camera-to-world pose.
        /// </summary>
        public static void AddSurface(List<(double X, double Y, double Z)> into, FloatImage depth, Intrinsics intrinsics, CameraPose cameraToWorld, int step)
        {
            if (step < 1) throw new ArgumentException("The step must be at least 1.");
            var k = intrinsics.Width == depth.Width && intrinsics.Height == depth.Height ? intrinsics : intrinsics.Resized(depth.Width, depth.Height);
            for (int y = 0; y < depth.Height; y += step)
                for (int x = 0; x < depth.Width; x += step)
                {
                    float z = depth[x, y];
                    if (!(z > 0) || !float.IsFinite(z)) continue;
                    var c = k.Unproject(x, y, z);
                    if (double.IsNaN(c.X) || double.IsNaN(c.Y)) continue;
                    into.Add(cameraToWorld.Transform(c.X, c.Y, c.Z));
                }
        }

        private sealed class Grid
        {
            private readonly Dictionary<(long, long, long), List<(double X, double Y, double Z)>> _cells = new();
            private readonly double _cell;

            public Grid(IEnumerable<(double X, double Y, double Z)> points, double cell)
            {
                _cell = cell;
                foreach (var p in points)
                {
                    var key = Key(p);
                    if (!_cells.TryGetValue(key, out var list)) _cells[key] = list = new List<(double, double, double)>();
                    list.Add(p);
                }
            }

            private (long, long, long) Key((double X, double Y, double Z) p) =>
                ((long)Math.Floor(p.X / _cell), (long)Math.Floor(p.Y / _cell), (long)Math.Floor(p.Z / _cell));

            /// <summary>True when a point of the grid lies within one cell width of <paramref name="p"/>.</summary>
            public bool AnyWithin((double X, double Y, double Z) p)
            {
                var (cx, cy, cz) = Key(p);
                double r2 = _cell * _cell;
                for (long a = -1; a <= 1; a++)
                    for (long b = -1; b <= 1; b++)
                        for (long c = -1; c <= 1; c++)
                        {
                            if (!_cells.TryGetValue((cx + a, cy + b, cz + c), out var list)) continue;
                            foreach (var q in list)
                            {
                                double dx = q.X - p.X, dy = q.Y - p.Y, dz = q.Z - p.Z;
                                if (dx * dx + dy * dy + dz * dz <= r2) return true;
                            }
                        }
                return false;
            }
        }
    }
}
