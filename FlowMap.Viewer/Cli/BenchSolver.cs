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
    /// Vulkan flow estimator; both pose-gradient variants (through Procrustes, stop-gradient). Then the online keyframe
    /// solve as the pipeline runs it (--keyframe-size, default 106x80 = 320x240 processing brought under
    /// ReconstructionOptions.OnlineSolverPixels; --keyframe-steps warm-started from a 150-step solve of the same window,
    /// the newest frame's depth unknown, all but the newest 3 frames frozen): milliseconds per solve and per step, median
    /// of --repeats, with one step per queue submission (the old way) and with SolverOptions.StepsPerSubmission.
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
            public double SolveMs { get; set; }
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
            var kfSize = new Option<string>("--keyframe-size") { Description = "Size WxH of the online keyframe-solve rows ('none' skips them).", DefaultValueFactory = _ => "106x80" };
            var kfSteps = new Option<int>("--keyframe-steps") { Description = "Warm-started steps of a keyframe solve (ReconstructionOptions.KeyframeSteps).", DefaultValueFactory = _ => 40 };
            var repeats = new Option<int>("--repeats") { Description = "Keyframe solves timed per variant (the median is shown).", DefaultValueFactory = _ => 3 };
            var kernelTimings = new Option<bool>("--kernel-timings")
            {
                Description = "Also time the keyframe solve per kernel (GPU timestamps, one step per submission): ms and dispatches per step for each kernel, and the step's wall time beside their sum. With --json the output becomes {\"rows\": [...], \"kernels\": [...]}.",
            };
            foreach (var o in new Option[] { sizes, frames, gap, steps, cpuSteps, estimated, path, json, kfSize, kfSteps, repeats, kernelTimings }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                int n = r.GetValue(frames), g = r.GetValue(gap), st = r.GetValue(steps);
                if (n < 2) throw new CliException("--frames must be at least 2.", 2);
                if (g < 1) throw new CliException("--gap must be at least 1.", 2);
                if (st < 1) throw new CliException("--steps must be at least 1.", 2);
                if (r.GetValue(kfSteps) < 1 || r.GetValue(repeats) < 1) throw new CliException("--keyframe-steps and --repeats must be at least 1.", 2);
                if (r.GetValue(kernelTimings) && string.Equals(r.GetValue(kfSize), "none", StringComparison.OrdinalIgnoreCase))
                    throw new CliException("--kernel-timings times the keyframe solve: give a --keyframe-size.", 2);
                var rows = new List<Row>();
                var kernels = new List<KernelRow>();
                bool quiet = r.GetValue(json);
                foreach (var (w, h) in Sizes.ParseList(r.GetValue(sizes)!))
                {
                    using var seq = Sequence(r.GetValue(path)!, n, g, w, h);
                    var idx = Enumerable.Range(0, n).Select(i => i * g).ToArray();
                    var images = idx.Select(seq.Frame).ToList();
                    var windows = new List<(string, SolverWindow)> { ("true", TruthWindow(seq, idx)) };
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
                if (!string.Equals(r.GetValue(kfSize), "none", StringComparison.OrdinalIgnoreCase))
                {
                    var (kw, kh) = Sizes.ParseList(r.GetValue(kfSize)!).First();
                    rows.AddRange(KeyframeRows(r.GetValue(path)!, n, g, kw, kh, r.GetValue(kfSteps), r.GetValue(repeats), quiet,
                        r.GetValue(kernelTimings) ? kernels : null));
                }
                if (!quiet) Console.Error.WriteLine();
                if (quiet)
                {
                    var opts = new JsonSerializerOptions { WriteIndented = true };
                    Console.WriteLine(r.GetValue(kernelTimings)
                        ? JsonSerializer.Serialize(new { rows, kernels }, opts)
                        : JsonSerializer.Serialize(rows, opts));
                    return 0;
                }
                var t = new Table().Title($"Window solver, synthetic room '{r.GetValue(path)}', {n} frames every {g} rendered frames, {st} steps (CPU row: timing only)");
                foreach (var c in new[] { "size", "backend", "flow", "pose gradient", "steps", "ms/step", "ms/solve", "worst pair rot (deg)", "focal err %", "AbsRel", "loss" }) t.AddColumn(c);
                foreach (var row in rows)
                    t.AddRow(Markup.Escape(row.Size), Markup.Escape(row.Backend), Markup.Escape(row.Flow), row.PoseGradient, row.Steps.ToString(CultureInfo.InvariantCulture), F(row.MsPerStep), F(row.SolveMs),
                        F(row.RotationErrorDeg), F(row.FocalErrorPercent), F(row.DepthAbsRel), row.FinalLoss.ToString("E2", CultureInfo.InvariantCulture));
                AnsiConsole.Write(t);
                if (kernels.Count > 0)
                {
                    var kt = new Table().Title($"Keyframe solve per kernel ({kernels[0].Size}, {r.GetValue(kfSteps)} steps, one per submission): GPU time and dispatches per step");
                    foreach (var c in new[] { "kernel", "dispatches/step", "gpu ms/step", "share %" }) kt.AddColumn(c);
                    foreach (var k in kernels)
                        kt.AddRow(Markup.Escape(k.Kernel), F(k.DispatchesPerStep), F(k.GpuMsPerStep), F(k.SharePercent));
                    AnsiConsole.Write(kt);
                }
                return 0;
            });
            return cmd;
        }

        private static SyntheticSequence Sequence(string path, int n, int gap, int w, int h) =>
            SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = path, Frames = (n - 1) * gap + 1, Width = w, Height = h, Seed = 3 });

        private static SolverWindow TruthWindow(SyntheticSequence seq, int[] idx)
        {
            var pairs = new List<FlowResult>();
            for (int k = 0; k + 1 < idx.Length; k++)
                pairs.Add(new FlowResult(seq.Flow(idx[k], idx[k + 1]), seq.Flow(idx[k + 1], idx[k]),
                    Visible(seq.Occlusion(idx[k], idx[k + 1])), Visible(seq.Occlusion(idx[k + 1], idx[k]))));
            return new SolverWindow(idx.Select(seq.Frame).ToList(), pairs);
        }

        private sealed class KernelRow
        {
            public string Size { get; set; } = "";
            public string Kernel { get; set; } = "";
            public double DispatchesPerStep { get; set; }
            public double GpuMsPerStep { get; set; }
            public double SharePercent { get; set; }
        }

        /// <summary>
        /// The online keyframe solve, timed with one step per submission and with the default batching; with
        /// <paramref name="kernels"/>, once more with per-kernel GPU timestamps (rows per kernel, then "all kernels" and
        /// "step wall time": what the kernels' sum leaves is the per-dispatch and per-submission cost of the host and driver).
        /// </summary>
        private static IEnumerable<Row> KeyframeRows(string path, int n, int gap, int w, int h, int steps, int repeats, bool quiet, List<KernelRow>? kernels = null)
        {
            using var seq = Sequence(path, n, gap, w, h);
            var idx = Enumerable.Range(0, n).Select(i => i * gap).ToArray();
            var window = TruthWindow(seq, idx);
            using var gpu = WindowSolver.Create(SolverBackend.Gpu);
            if (!quiet) Console.Error.Write($"\r{w}x{h} keyframe: first-window solve...".PadRight(70));
            var cold = gpu.Solve(window, new SolverOptions { Steps = 150 });
            // As the online pipeline: the focal held (the self-calibration determined it), the window's older frames keep the
            // depth of the previous solve, the newest is new; all but the newest three (ReconstructionOptions.ActiveKeyframes)
            // are frozen.
            var held = new SolverWindow(window.Images, window.Pairs, null, cold.Focal);
            var warm = new SolverWarmStart
            {
                InitialDepth = cold.Depth.Select((d, i) => i < n - 1 ? d : null).ToList(), Focal = cold.Focal, FrozenFrames = Math.Max(0, n - 3),
            };
            int batched = new SolverOptions().StepsPerSubmission;
            var result = new List<Row>();
            var solver = (GpuWindowSolver)gpu;
            // Every pair through every step (before issue 12's frozen-prefix cut), then as the pipeline solves: the pairs
            // of two frozen frames left out of the steps (GpuWindowSolver.FrozenPrefix; the same result to the bit).
            foreach (bool cut in new[] { false, true })
                foreach (int per in new[] { 1, batched })
                {
                    solver.SkipFrozenPairs = cut;
                    var solves = new List<(double Total, SolverResult R)>();
                    for (int i = 0; i < repeats; i++)
                    {
                        if (!quiet) Console.Error.Write($"\r{w}x{h} keyframe: {steps} steps, {per} per submission, solve {i + 1}/{repeats}...".PadRight(70));
                        var res = gpu.Solve(held, new SolverOptions { Steps = steps, StepsPerSubmission = per }, warm);
                        solves.Add((res.StageMilliseconds["total"], res));
                    }
                    var median = solves.OrderBy(s => s.Total).ElementAt(solves.Count / 2);
                    string how = (per == 1 ? "gpu, 1 step/submit" : $"gpu, {per} steps/submit") + (cut ? $", frozen pairs out ({solver.FrozenPrefix(new SolverProblem(held, solver.Tuning), new SolverOptions { Steps = steps }, warm)} frames)" : ", every pair");
                    result.Add(Measure(seq, idx, median.R, $"{w}x{h} keyframe", how, "true", true));
                }
            solver.SkipFrozenPairs = true;
            if (kernels != null)
            {
                if (!quiet) Console.Error.Write($"\r{w}x{h} keyframe: {steps} steps with per-kernel timestamps...".PadRight(70));
                using var timed = GpuWindowSolver.CreateOwned();
                timed.KernelTimings = true;
                var ms = timed.Solve(held, new SolverOptions { Steps = steps, StepsPerSubmission = 1 }, warm).StageMilliseconds;
                double all = ms.Where(kv => kv.Key.StartsWith("gpu:", StringComparison.Ordinal)).Sum(kv => kv.Value);
                foreach (var kv in ms.Where(kv => kv.Key.StartsWith("gpu:", StringComparison.Ordinal)).OrderByDescending(kv => kv.Value))
                {
                    string name = kv.Key.Substring(4);
                    kernels.Add(new KernelRow
                    {
                        Size = $"{w}x{h}", Kernel = name, DispatchesPerStep = ms["calls:" + name] / steps,
                        GpuMsPerStep = kv.Value / steps, SharePercent = 100 * kv.Value / all,
                    });
                }
                kernels.Add(new KernelRow
                {
                    Size = $"{w}x{h}", Kernel = "all kernels", DispatchesPerStep = ms.Where(kv => kv.Key.StartsWith("calls:", StringComparison.Ordinal)).Sum(kv => kv.Value) / steps,
                    GpuMsPerStep = all / steps, SharePercent = 100,
                });
                kernels.Add(new KernelRow { Size = $"{w}x{h}", Kernel = "step wall time (timestamps on)", GpuMsPerStep = ms["steps"] / steps, SharePercent = 100 * ms["steps"] / all });
            }
            return result;
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
                SolveMs = r.StageMilliseconds.TryGetValue("total", out var total) ? total : double.NaN,
                RotationErrorDeg = rot, FocalErrorPercent = (r.Focal / seq.Intrinsics.Fx - 1) * 100, DepthAbsRel = sum / count, FinalLoss = r.FinalLoss,
            };
        }

        private static string F(double? v) => v.HasValue ? F(v.Value) : "-";

        private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(Math.Abs(v) < 10 ? "F3" : "F1", CultureInfo.InvariantCulture);
    }
}
