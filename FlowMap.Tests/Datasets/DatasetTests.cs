using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Datasets;
using FlowMap.Export;
using FlowMap.Tests.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Datasets
{
    public sealed class Open3DLogTests
    {
        [Fact]
        public void Log_round_trips_and_damage_is_reported_with_the_line()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var poses = Enumerable.Range(0, 4).Select(_ => TumTrajectoryTests.RandomPose(r)).ToList();
            var path = tmp.File("t.log");
            Open3DLog.Write(path, poses);
            var back = Open3DLog.Read(path);
            for (int i = 0; i < 4; i++) TumTrajectoryTests.AssertPoseEqual(poses[i], back[i], 1e-15, $"seed {seed} pose {i}");

            var lines = File.ReadAllLines(path);
            File.WriteAllLines(path, lines.Take(lines.Length - 2));
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Open3DLog.Read(path)).Message);
            lines[7] = "0.5 0 0 1"; // first row of pose 1's rotation no longer unit length
            File.WriteAllLines(path, lines);
            var e = Assert.Throws<InvalidDataException>(() => Open3DLog.Read(path));
            Assert.Contains("line 6", e.Message);
            Assert.Contains("orthonormal", e.Message);
        }
    }

    public sealed class IclNuimTests
    {
        private static IclNuim OpenOrSkip()
        {
            var dir = Repo.SharedData("icl_nuim_livingroom1");
            if (dir == null) Assert.Skip("../shared/data/icl_nuim_livingroom1 is absent.");
            return IclNuim.Open(dir);
        }

        [Fact]
        public void Sequence_has_211_frames_the_stated_intrinsics_and_metric_depth()
        {
            var s = OpenOrSkip();
            Assert.Equal(211, s.Count);
            Assert.Equal(new Intrinsics(640, 480, 525, 525, 319.5, 239.5), s.Intrinsics);
            Assert.EndsWith("00000.jpg", s.ColorFiles[0]);
            Assert.EndsWith("00210.png", s.DepthFiles[210]);
            Assert.Equal(0, s.Poses[0].RotationAngle(), 6);
            var color = s.ReadColor(3);
            Assert.Equal((640, 480), (color.Width, color.Height));
            var d = s.ReadDepth(3);
            var valid = d.Data.Where(v => v > 0).OrderBy(v => v).ToArray();
            Assert.True(valid.Length > d.Data.Length / 2);
            Assert.InRange(valid[valid.Length / 2], 0.9, 2.7);   // SOURCE.txt: range about 0.9 - 2.7 m
            double path = 0;
            for (int i = 1; i < s.Count; i++)
            {
                var (a, b) = (s.Poses[i - 1].Center, s.Poses[i].Center);
                path += Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));
            }
            Assert.InRange(path, 3.0, 4.5); // SOURCE.txt: about 3.7 m
        }

        /// <summary>Median |z_reprojected - z_observed| of frame a's depth moved into frame b with the given poses.</summary>
        internal static double ReprojectionMedian(IclNuim s, int a, int b, CameraPose poseA, CameraPose poseB)
        {
            var k = s.Intrinsics;
            var da = s.ReadDepth(a); var db = s.ReadDepth(b);
            var bFromA = poseB.Inverse().Compose(poseA);
            var diffs = new List<double>();
            for (int y = 0; y < k.Height; y += 4)
                for (int x = 0; x < k.Width; x += 4)
                {
                    double z = da[x, y];
                    if (z <= 0) continue;
                    var (X, Y, Z) = k.Unproject(x, y, z);
                    var (xb, yb, zb) = bFromA.Transform(X, Y, Z);
                    if (!k.Project(xb, yb, zb, out double u, out double v)) continue;
                    int ui = (int)Math.Round(u), vi = (int)Math.Round(v);
                    if (ui < 0 || vi < 0 || ui >= k.Width || vi >= k.Height || db[ui, vi] <= 0) continue;
                    diffs.Add(Math.Abs(db[ui, vi] - zb));
                }
            diffs.Sort();
            return diffs[diffs.Count / 2];
        }

        [Fact]
        public void Depth_reprojected_with_the_poses_and_intrinsics_agrees_to_millimetres()
        {
            var s = OpenOrSkip();
            double good = ReprojectionMedian(s, 0, 12, s.Poses[0], s.Poses[12]);
            Assert.True(good < 0.006, $"median reprojection error {good * 1000:F2} mm");
            // The same with the poses read as world-to-camera (a convention mistake) is far off: the check can fail.
            double wrong = ReprojectionMedian(s, 0, 12, s.Poses[0].Inverse(), s.Poses[12].Inverse());
            Assert.True(wrong > 3 * good && wrong > 0.01, $"inverted poses: {wrong * 1000:F2} mm vs {good * 1000:F2} mm");
        }
    }

    public sealed class SintelTests
    {
        private static Sintel OpenOrSkip()
        {
            var dir = Repo.SharedData("sintel");
            if (dir == null) Assert.Skip("../shared/data/sintel is absent.");
            return Sintel.Open(dir);
        }

        [Fact]
        public void Lists_sequences_passes_frames_and_ground_truth_pairs()
        {
            var s = OpenOrSkip();
            Assert.Equal(new[] { "alley_1", "cave_2" }, s.Sequences);
            Assert.Equal(new[] { "clean", "final" }, s.Passes);
            Assert.Equal(4, s.Frames("final", "cave_2").Count);
            var pair = Assert.Single(s.Pairs("alley_1"));
            Assert.Equal(2, pair.FrameA);
            Assert.Equal(3, pair.FrameB);
            Assert.NotNull(pair.OcclusionPath);
            Assert.NotNull(pair.InvalidPath);
            var occ = Sintel.ReadOcclusion(pair)!;
            Assert.Equal(1024 * 436, occ.Length);
            Assert.Contains(true, occ);
            Assert.Contains(false, occ);
        }

        [Fact]
        public void The_full_dataset_layout_with_a_training_folder_opens_too()
        {
            using var tmp = new TempDir();
            FlowMap.Export.PngImage.WriteRgb(Path.Combine(tmp.Sub("training", "final", "market_2"), "frame_0001.png"), new RgbImage(4, 4));
            FlowMap.Export.FloFile.Write(Path.Combine(tmp.Sub("training", "flow", "market_2"), "frame_0001.flo"), new FlowField(4, 4));
            var s = Sintel.Open(tmp.Path);
            Assert.Equal(new[] { "market_2" }, s.Sequences);
            Assert.Equal(new[] { "final" }, s.Passes);
            var p = Assert.Single(s.Pairs("market_2"));
            Assert.Null(p.OcclusionPath);
            Assert.Throws<InvalidDataException>(() => Sintel.Open(tmp.Sub("empty")));
        }

        /// <summary>Mean |A(x) - B(x + flow)| over channels and pixels that are neither occluded nor invalid (bilinear sampling).</summary>
        internal static double WarpError(RgbImage a, RgbImage b, FlowField flow, bool[]? occ, bool[]? inv, bool zeroFlow = false)
        {
            double sum = 0; long n = 0;
            for (int y = 0; y < a.Height; y++)
                for (int x = 0; x < a.Width; x++)
                {
                    int i = y * a.Width + x;
                    if ((occ != null && occ[i]) || (inv != null && inv[i])) continue;
                    double u = zeroFlow ? 0 : flow.U(x, y), v = zeroFlow ? 0 : flow.V(x, y);
                    double sx = x + u, sy = y + v;
                    if (sx < 0 || sy < 0 || sx > b.Width - 1 || sy > b.Height - 1) continue;
                    int x0 = Math.Min((int)sx, b.Width - 2), y0 = Math.Min((int)sy, b.Height - 2);
                    double fx = sx - x0, fy = sy - y0;
                    for (int c = 0; c < 3; c++)
                    {
                        double p00 = b.Pixels[3 * (y0 * b.Width + x0) + c], p10 = b.Pixels[3 * (y0 * b.Width + x0 + 1) + c];
                        double p01 = b.Pixels[3 * ((y0 + 1) * b.Width + x0) + c], p11 = b.Pixels[3 * ((y0 + 1) * b.Width + x0 + 1) + c];
                        double s = (p00 * (1 - fx) + p10 * fx) * (1 - fy) + (p01 * (1 - fx) + p11 * fx) * fy;
                        sum += Math.Abs(s - a.Pixels[3 * i + c]); n++;
                    }
                }
            return sum / n;
        }

        [Theory]
        [InlineData("alley_1")]
        [InlineData("cave_2")]
        public void Frame_b_warped_by_the_true_flow_reproduces_frame_a(string seq)
        {
            var s = OpenOrSkip();
            var pair = s.Pairs(seq)[0];
            var a = s.ReadFrame("clean", seq, pair.FrameA);
            var b = s.ReadFrame("clean", seq, pair.FrameB);
            var flow = Sintel.ReadFlow(pair);
            double withFlow = WarpError(a, b, flow, Sintel.ReadOcclusion(pair), Sintel.ReadInvalid(pair));
            double without = WarpError(a, b, flow, Sintel.ReadOcclusion(pair), Sintel.ReadInvalid(pair), zeroFlow: true);
            Assert.True(withFlow < 4.0 && withFlow < 0.5 * without, $"{seq}: mean error {withFlow:F2} with the true flow, {without:F2} without (of 255)");
        }
    }
}
