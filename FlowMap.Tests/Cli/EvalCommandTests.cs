using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Export;
using FlowMap.Tests.Evaluation;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Cli
{
    public sealed class EvalCommandTests
    {
        [Fact]
        public void Eval_of_a_copy_of_the_truth_as_a_reconstruction_prints_zero_errors()
        {
            using var tmp = new TempDir();
            var gt = tmp.Sub("gt");
            SequenceEvaluationTests.WriteSyntheticTruth(gt, 11);
            // The same data laid out as a reconstruction (no color/ images).
            var est = tmp.Sub("est");
            foreach (var f in Directory.GetFiles(gt, "*", SearchOption.AllDirectories).Where(f => !f.Contains(Path.DirectorySeparatorChar + "color" + Path.DirectorySeparatorChar)))
            {
                var to = Path.Combine(est, Path.GetRelativePath(gt, f));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(f, to);
            }
            var (code, stdout, stderr) = CliProcess.Run(new[] { "eval", "--gt", gt, "--est", est, "--json" });
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            var root = doc.RootElement;
            Assert.Equal(SequenceEvaluationTests.N, root.GetProperty("frames_matched").GetInt32());
            Assert.True(root.GetProperty("ate_m").GetDouble() < 1e-9);
            Assert.Equal(0, root.GetProperty("focal_error_percent").GetDouble());
            Assert.Equal(0, root.GetProperty("depth_absrel_frame").GetDouble(), 9);
            Assert.Equal(0, root.GetProperty("flow_epe_all").GetDouble());

            var (code2, table, _) = CliProcess.Run(new[] { "eval", "--gt", gt, "--est", est });
            Assert.Equal(0, code2);
            Assert.Contains("ATE", table);
            Assert.Contains("0.000 cm", table);
        }

        [Fact]
        public void Eval_reports_a_known_focal_error_and_refuses_missing_folders()
        {
            using var tmp = new TempDir();
            var gt = tmp.Sub("gt"); var est = tmp.Sub("est");
            SequenceEvaluationTests.WriteSyntheticTruth(gt, 12);
            File.Copy(Path.Combine(gt, "trajectory.txt"), Path.Combine(est, "trajectory.txt"));
            var k = SequenceEvaluationTests.K;
            IntrinsicsJson.Write(Path.Combine(est, "intrinsics.json"), k with { Fx = k.Fx * 0.97, Fy = k.Fy * 0.97 }, k.Resized(12, 9));
            var (code, stdout, stderr) = CliProcess.Run(new[] { "eval", "--gt", gt, "--est", est, "--json" });
            Assert.True(code == 0, stderr);
            using (var doc = JsonDocument.Parse(stdout))
                Assert.Equal(-3.0, doc.RootElement.GetProperty("focal_error_percent").GetDouble(), 9);

            var (bad, _, err) = CliProcess.Run(new[] { "eval", "--gt", tmp.File("none"), "--est", est });
            Assert.Equal(2, bad);
            Assert.Equal("flowmap: ground-truth folder '" + tmp.File("none") + "' does not exist", err.Trim());
            var (bad2, _, err2) = CliProcess.Run(new[] { "eval", "--gt", gt, "--est", tmp.Sub("empty") });
            Assert.Equal(2, bad2);
            Assert.Contains("trajectory.txt", err2);
        }

        /// <summary>A distorted truth (k1 = -0.2) against an estimate with k1 = -0.19: k1_error = +0.01 in the JSON, and a table row.</summary>
        [Fact]
        public void Eval_reports_the_k1_error_when_the_truth_is_distorted()
        {
            using var tmp = new TempDir();
            var gt = tmp.Sub("gt"); var est = tmp.Sub("est");
            SequenceEvaluationTests.WriteSyntheticTruth(gt, 13);
            var k = SequenceEvaluationTests.K;
            IntrinsicsJson.Write(Path.Combine(gt, "intrinsics.json"), k with { K1 = -0.2 });
            File.Copy(Path.Combine(gt, "trajectory.txt"), Path.Combine(est, "trajectory.txt"));
            IntrinsicsJson.Write(Path.Combine(est, "intrinsics.json"), k with { K1 = -0.19 }, k.Resized(12, 9) with { K1 = -0.19 });
            var (code, stdout, stderr) = CliProcess.Run(new[] { "eval", "--gt", gt, "--est", est, "--json" });
            Assert.True(code == 0, stderr);
            using (var doc = JsonDocument.Parse(stdout))
            {
                Assert.Equal(-0.2, doc.RootElement.GetProperty("k1_gt").GetDouble());
                Assert.Equal(-0.19, doc.RootElement.GetProperty("k1_est").GetDouble());
                Assert.Equal(0.01, doc.RootElement.GetProperty("k1_error").GetDouble(), 12);
                Assert.Equal(0, doc.RootElement.GetProperty("focal_error_percent").GetDouble());
            }
            var (code2, table, _) = CliProcess.Run(new[] { "eval", "--gt", gt, "--est", est });
            Assert.Equal(0, code2);
            Assert.Contains("k1 error", table);
            Assert.Contains("+0.0100", table);
        }

        [Fact]
        public void Eval_flow_prints_the_known_end_point_errors()
        {
            using var tmp = new TempDir();
            int w = 10, h = 6, n = w * h;
            var gt = new FlowField(w, h, Enumerable.Range(0, 2 * n).Select(i => (float)(i % 5)).ToArray());
            var est = new FlowField(w, h, gt.Data.Select((v, i) => v + (i % 2 == 0 ? 3f : 4f)).ToArray()); // error 5 everywhere
            est.Data[0] += 7; est.Data[1] += 4;   // pixel 0: error (10, 8) -> sqrt(164), occluded below
            FloFile.Write(tmp.File("gt.flo"), gt);
            FloFile.Write(tmp.File("est.flo"), est);
            var occ = new bool[n]; occ[0] = true;
            PngImage.WriteMask(tmp.File("occ.png"), occ, w, h);
            var (code, stdout, stderr) = CliProcess.Run(new[] { "eval-flow", "--gt", tmp.File("gt.flo"), "--est", tmp.File("est.flo"), "--occlusion", tmp.File("occ.png"), "--json" });
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            Assert.Equal(5.0, doc.RootElement.GetProperty("epe_noc").GetDouble(), 5);
            Assert.Equal((5.0 * (n - 1) + System.Math.Sqrt(164)) / n, doc.RootElement.GetProperty("epe_all").GetDouble(), 5);

            var (code2, table, _) = CliProcess.Run(new[] { "eval-flow", "--gt", tmp.File("gt.flo"), "--est", tmp.File("est.flo"), "--occ", tmp.File("occ.png") });
            Assert.Equal(0, code2);
            Assert.Contains("5.0000", table);

            File.WriteAllBytes(tmp.File("cut.flo"), File.ReadAllBytes(tmp.File("est.flo")).AsSpan(0, 100).ToArray());
            var (bad, _, err) = CliProcess.Run(new[] { "eval-flow", "--gt", tmp.File("gt.flo"), "--est", tmp.File("cut.flo") });
            Assert.Equal(2, bad);   // bad input (README: exit codes)
            Assert.Contains("cut.flo", err);
            Assert.Contains("truncated", err);
        }
    }
}
