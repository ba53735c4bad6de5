using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using FlowMap.Flow;
using FlowMap.Solve;
using FlowMap.Synthetic;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap bench solver`: the window solver alone on a synthetic room walk with exact truth. Per size: milliseconds
    /// per descent step (GPU and the CPU double-precision reference), and accuracy (worst per-pair rotation error, focal
    /// error, depth AbsRel after one median scale per frame) with the true flow and, with --estimated-flow, with the
    /// Vulkan flow estimator; both pose-gradient variants (through Procrustes, stop-gradient).
    /// </summary>
    public sealed class BenchSolver : IBenchSuite
    {
        private sealed class Row
        {
            public string Size { get; set; } = "";
            public string Backend { get; set; } = "";
            public string Flow { get; set; } = "";
            public string PoseGradient { get; set; } = "";
            public int Steps { get; set; }
            public double MsPerStep { get; set; }
            public double? RotationErrorDeg { get; set; }
            public double? FocalErrorPercent { get; set; }
            public double? DepthAbsRel { get; set; }
            public double FinalLoss { get; set; }
        }

        public Command Build()
        {
            var cmd = new Command("solver", "Window solver: ms per descent step (GPU vs CPU reference) and accuracy on a synthetic walk with exact truth.");
            var sizes = new Option<string>("--sizes") { Description = "Comma-separated WxH list.", DefaultValueFactory = _ => "160x120,320x240" };
            var frames = new Option<int>("--frames") { Description = "Frames in the window.", DefaultValueFactory = _ => 6 };
            var gap = new Option<int>("--gap") { Description = "Rendered frames between window frames (more parallax).", DefaultValueFactory = _ => 2 };
            var steps = new Option<int>("--steps") { Description = "Descent steps of the accuracy runs.", DefaultValueFactory = _ => 300 };
            var cpuSteps = new Option<int>("--cpu-steps") { Description = "Steps of the CPU-reference timing run (0 skips it).", DefaultValueFactory = _ => 10 };
            var estimated = new Option<bool>("--estimated-flow") { Description = "Also solve on the Vulkan flow estimator's flow." };
            var path = new Option<string>("--path") { Description = "Camera path of the synthetic sequence.", DefaultValueFactory = _ => "walk" };
            var json = new Option<bool>("--json") { Description = "Print JSON rows instead of a table." };
            foreach (var o in new Option[] { sizes, frames, gap, steps, cpuSteps, estimated, path, json }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                int n = r.GetValue(frames), g = r.GetValue(gap), st = r.GetValue(steps);
                if (n < 2) throw new CliException("--frames must be at least 2.", 2);
                if (g < 1) throw new CliException("--gap must be at least 1.", 2);
                if (st < 1) throw new CliException("--steps must be at least 1.", 2);
                var rows = new List<Row>();
                bool quiet = r.GetValue(json);
                foreach (var (w, h) in Sizes.ParseList(r.GetValue(sizes)!))
                {
                    using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                        new SyntheticSequenceOptions { Path = r.GetValue(path)!, Frames = (n - 1) * g + 1, Width = w, Height = h, Seed = 3 });
                    var idx = Enumerable.Range(0, n).Select(i => i * g).ToArray();
                    var images = idx.Select(seq.Frame).ToList();
                    var truthPairs = new List<FlowResult>();
                    for (int k = 0; k + 1 < n; k++)
                        truthPairs.Add(new FlowResult(seq.Flow(idx[k], idx[k + 1]), seq.Flow(idx[k + 1], idx[k]),
                            Visible(seq.Occlusion(idx[k], idx[k + 1])), Visible(seq.Occlusion(idx[k + 1], idx[k]))));
                    var windows = new List<(string, SolverWindow)> { ("true", new SolverWindow(images, truthPairs)) };
                    if (r.GetValue(estimated))
                    {
                        using var est = new VulkanFlowEstimator();
                        var pairs = new List<FlowResult>();
                        for (int k = 0; k + 1 < n; k++) pairs.Add(est.Estimate(images[k], images[k + 1]));
                        windows.Add((est.Name, new SolverWindow(images, pairs)));
                    }
                    using var gpu = WindowSolver.Create(SolverBackend.Gpu);
                    foreach (var (flowName, window) in windows)
                        foreach (bool through in new[] { true, false })
                        {
                            if (!quiet) Console.Error.Write($"\r{w}x{h} gpu flow={flowName} through-procrustes={through}...".PadRight(70));
                            var res = gpu.Solve(window, new SolverOptions { Steps = st, GradientThroughPoses = through });
                            rows.Add(Measure(seq, idx, res, $"{w}x{h}", "gpu", flowName, through));
                        }
                    if (r.GetValue(cpuSteps) > 0)
                    {
                        if (!quiet) Console.Error.Write($"\r{w}x{h} cpu reference timing...".PadRight(70));
                        using var cpu = WindowSolver.Create(SolverBackend.Cpu);
                        var res = cpu.Solve(windows[0].Item2, new SolverOptions { Steps = r.GetValue(cpuSteps) });
                        var row = Measure(seq, idx, res, $"{w}x{h}", "cpu", "true", true);
                        row.RotationErrorDeg = row.FocalErrorPercent = row.DepthAbsRel = null; // too few steps to mean anything
                        rows.Add(row);
                    }
                }
                if (!quiet) Console.Error.WriteLine();
                if (quiet)
                {
                    Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
                    return 0;
                }
                var t = new Table().Title($"Window solver, synthetic room '{r.GetValue(path)}', {n} frames every {g} rendered frames, {st} steps (CPU row: timing only)");
                foreach (var c in new[] { "size", "backend", "flow", "pose gradient", "steps", "ms/step", "worst pair rot (deg)", "focal err %", "AbsRel", "loss" }) t.AddColumn(c);
                foreach (var row in rows)
                    t.AddRow(row.Size, row.Backend, Markup.Escape(row.Flow), row.PoseGradient, row.Steps.ToString(CultureInfo.InvariantCulture), F(row.MsPerStep),
                        F(row.RotationErrorDeg), F(row.FocalErrorPercent), F(row.DepthAbsRel), row.FinalLoss.ToString("E2", CultureInfo.InvariantCulture));
                AnsiConsole.Write(t);
                return 0;
            });
            return cmd;
        }

        private static FloatImage Visible(FloatImage occlusion) =>
            new FloatImage(occlusion.Width, occlusion.Height, occlusion.Data.Select(v => 1 - v).ToArray());

        private static Row Measure(SyntheticSequence seq, int[] idx, SolverResult r, string size, string backend, string flow, bool through)
        {
            double rot = 0;
            for (int i = 0; i + 1 < idx.Length; i++)
            {
                var t = seq.Pose(idx[i]).Inverse().Compose(seq.Pose(idx[i + 1]));
                var e = r.Poses[i].Inverse().Compose(r.Poses[i + 1]);
                rot = Math.Max(rot, t.Inverse().Compose(e).RotationAngle() * 180 / Math.PI);
            }
            double sum = 0; long count = 0;
            for (int f = 0; f < idx.Length; f++)
            {
                var truth = seq.Depth(idx[f]).Data; var est = r.Depth[f].Data;
                var ratios = truth.Zip(est, (a, b) => (double)a / b).OrderBy(v => v).ToList();
                double s = ratios[ratios.Count / 2];
                for (int i = 0; i < truth.Length; i++) { sum += Math.Abs(s * est[i] - truth[i]) / truth[i]; count++; }
            }
            return new Row
            {
                Size = size, Backend = backend, Flow = flow, PoseGradient = through ? "through Procrustes" : "stop-gradient", Steps = r.Steps,
                MsPerStep = r.StageMilliseconds.TryGetValue("steps", out var ms) ? ms / Math.Max(1, r.Steps) : double.NaN,
                RotationErrorDeg = rot, FocalErrorPercent = (r.Focal / seq.Intrinsics.Fx - 1) * 100, DepthAbsRel = sum / count, FinalLoss = r.FinalLoss,
            };
        }

        private static string F(double? v) => v.HasValue ? F(v.Value) : "-";

        private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(Math.Abs(v) < 10 ? "F3" : "F1", CultureInfo.InvariantCulture);
    }
}
