using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Cli
{
    /// <summary>`flowmap reconstruct` end to end on a small synthetic sequence written by `flowmap synth`.</summary>
    public sealed class ReconstructCommandTests
    {
        private static string Synth(TempDir tmp, string path, int frames)
        {
            var dir = tmp.Sub("seq");
            var (code, _, err) = CliProcess.Run(new[] { "synth", "--path", path, "--frames", frames.ToString(), "--size", "160x120", "--seed", "3", "--out", dir });
            Assert.True(code == 0, "synth failed: " + err);
            return dir;
        }

        [Theory]
        [InlineData("online")]
        [InlineData("offline")]
        public void Writes_every_file_of_the_contract_with_a_loosely_right_trajectory(string mode)
        {
            using var tmp = new TempDir();
            var seq = Synth(tmp, "walk", 16);
            var outDir = tmp.File("out");
            var (code, stdout, err) = CliProcess.Run(new[] { "reconstruct", Path.Combine(seq, "color"), "--out", outDir, "--mode", mode, "--json" }, timeoutMs: 600_000);
            Assert.True(code == 0, $"reconstruct failed ({code}): {err}");

            var names = Directory.GetFiles(Path.Combine(seq, "color")).Select(Path.GetFileNameWithoutExtension).OrderBy(n => n, StringComparer.Ordinal).ToList();
            Assert.Equal(16, names.Count);
            foreach (var f in new[] { "colmap/cameras.txt", "colmap/images.txt", "colmap/points3D.txt", "trajectory.txt", "intrinsics.json", "points.ply", "report.json" })
                Assert.True(File.Exists(Path.Combine(outDir, f)), f + " missing");
            foreach (var n in names)
            {
                var d = Npy.ReadFloatImage(Path.Combine(outDir, "depth", n + ".npy"));
                var c = Npy.ReadFloatImage(Path.Combine(outDir, "confidence", n + ".npy"));
                Assert.Equal(160, d.Width); Assert.Equal(120, d.Height);
                Assert.All(d.Data, v => Assert.True(v > 0 && float.IsFinite(v)));
                Assert.All(c.Data, v => Assert.InRange(v, 0f, 1f));
            }
            var report = ReportJson.Read(Path.Combine(outDir, "report.json"));
            Assert.Equal(16, report.FramesIn); Assert.Equal(16, report.FramesOut);
            Assert.Equal(mode, report.Mode);
            Assert.Equal(new[] { 160, 120 }, report.ProcessingSize);
            Assert.True(report.WallSeconds > 0 && report.Fps > 0 && report.PeakMemoryMb > 0);
            Assert.Contains("flow", report.StageMs.Keys);
            Assert.Contains("solve", report.StageMs.Keys);
            using (var doc = JsonDocument.Parse(stdout)) Assert.Equal(16, doc.RootElement.GetProperty("frames_out").GetInt32());
            var intr = IntrinsicsJson.Read(Path.Combine(outDir, "intrinsics.json"));
            Assert.NotNull(intr.Processing);
            var model = ColmapTextModel.Read(Path.Combine(outDir, "colmap"));
            Assert.Equal(16, model.Images.Count);
            Assert.Equal("000000.png", model.Images[0].Name);
            Assert.True(PlyFile.Read(Path.Combine(outDir, "points.ply")).Count > 100);

            // Loose accuracy: ATE under 10 % of the path, focal within 30 % (16 frames at 160x120 with a few hundred descent
            // steps constrain the focal little; the benchmark holds the real targets).
            var est = TumTrajectory.ReadPoses(Path.Combine(outDir, "trajectory.txt"));
            var gt = TumTrajectory.ReadPoses(Path.Combine(seq, "trajectory.txt"));
            var acc = FlowMap.Evaluation.TrajectoryMetrics.Evaluate(est, gt);
            double ate = acc.AteRmse, pathLen = acc.PathLength;
            Assert.True(ate < 0.10 * pathLen, $"ATE {ate:F4} over a {pathLen:F3} path");
            var truthK = IntrinsicsJson.ReadInput(Path.Combine(seq, "intrinsics.json"));
            Assert.True(Math.Abs(intr.Input.Fx / truthK.Fx - 1) < 0.30, $"focal {intr.Input.Fx:F1} vs {truthK.Fx:F1}");
        }

        [Fact]
        public void Missing_input_is_a_one_line_error()
        {
            using var tmp = new TempDir();
            var (code, _, err) = CliProcess.Run(new[] { "reconstruct", tmp.File("nothing"), "--out", tmp.File("out") });
            Assert.Equal(2, code);
            Assert.Contains("does not exist", err);
            Assert.Single(err.Trim().Split('\n'));
        }

        [Fact]
        public void Bad_depth_model_fails_before_any_frame()
        {
            using var tmp = new TempDir();
            var seq = tmp.Sub("frames");
            var (code, _, err) = CliProcess.Run(new[] { "reconstruct", seq, "--out", tmp.File("out"), "--depth-model", TestModels.Path("depth_nan.onnx") });
            Assert.Equal(2, code);
            Assert.Contains("depth_nan.onnx", err);
            Assert.False(File.Exists(tmp.File("out", "report.json")));
        }

        [Fact]
        public void Bad_mode_and_size_are_refused()
        {
            using var tmp = new TempDir();
            var (code, _, err) = CliProcess.Run(new[] { "reconstruct", tmp.Path, "--out", tmp.File("o"), "--mode", "fast" });
            Assert.Equal(2, code); Assert.Contains("--mode", err);
            (code, _, err) = CliProcess.Run(new[] { "reconstruct", tmp.Path, "--out", tmp.File("o"), "--size", "abc" });
            Assert.Equal(2, code); Assert.Contains("WxH", err);
        }
    }
}
