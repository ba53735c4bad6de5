using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Capture;
using FlowMap.Datasets;
using FlowMap.Reconstruction;
using FlowMap.Synthetic;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap bench reconstruct`: the whole pipeline, online and offline, on ICL-NUIM livingroom1 (../shared/data, skipped
    /// with a message when absent) and on synthetic sequences with exact truth (walk, orbit, pure rotation, static camera):
    /// ATE (Sim(3)-aligned, m and % of path), relative rotation error, focal error, depth AbsRel / delta1 (per-frame median
    /// scale and one scale), wall time, frames per second, per-stage times, peak memory; with the COLMAP anchor of EVALUATION.md.
    /// </summary>
    public sealed class BenchReconstruct : IBenchSuite
    {
        public Command Build()
        {
            var cmd = new Command("reconstruct", "Poses, focal and depth against ground truth, online and offline, with wall time and fps.");
            var modes = new Option<string>("--modes") { Description = "Comma-separated: online, offline.", DefaultValueFactory = _ => "online,offline" };
            var seqs = new Option<string>("--sequences") { Description = "Comma-separated: icl, walk, orbit, rotation, static.", DefaultValueFactory = _ => "icl,walk,orbit,rotation,static" };
            var frames = new Option<int>("--synthetic-frames") { Description = "Frames per synthetic sequence.", DefaultValueFactory = _ => 60 };
            var iclFrames = new Option<int?>("--icl-frames") { Description = "Use only the first N ICL-NUIM frames (default all 211)." };
            var data = new Option<string?>("--data") { Description = "The shared data folder (default ../shared/data from the repository)." };
            var json = new Option<bool>("--json") { Description = "Print JSON rows instead of a table." };
            var lr = new Option<double?>("--learning-rate") { Description = "Override the solver's learning rate (tuning)." };
            var kfSteps = new Option<int?>("--keyframe-steps") { Description = "Override online steps per keyframe (tuning)." };
            var offSteps = new Option<int?>("--offline-steps") { Description = "Override offline steps (tuning)." };
            var kfFrac = new Option<double?>("--keyframe-flow") { Description = "Override the keyframe flow fraction of sqrt(W H) (tuning)." };
            foreach (var o in new Option[] { modes, seqs, frames, iclFrames, data, json, lr, kfSteps, offSteps, kfFrac }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                var modeList = r.GetValue(modes)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ReconstructCommand.ParseMode).ToList();
                var seqList = r.GetValue(seqs)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim().ToLowerInvariant()).ToList();
                foreach (var s in seqList)
                    if (s != "icl" && !SyntheticSequence.PathNames.Contains(s)) throw new CliException($"Unknown sequence '{s}'; expected icl or one of {string.Join(", ", SyntheticSequence.PathNames)}.");
                bool asJson = r.GetValue(json);
                _tune = o =>
                {
                    if (r.GetValue(lr) is double l) o.Solver.LearningRate = l;
                    if (r.GetValue(kfSteps) is int k) o.KeyframeSteps = k;
                    if (r.GetValue(offSteps) is int q) o.OfflineSteps = q;
                    if (r.GetValue(kfFrac) is double f) o.KeyframeFlowFraction = f;
                };
                var log = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                var rows = new List<BenchRow>();
                foreach (var s in seqList)
                {
                    log.MarkupLine($"[grey]{s} ...[/]");
                    var got = s == "icl" ? RunIcl(modeList, r.GetValue(data), r.GetValue(iclFrames), log) : RunSynthetic(s, modeList, r.GetValue(frames));
                    foreach (var row in got) { rows.Add(row); log.MarkupLine($"[grey]  {Markup.Escape(row.Mode)}: {Markup.Escape(row.Short())}[/]"); }
                }
                if (asJson) Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
                else Print(rows);
                return 0;
            });
            return cmd;
        }

        private static Action<ReconstructionOptions> _tune = _ => { };

        // ------------------------------------------------------------------ sequences

        private static string? FindData(string? given)
        {
            if (given != null) return Directory.Exists(given) ? given : null;
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            {
                var c = Path.Combine(d.FullName, "..", "shared", "data");
                if (File.Exists(Path.Combine(d.FullName, "flowmap")) && Directory.Exists(c)) return c;
            }
            var cwd = Path.Combine(Directory.GetCurrentDirectory(), "..", "shared", "data");
            return Directory.Exists(cwd) ? cwd : null;
        }

        private static List<BenchRow> RunIcl(List<ReconstructionMode> modes, string? dataDir, int? maxFrames, IAnsiConsole log)
        {
            var rows = new List<BenchRow>();
            var root = FindData(dataDir);
            var folder = root == null ? null : Path.Combine(root, "icl_nuim_livingroom1");
            if (folder == null || !Directory.Exists(folder))
            {
                log.MarkupLine("[yellow]ICL-NUIM livingroom1 not found (../shared/data/icl_nuim_livingroom1): skipped.[/]");
                return rows;
            }
            var icl = IclNuim.Open(folder);
            int n = Math.Min(icl.Count, maxFrames ?? icl.Count);
            var truth = new Truth(icl.Poses.Take(n).ToList(), icl.Intrinsics, i => icl.ReadDepth(i));
            foreach (var mode in modes)
            {
                // Frames are decoded inside the timed run, as a user's run would.
                using var source = new IndexedSource($"ICL-NUIM livingroom1 ({n} frames)", n, i => new Frame(i, i / 30.0, icl.ReadColor(i), Path.GetFileName(icl.ColorFiles[i])));
                rows.Add(Measure("icl-livingroom1", mode, source, truth));
            }
            return rows;
        }

        private static List<BenchRow> RunSynthetic(string path, List<ReconstructionMode> modes, int frames)
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1), new SyntheticSequenceOptions { Path = path, Frames = frames, Width = 320, Height = 240, Seed = 1 });
            // Render (and cache) before timing, so the wall time is the reconstruction's only.
            var images = Enumerable.Range(0, seq.Count).Select(seq.Frame).ToList();
            var depths = Enumerable.Range(0, seq.Count).Select(seq.Depth).ToList();
            var truth = new Truth(seq.Poses.ToList(), seq.Intrinsics, i => depths[i]);
            var rows = new List<BenchRow>();
            foreach (var mode in modes)
            {
                using var source = new IndexedSource($"synthetic room / {path}", seq.Count, i => new Frame(i, i / 30.0, images[i], $"{i:D6}.png"));
                rows.Add(Measure("synthetic-" + path, mode, source, truth));
            }
            return rows;
        }

        private static BenchRow Measure(string name, ReconstructionMode mode, IFrameSource source, Truth truth)
        {
            var o = new ReconstructionOptions { Mode = mode };
            _tune(o);
            using var pipeline = ReconstructionComponents.CreatePipeline(o);
            var depth = new DepthAccumulator(truth);
            pipeline.FrameFinalized += f => depth.Add(f);
            var run = Reconstructor.Run(source, pipeline);
            var r = run.Result;
            var est = r.Poses.Select(p => p.Pose).ToList();
            var gt = r.Poses.Select(p => truth.Poses[p.Index]).ToList();
            var (ate, pathLen) = PoseMetrics.Ate(est, gt);
            var (pf, one) = depth.Compute();
            long peak;
            using (var proc = System.Diagnostics.Process.GetCurrentProcess()) peak = proc.PeakWorkingSet64;
            return new BenchRow
            {
                Sequence = name,
                Mode = mode.ToString().ToLowerInvariant(),
                Frames = r.Poses.Count,
                Keyframes = r.Keyframes,
                AteM = ate,
                AtePercent = pathLen > 1e-9 ? 100 * ate / pathLen : double.NaN,
                PathM = pathLen,
                MaxDriftM = PoseMetrics.MaxCentreDistance(est),
                RotationErrorDeg = PoseMetrics.RelativeRotationErrorDeg(est, gt),
                FocalErrorPercent = 100 * (r.Input.Fx / truth.Intrinsics.Fx - 1),
                AbsRelPerFrame = pf.AbsRel, Delta1PerFrame = pf.Delta1,
                AbsRelOneScale = one.AbsRel, Delta1OneScale = one.Delta1,
                WallS = run.WallSeconds,
                Fps = r.Poses.Count / run.WallSeconds,
                StageMs = r.StageMedianMilliseconds.Where(kv => !kv.Key.Contains('.')).ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 2)),
                PeakMemoryMb = peak / (1024.0 * 1024.0),
                Warnings = r.Warnings.ToList(),
            };
        }

        private static void Print(List<BenchRow> rows)
        {
            if (AnsiConsole.Profile.Width < 200) AnsiConsole.Profile.Width = 200;
            var t = new Table().Title("Reconstruction vs ground truth (ATE after Sim(3) alignment; depth after per-frame median scale (pf) and one scale (1s))");
            foreach (var c in new[] { "sequence", "mode", "frames", "kf", "ATE cm", "ATE %", "rot err deg", "focal err %", "AbsRel pf", "d1 pf", "AbsRel 1s", "d1 1s", "wall s", "fps", "warnings" })
                t.AddColumn(c);
            string F(double v, string f = "F3") => double.IsNaN(v) ? "-" : v.ToString(f, CultureInfo.InvariantCulture);
            foreach (var r in rows)
                t.AddRow(r.Sequence, r.Mode, r.Frames.ToString(), r.Keyframes.ToString(), F(100 * r.AteM, "F2"), F(r.AtePercent, "F2"), F(r.RotationErrorDeg),
                    F(r.FocalErrorPercent, "F2"), F(r.AbsRelPerFrame), F(r.Delta1PerFrame), F(r.AbsRelOneScale), F(r.Delta1OneScale), F(r.WallS, "F1"), F(r.Fps, "F2"),
                    Markup.Escape(string.Join("; ", r.Warnings.Select(w => w.Split(':')[0]))));
            t.AddRow("[grey]anchor: COLMAP 3.8 on icl-livingroom1[/]", "[grey]-[/]", "[grey]211[/]", "", "[grey]1.20[/]", "[grey]0.32[/]", "", "[grey]+0.09[/]", "", "", "", "", "[grey]401[/]", "[grey]0.53[/]", "[grey](EVALUATION.md)[/]");
            AnsiConsole.Write(t);
            var icl = rows.Where(r => r.Sequence.StartsWith("icl")).ToList();
            foreach (var r in icl)
                AnsiConsole.MarkupLine($"{r.Sequence} {r.Mode}: ATE {100 * r.AteM:F2} cm = {r.AteM / 0.012:F2}x COLMAP's, wall {r.WallS:F1} s = {r.WallS / 401:F3}x COLMAP's 401 s, focal {r.FocalErrorPercent:+0.00;-0.00} %");
            var st = new Table().Title("Median ms per frame and stage");
            var stages = rows.SelectMany(r => r.StageMs.Keys).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
            st.AddColumn("sequence / mode"); foreach (var s in stages) st.AddColumn(s); st.AddColumn("peak MB");
            foreach (var r in rows)
                st.AddRow(new[] { $"{r.Sequence} / {r.Mode}" }.Concat(stages.Select(s => r.StageMs.TryGetValue(s, out var v) ? F(v, "F1") : "-")).Append(F(r.PeakMemoryMb, "F0")).ToArray());
            AnsiConsole.Write(st);
        }

        public sealed class BenchRow
        {
            public string Sequence { get; set; } = "";
            public string Mode { get; set; } = "";
            public int Frames { get; set; }
            public int Keyframes { get; set; }
            public double AteM { get; set; }
            public double AtePercent { get; set; }
            public double PathM { get; set; }
            public double MaxDriftM { get; set; }
            public double RotationErrorDeg { get; set; }
            public double FocalErrorPercent { get; set; }
            public double AbsRelPerFrame { get; set; }
            public double Delta1PerFrame { get; set; }
            public double AbsRelOneScale { get; set; }
            public double Delta1OneScale { get; set; }
            public double WallS { get; set; }
            public double Fps { get; set; }
            public Dictionary<string, double> StageMs { get; set; } = new Dictionary<string, double>();
            public double PeakMemoryMb { get; set; }
            public List<string> Warnings { get; set; } = new List<string>();

            public string Short() => $"ATE {100 * AteM:F2} cm ({AtePercent:F2} %), rot {RotationErrorDeg:F3} deg, focal {FocalErrorPercent:+0.00;-0.00} %, AbsRel {AbsRelPerFrame:F3}/{AbsRelOneScale:F3}, {WallS:F1} s, {Fps:F2} fps";
        }

        // ------------------------------------------------------------------ truth and metrics

        private sealed class Truth
        {
            public Truth(IReadOnlyList<CameraPose> poses, Intrinsics k, Func<int, FloatImage> depth) { Poses = poses; Intrinsics = k; Depth = depth; }
            public IReadOnlyList<CameraPose> Poses { get; }
            public Intrinsics Intrinsics { get; }
            public Func<int, FloatImage> Depth { get; }
        }

        /// <summary>Frames of a list read by index (no decoding ahead).</summary>
        private sealed class IndexedSource : IFrameSource
        {
            private readonly Func<int, Frame> _read;
            private int _next;
            public IndexedSource(string description, int count, Func<int, Frame> read) { Description = description; FrameCount = count; _read = read; }
            public string Description { get; }
            public int? FrameCount { get; }
            public double? FramesPerSecond => 30;
            public IReadOnlyList<string> Warnings => Array.Empty<string>();
            public bool TryRead(out Frame frame)
            {
                if (_next >= FrameCount) { frame = null!; return false; }
                frame = _read(_next++);
                return true;
            }
            public void Dispose() { }
        }

        /// <summary>
        /// Depth metrics over valid ground-truth pixels, the truth resampled (nearest) to the processing size: per-frame median
        /// scaling, and one scale for the sequence (the median of all pixels' ratios, from a fixed subsample).
        /// </summary>
        private sealed class DepthAccumulator
        {
            private readonly Truth _t;
            private readonly List<(double AbsRel, double D1, int N)> _perFrame = new List<(double, double, int)>();
            private readonly List<(float P, float G)> _pairs = new List<(float, float)>();
            public DepthAccumulator(Truth t) { _t = t; }

            public void Add(FrameEstimate f)
            {
                var g = _t.Depth(f.Index);
                int w = f.Depth.Width, h = f.Depth.Height;
                var p = new List<float>(); var q = new List<float>();
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        int gx = Math.Min(g.Width - 1, (int)((x + 0.5) * g.Width / w)), gy = Math.Min(g.Height - 1, (int)((y + 0.5) * g.Height / h));
                        float gv = g[gx, gy], pv = f.Depth[x, y];
                        if (!(gv > 0) || float.IsInfinity(gv) || !(pv > 0) || float.IsInfinity(pv)) continue;
                        p.Add(pv); q.Add(gv);
                        if (((x * 7 + y * 13) & 15) == 0) _pairs.Add((pv, gv));
                    }
                if (p.Count == 0) return;
                var ratios = p.Select((v, i) => q[i] / v).OrderBy(v => v).ToList();
                double s = ratios[ratios.Count / 2];
                double abs = 0; int d1 = 0;
                for (int i = 0; i < p.Count; i++)
                {
                    double sp = s * p[i];
                    abs += Math.Abs(sp - q[i]) / q[i];
                    if (Math.Max(sp / q[i], q[i] / sp) < 1.25) d1++;
                }
                _perFrame.Add((abs / p.Count, (double)d1 / p.Count, p.Count));
            }

            public ((double AbsRel, double Delta1) PerFrame, (double AbsRel, double Delta1) OneScale) Compute()
            {
                if (_perFrame.Count == 0) return ((double.NaN, double.NaN), (double.NaN, double.NaN));
                var pf = (_perFrame.Average(v => v.AbsRel), _perFrame.Average(v => v.D1));
                var ratios = _pairs.Select(v => (double)v.G / v.P).OrderBy(v => v).ToList();
                double s = ratios[ratios.Count / 2];
                double abs = 0; int d1 = 0;
                foreach (var (pv, gv) in _pairs)
                {
                    double sp = s * pv;
                    abs += Math.Abs(sp - gv) / gv;
                    if (Math.Max(sp / gv, gv / sp) < 1.25) d1++;
                }
                return (pf, (abs / _pairs.Count, (double)d1 / _pairs.Count));
            }
        }
    }
}
