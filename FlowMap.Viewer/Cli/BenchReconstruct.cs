using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Capture;
using FlowMap.Datasets;
using FlowMap.Evaluation;
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
            var seqs = new Option<string>("--sequences") { Description = "Comma-separated: icl (ICL-NUIM livingroom1), phone (a real phone video with COLMAP reference poses), walk, orbit, rotation, static, forward.", DefaultValueFactory = _ => "icl,phone,walk,orbit,rotation,static" };
            var frames = new Option<int>("--synthetic-frames") { Description = "Frames per synthetic sequence.", DefaultValueFactory = _ => 60 };
            var iclFrames = new Option<int?>("--icl-frames") { Description = "Use only the first N ICL-NUIM frames (default all 211)." };
            var data = new Option<string?>("--data") { Description = "The shared data folder (default ../shared/data from the repository)." };
            var json = new Option<bool>("--json") { Description = "Print JSON rows instead of a table." };
            var lr = new Option<double?>("--learning-rate") { Description = "Override the solver's learning rate (tuning)." };
            var kfSteps = new Option<int?>("--keyframe-steps") { Description = "Override online steps per keyframe (tuning)." };
            var offSteps = new Option<int?>("--offline-steps") { Description = "Override offline steps (tuning)." };
            var kfFrac = new Option<double?>("--keyframe-flow") { Description = "Override the keyframe flow fraction of sqrt(W H) (tuning)." };
            var refineIters = new Option<int?>("--refine-iterations") { Description = "Override the multi-view refinement's iterations; 0 turns it off (attribution)." };
            var flowKind = new Option<string>("--flow") { Description = "estimated (the product's flow), truth (exact flow from the true depth and poses), or both.", DefaultValueFactory = _ => "estimated" };
            var focalKind = new Option<string>("--focal") { Description = "free (estimated, as a user runs it), truth (the true focal given), or both.", DefaultValueFactory = _ => "free" };
            var attribution = new Option<bool>("--attribution") { Description = "Error attribution: every sequence with estimated and true flow, free and true focal (--flow both --focal both)." };
            var trackScale = new Option<double?>("--tracking-scale") { Description = "Override the online tracking size as a fraction of the processing size per side (tuning; live sessions' setting)." };
            var encodings = new Option<string>("--encodings")
            {
                Description = "Synthetic sequences: comma-separated frame encodings, each a run: png (as rendered), jpeg90 (through a JPEG of quality 90 and back), grey (8-bit luminance in all three channels); with more than one the focal spread across them is printed.",
                DefaultValueFactory = _ => "png",
            };
            var solverPixels = new Option<int?>("--online-solver-pixels") { Description = "Override the online window solve's pixels per frame (tuning; default 110 x 80 = 8,800)." };
            var estimateK1 = new Option<bool>("--estimate-k1") { Description = "Also estimate one radial distortion coefficient k1 in the multi-view refinement (reconstruct --estimate-k1)." };
            var size = new Option<string?>("--size") { Description = "Override the processing size WxH (tuning; default 320x240 or the input's aspect)." };
            var minViews = new Option<int?>("--fusion-min-views") { Description = "Override the keyframes that must put points in a voxel's cell (4 voxels a side) for the fused cloud to keep it (tuning; default 2, 1 keeps every voxel)." };
            var releaseToFrozen = new Option<bool>("--release-to-frozen-poses") { Description = "Online: a window whose held past the data reject is refined again with every frozen keyframe fixed at descent's pose and chained by the depth's ratio, as before issue 12's held-chain change (attribution)." };
            var sparse = new Option<bool>("--sparse-tracking") { Description = "Online: track frames by the keyframe's points (live sessions' setting) instead of dense flow." };
            foreach (var o in new Option[] { modes, seqs, frames, iclFrames, data, json, lr, kfSteps, offSteps, kfFrac, refineIters, flowKind, focalKind, attribution, trackScale, encodings, sparse, solverPixels, estimateK1, minViews, size, releaseToFrozen }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                var modeList = r.GetValue(modes)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ReconstructCommand.ParseMode).ToList();
                var seqList = r.GetValue(seqs)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim().ToLowerInvariant()).ToList();
                foreach (var s in seqList)
                    if (s != "icl" && s != "phone" && !SyntheticSequence.PathNames.Contains(s)) throw new CliException($"Unknown sequence '{s}'; expected icl, phone or one of {string.Join(", ", SyntheticSequence.PathNames)}.");
                bool asJson = r.GetValue(json);
                var encodingList = r.GetValue(encodings)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim().ToLowerInvariant()).ToList();
                foreach (var e in encodingList)
                    if (!Encodings.Contains(e)) throw new CliException($"Unknown encoding '{e}'; expected {string.Join(", ", Encodings)}.");
                bool attr = r.GetValue(attribution);
                var flows = Variants(attr ? "both" : r.GetValue(flowKind)!, "--flow", "estimated", "truth");
                var focals = Variants(attr ? "both" : r.GetValue(focalKind)!, "--focal", "free", "truth");
                _variants = flows.SelectMany(f => focals.Select(k => new Variant(f == "truth", k == "truth"))).ToList();
                _tune = o =>
                {
                    if (r.GetValue(lr) is double l) o.Solver.LearningRate = l;
                    if (r.GetValue(kfSteps) is int k) o.KeyframeSteps = k;
                    if (r.GetValue(offSteps) is int q) { o.OfflineSteps = q; o.OfflineGeometrySteps = q; }
                    if (r.GetValue(kfFrac) is double f) o.KeyframeFlowFraction = f;
                    if (r.GetValue(trackScale) is double ts) o.TrackingScale = ts;
                    if (r.GetValue(sparse)) o.SparseTracking = true;
                    if (r.GetValue(releaseToFrozen)) o.ReleaseToGauge = false;
                    if (r.GetValue(solverPixels) is int sp) o.OnlineSolverPixels = sp;
                    if (r.GetValue(estimateK1)) o.RefineK1 = true;
                    if (r.GetValue(refineIters) is int ri) { o.RefineIterations = ri; o.Refine = ri > 0; }
                    if (r.GetValue(minViews) is int mv) o.Fusion.MinViews = mv;
                    if (r.GetValue(size) is string sz) o.ProcessingSize = PipelineCliOptions.ParseSize(sz);
                };
                if (r.GetValue(minViews) is int v && (v < 1 || v > 255)) throw new CliException("Invalid tuning option: --fusion-min-views must be in [1, 255].", 2);
                // Tuning values the pipeline refuses are usage errors, said before any sequence runs.
                try { var probe = new ReconstructionOptions(); _tune(probe); probe.Validate(); }
                catch (ArgumentException e) { throw new CliException("Invalid tuning option: " + e.Message, 2); }
                var log = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                var rows = new List<BenchRow>();
                foreach (var s in seqList)
                {
                    log.MarkupLine($"[grey]{s} ...[/]");
                    var got = s == "icl" ? RunIcl(modeList, r.GetValue(data), r.GetValue(iclFrames), log)
                            : s == "phone" ? RunPhone(modeList, r.GetValue(data), log)
                            : RunSynthetic(s, modeList, r.GetValue(frames), encodingList);
                    foreach (var row in got) { rows.Add(row); log.MarkupLine($"[grey]  {Markup.Escape(row.Mode)}: {Markup.Escape(row.Short())}[/]"); }
                }
                if (asJson) Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
                else Print(rows);
                PrintFocalSpread(rows, asJson ? log : AnsiConsole.Console);
                return 0;
            });
            return cmd;
        }

        private static Action<ReconstructionOptions> _tune = _ => { };

        /// <summary>One attribution case: the product's flow or the exact one, the focal estimated or given.</summary>
        private readonly record struct Variant(bool TrueFlow, bool TrueFocal)
        {
            public string Name => (TrueFlow ? "true flow" : "est. flow") + ", " + (TrueFocal ? "true focal" : "free focal");
        }

        private static List<Variant> _variants = new List<Variant> { new Variant(false, false) };

        private static List<string> Variants(string value, string option, string a, string b)
        {
            var v = value.Trim().ToLowerInvariant();
            if (v == "both") return new List<string> { a, b };
            if (v == a || v == b) return new List<string> { v };
            throw new CliException($"{option} takes {a}, {b} or both, not '{value}'.");
        }

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
                foreach (var v in _variants)
                {
                    // Frames are decoded inside the timed run, as a user's run would.
                    using var source = new IndexedSource($"ICL-NUIM livingroom1 ({n} frames)", n, i => new Frame(i, i / 30.0, icl.ReadColor(i), Path.GetFileName(icl.ColorFiles[i])));
                    rows.Add(Measure("icl-livingroom1", mode, v, source, truth, v.TrueFlow ? Enumerable.Range(0, n).Select(icl.ReadColor).ToList() : null));
                }
            return rows;
        }

        /// <summary>
        /// ../shared/data/phone_juicebox: 64 frames of a real hand-held phone video (1920x1080 JPEG) with COLMAP's poses and focal
        /// as the reference (COLMAP's own error is in them; no depth truth, so no depth metrics and no true-flow variant).
        /// </summary>
        private static List<BenchRow> RunPhone(List<ReconstructionMode> modes, string? dataDir, IAnsiConsole log)
        {
            var rows = new List<BenchRow>();
            var root = FindData(dataDir);
            var folder = root == null ? null : Path.Combine(root, "phone_juicebox");
            if (folder == null || !File.Exists(Path.Combine(folder, "poses_c2w.txt")))
            {
                log.MarkupLine("[yellow]phone_juicebox not found (../shared/data/phone_juicebox): skipped.[/]");
                return rows;
            }
            var names = new List<string>();
            var poses = new List<CameraPose>();
            foreach (var line in File.ReadLines(Path.Combine(folder, "poses_c2w.txt")))
            {
                var t = line.Trim();
                if (t.Length == 0 || t.StartsWith("#")) continue;
                var f = t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                var v = new double[f.Length - 1];
                for (int i = 1; i < f.Length; i++)
                    if (!double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i - 1]) || !double.IsFinite(v[i - 1]))
                        throw new CliException($"phone_juicebox/poses_c2w.txt: '{f[i]}' on the line of {f[0]} is not a number.");
                if (v.Length != 12) throw new CliException($"phone_juicebox/poses_c2w.txt: a line with {v.Length} numbers, expected 12.");
                names.Add(f[0]);
                poses.Add(new CameraPose(new[] { v[0], v[1], v[2], v[4], v[5], v[6], v[8], v[9], v[10] }, new[] { v[3], v[7], v[11] }));
            }
            if (names.Count < 2) throw new CliException("phone_juicebox/poses_c2w.txt lists fewer than two frames.");
            var focalText = File.ReadAllText(Path.Combine(folder, "focal.txt")).Trim();
            if (!double.TryParse(focalText, NumberStyles.Float, CultureInfo.InvariantCulture, out double focal) || !(focal > 0) || double.IsInfinity(focal))
                throw new CliException($"phone_juicebox/focal.txt: '{focalText}' is not a positive focal in pixels.");
            var first = Export.PngImage.ReadRgb(Path.Combine(folder, "images", names[0]));
            var truth = new Truth(poses, Intrinsics.Centered(first.Width, first.Height, focal), null);
            foreach (var mode in modes)
                foreach (var v in _variants.Where(v => !v.TrueFlow))
                {
                    using var source = new IndexedSource($"phone_juicebox ({names.Count} frames)", names.Count,
                        i => new Frame(i, i / 30.0, Export.PngImage.ReadRgb(Path.Combine(folder, "images", names[i])), names[i]));
                    rows.Add(Measure("phone-juicebox", mode, v, source, truth, null));
                }
            return rows;
        }

        private static readonly string[] Encodings = { "png", "jpeg90", "grey" };

        private static List<BenchRow> RunSynthetic(string path, List<ReconstructionMode> modes, int frames, IReadOnlyList<string> encodings)
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1), new SyntheticSequenceOptions { Path = path, Frames = frames, Width = 320, Height = 240, Seed = 1 });
            // Render (and cache) before timing, so the wall time is the reconstruction's only.
            var images = Enumerable.Range(0, seq.Count).Select(seq.Frame).ToList();
            var depths = Enumerable.Range(0, seq.Count).Select(seq.Depth).ToList();
            var truth = new Truth(seq.Poses.ToList(), seq.Intrinsics, i => depths[i]);
            var rows = new List<BenchRow>();
            foreach (var encoding in encodings)
            {
                var input = images.Select(im => Encode(im, encoding)).ToList();
                foreach (var mode in modes)
                    foreach (var v in _variants)
                    {
                        using var source = new IndexedSource($"synthetic room / {path}", seq.Count, i => new Frame(i, i / 30.0, input[i], $"{i:D6}.png"));
                        var row = Measure("synthetic-" + path, mode, v, source, truth, images);
                        row.Encoding = encoding;
                        if (encoding != "png") row.Sequence += " " + encoding;
                        rows.Add(row);
                    }
            }
            return rows;
        }

        /// <summary>
        /// The frame as a user's files would bring it: png as rendered (lossless); jpeg90 encoded as a JPEG of quality 90 and
        /// decoded by the reader of image folders; grey the 8-bit luminance (Rec. 601 weights) in all three channels.
        /// </summary>
        internal static RgbImage Encode(RgbImage image, string encoding)
        {
            switch (encoding)
            {
                case "png": return image;
                case "jpeg90":
                    using (var ms = new MemoryStream())
                    {
                        new StbImageWriteSharp.ImageWriter().WriteJpg(image.Pixels, image.Width, image.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, ms, 90);
                        return FlowMap.Export.PngImage.DecodeRgb(ms.ToArray(), "frame.jpg");
                    }
                case "grey":
                    var px = new byte[image.Pixels.Length];
                    for (int i = 0; i < px.Length; i += 3)
                    {
                        byte y = (byte)Math.Round(0.299 * image.Pixels[i] + 0.587 * image.Pixels[i + 1] + 0.114 * image.Pixels[i + 2]);
                        px[i] = px[i + 1] = px[i + 2] = y;
                    }
                    return new RgbImage(image.Width, image.Height, px);
                default: throw new CliException($"Unknown encoding '{encoding}'; expected {string.Join(", ", Encodings)}.");
            }
        }

        /// <summary>Issue 11's stability target: the same frames in every encoding give focals within 2 % of each other.</summary>
        private static void PrintFocalSpread(List<BenchRow> rows, IAnsiConsole console)
        {
            foreach (var g in rows.Where(r => r.Encoding != null).GroupBy(r => (Base: r.Sequence.Split(' ')[0], r.Mode, r.Variant)))
            {
                var byEncoding = g.ToList();
                if (byEncoding.Count < 2) continue;
                var focals = byEncoding.Select(r => 1 + r.FocalErrorPercent / 100).ToList();
                double spread = 100 * (focals.Max() / focals.Min() - 1);
                console.MarkupLine(Markup.Escape($"{g.Key.Base} {g.Key.Mode} ({g.Key.Variant}): focal error " +
                    string.Join(", ", byEncoding.Select(r => $"{r.Encoding} {r.FocalErrorPercent:+0.00;-0.00} %")) + $"; spread {spread:F2} % (largest / smallest - 1; target <= 2 %)"));
            }
        }

        private static BenchRow Measure(string name, ReconstructionMode mode, Variant variant, IFrameSource source, Truth truth, IReadOnlyList<RgbImage>? inputImages)
        {
            var o = new ReconstructionOptions { Mode = mode };
            if (variant.TrueFocal) o.FocalPixels = truth.Intrinsics.Fx;
            _tune(o);
            using var pipeline = variant.TrueFlow ? TruthPipeline(o, truth, inputImages!) : ReconstructionComponents.CreatePipeline(o);
            var depth = new DepthAccumulator(truth);
            var medians = new Dictionary<int, double>(); // each finalised frame's median estimated depth (the cloud's alignment)
            pipeline.FrameFinalized += f => { depth.Add(f); medians[f.Index] = MedianPositive(f.Depth.Data); };
            var run = Reconstructor.Run(source, pipeline);
            var r = run.Result;
            var est = r.Poses.Select(p => p.Pose).ToList();
            var gt = r.Poses.Select(p => truth.Poses[p.Index]).ToList();
            var acc = TrajectoryMetrics.Evaluate(est, gt);
            double ate = acc.AteRmse, pathLen = acc.PathLength;
            var (pf, one) = depth.Compute();
            var cloud = CloudAccuracyOf(r, truth, medians);
            long peak;
            using (var proc = System.Diagnostics.Process.GetCurrentProcess()) peak = proc.PeakWorkingSet64;
            return new BenchRow
            {
                Sequence = name,
                Mode = mode.ToString().ToLowerInvariant(),
                Variant = variant.Name,
                Frames = r.Poses.Count,
                Keyframes = r.Keyframes,
                AteM = ate,
                AtePercent = acc.AtePercent,
                PathM = pathLen,
                MaxDriftM = est.Max(p => Dist(p.Center, est[0].Center)),
                RotationErrorDeg = acc.RelativeRotationDeg,
                FocalErrorPercent = TrajectoryMetrics.FocalErrorPercent(r.Input.Fx, truth.Intrinsics.Fx),
                AbsRelPerFrame = pf.AbsRel, Delta1PerFrame = pf.Delta1,
                AbsRelOneScale = one.AbsRel, Delta1OneScale = one.Delta1,
                WallS = run.WallSeconds,
                Fps = r.Poses.Count / run.WallSeconds,
                StageMs = r.StageMedianMilliseconds.Where(kv => !kv.Key.Contains('.')).ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 2)),
                PeakMemoryMb = peak / (1024.0 * 1024.0),
                Warnings = r.Warnings.ToList(),
                CloudPoints = r.Points.Count,
                CloudPrecisionPercent = cloud?.PrecisionPercent ?? double.NaN,
                CloudCompletenessPercent = cloud?.CompletenessPercent ?? double.NaN,
                CloudTolerance = cloud?.Tolerance ?? double.NaN,
                WindowsKept = r.WindowSolves.Count(w => w.Past == FlowMap.Session.HeldPast.Kept),
                WindowsReleased = r.WindowSolves.Count(w => w.Past == FlowMap.Session.HeldPast.Released),
                FirstReleasedWindow = FirstReleased(r.WindowSolves),
            };
        }

        /// <summary>The index of the first window solve whose held past the data rejected, or null.</summary>
        internal static int? FirstReleased(IReadOnlyList<FlowMap.Session.WindowSolveTiming> solves)
        {
            for (int i = 0; i < solves.Count; i++) if (solves[i].Past == FlowMap.Session.HeldPast.Released) return i;
            return null;
        }

        /// <summary>
        /// The fused cloud against the true surface (<see cref="CloudMetrics"/>), null without true depth. The cloud is
        /// brought into the truth's frame by the similarity that best maps, for every posed frame, its camera centre and the
        /// point its optical axis meets at its median depth (estimated depth for the estimate, true depth for the truth):
        /// the scene the frame looks at fixes the rotation where the centres alone do not (a straight path, a camera turning
        /// in place). The true surface: every 4th pixel of the true depth of every 5th frame; the tolerance 2 % of the median
        /// true depth (4 cm on ICL-NUIM's living room).
        /// </summary>
        private static CloudAccuracy? CloudAccuracyOf(ReconstructionResult r, Truth truth, Dictionary<int, double> medians)
        {
            if (truth.Depth == null || r.Points.Count == 0) return null;
            var est = new List<(double X, double Y, double Z)>();
            var tru = new List<(double X, double Y, double Z)>();
            var surface = new List<(double X, double Y, double Z)>();
            var depths = new List<double>();
            static (double X, double Y, double Z) Ahead(CameraPose p, double d) => p.Transform(0, 0, d);
            foreach (var fp in r.Poses)
            {
                if (!medians.TryGetValue(fp.Index, out double me) || !(me > 0)) continue;
                var g = truth.Depth(fp.Index);
                double mt = MedianPositive(g.Data);
                if (!(mt > 0)) continue;
                var tp = truth.Poses[fp.Index];
                est.Add(fp.Pose.Center); tru.Add(tp.Center);
                est.Add(Ahead(fp.Pose, me)); tru.Add(Ahead(tp, mt));
                if (fp.Index % 5 == 0) { CloudMetrics.AddSurface(surface, g, truth.Intrinsics, tp, 4); depths.Add(mt); }
            }
            if (est.Count < 6 || surface.Count == 0) return null;
            depths.Sort();
            return CloudMetrics.Evaluate(r.Points, Similarity.Align(est, tru), surface, 0.02 * depths[depths.Count / 2]);
        }

        private static double MedianPositive(float[] data)
        {
            var v = new List<float>(data.Length);
            foreach (var d in data) if (d > 0 && float.IsFinite(d)) v.Add(d);
            if (v.Count == 0) return double.NaN;
            v.Sort();
            return v[v.Count / 2];
        }

        /// <summary>
        /// The pipeline with the exact flow in place of the estimated one (every frame registered at the processing size the
        /// pipeline will use), for error attribution.
        /// </summary>
        private static ReconstructionPipeline TruthPipeline(ReconstructionOptions o, Truth truth, IReadOnlyList<RgbImage> inputImages)
        {
            int inW = inputImages[0].Width, inH = inputImages[0].Height;
            var (w, h) = o.ProcessingSize ?? ImageResampler.DefaultProcessingSize(inW, inH);
            var k = truth.Intrinsics.Resized(w, h);
            var depth = new Dictionary<int, FloatImage>();
            FloatImage D(int i) => depth.TryGetValue(i, out var d) ? d : depth[i] = truth.Depth!(i);
            var flow = new TruthFlowEstimator((a, b) => TruthFlow.Between(D(a), truth.Poses[a], D(b), truth.Poses[b], k));
            for (int i = 0; i < inputImages.Count; i++) flow.Register(i, ImageResampler.Resize(inputImages[i], w, h));
            return new ReconstructionPipeline(o, flow, ReconstructionComponents.CreateSolver(), null, ownsComponents: true);
        }

        private static void Print(List<BenchRow> rows)
        {
            if (AnsiConsole.Profile.Width < 200) AnsiConsole.Profile.Width = 200;
            var t = new Table().Title("Reconstruction vs ground truth (ATE after Sim(3) alignment; depth after per-frame median scale (pf) and one scale (1s); the fused cloud's points within 2 % of the median true depth of the true surface (prec) and the true surface's within that of a point (compl))");
            foreach (var c in new[] { "sequence", "mode", "variant", "frames", "kf", "ATE cm", "ATE %", "rot err deg", "focal err %", "AbsRel pf", "d1 pf", "AbsRel 1s", "d1 1s", "cloud pts", "prec %", "compl %", "wall s", "fps", "warnings" })
                t.AddColumn(c);
            string F(double v, string f = "F3") => double.IsNaN(v) ? "-" : v.ToString(f, CultureInfo.InvariantCulture);
            foreach (var r in rows)
                t.AddRow(r.Sequence, r.Mode, r.Variant, r.Frames.ToString(), r.Keyframes.ToString(), F(100 * r.AteM, "F2"), F(r.AtePercent, "F2"), F(r.RotationErrorDeg),
                    F(r.FocalErrorPercent, "F2"), F(r.AbsRelPerFrame), F(r.Delta1PerFrame), F(r.AbsRelOneScale), F(r.Delta1OneScale),
                    r.CloudPoints.ToString(CultureInfo.InvariantCulture), F(r.CloudPrecisionPercent, "F1"), F(r.CloudCompletenessPercent, "F1"), F(r.WallS, "F1"), F(r.Fps, "F2"),
                    Markup.Escape(string.Join("; ", r.Warnings.Select(w => w.Split(':')[0]))));
            t.AddRow("[grey]anchor: COLMAP 3.8 on icl-livingroom1[/]", "[grey]-[/]", "[grey]-[/]", "[grey]211[/]", "", "[grey]1.20[/]", "[grey]0.32[/]", "", "[grey]+0.09[/]", "", "", "", "", "", "", "", "[grey]401[/]", "[grey]0.53[/]", "[grey](EVALUATION.md)[/]");
            AnsiConsole.Write(t);
            var icl = rows.Where(r => r.Sequence.StartsWith("icl")).ToList();
            foreach (var r in icl)
                AnsiConsole.MarkupLine($"{r.Sequence} {r.Mode} ({r.Variant}): ATE {100 * r.AteM:F2} cm = {r.AteM / 0.012:F2}x COLMAP's, wall {r.WallS:F1} s = {r.WallS / 401:F3}x COLMAP's 401 s, focal {r.FocalErrorPercent:+0.00;-0.00} %");
            var st = new Table().Title("Median ms per frame and stage");
            var stages = rows.SelectMany(r => r.StageMs.Keys).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
            st.AddColumn("sequence / mode"); foreach (var s in stages) st.AddColumn(s); st.AddColumn("peak MB");
            foreach (var r in rows)
                st.AddRow(new[] { $"{r.Sequence} / {r.Mode} / {r.Variant}" }.Concat(stages.Select(s => r.StageMs.TryGetValue(s, out var v) ? F(v, "F1") : "-")).Append(F(r.PeakMemoryMb, "F0")).ToArray());
            AnsiConsole.Write(st);
        }

        public sealed class BenchRow
        {
            public string Sequence { get; set; } = "";
            public string Mode { get; set; } = "";
            /// <summary>Attribution case: "est. flow, free focal" (as a user runs it), or with the true flow and/or focal.</summary>
            public string Variant { get; set; } = "";
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
            /// <summary>Points of the fused cloud, and its precision and completeness (%) against the true surface at the tolerance (truth units); NaN without true depth.</summary>
            public int CloudPoints { get; set; }
            public double CloudPrecisionPercent { get; set; } = double.NaN;
            public double CloudCompletenessPercent { get; set; } = double.NaN;
            public double CloudTolerance { get; set; } = double.NaN;
            /// <summary>Online window solves whose refinement held the frozen keyframes where earlier windows put them.</summary>
            public int WindowsKept { get; set; }
            /// <summary>Online window solves whose held past the data rejected (refined from descent's re-derived poses instead).</summary>
            public int WindowsReleased { get; set; }
            /// <summary>The index of the first of those, or null.</summary>
            public int? FirstReleasedWindow { get; set; }
            /// <summary>Synthetic sequences: the frames' encoding (png, jpeg90, grey); null for recorded data.</summary>
            public string? Encoding { get; set; }

            public string Short() => $"ATE {100 * AteM:F2} cm ({AtePercent:F2} %), rot {RotationErrorDeg:F3} deg, focal {FocalErrorPercent:+0.00;-0.00} %, AbsRel {AbsRelPerFrame:F3}/{AbsRelOneScale:F3}, {WallS:F1} s, {Fps:F2} fps"
                + (WindowsKept + WindowsReleased > 0 ? $", held past kept/released in {WindowsKept}/{WindowsReleased} windows" + (FirstReleasedWindow is int f ? $" (first released: window {f})" : "") : "")
                + (Warnings.Count > 0 ? "; warnings: " + string.Join("; ", Warnings) : "");
        }

        // ------------------------------------------------------------------ truth and metrics

        private static double Dist((double X, double Y, double Z) a, (double X, double Y, double Z) b) =>
            Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));

        private sealed class Truth
        {
            public Truth(IReadOnlyList<CameraPose> poses, Intrinsics k, Func<int, FloatImage>? depth) { Poses = poses; Intrinsics = k; Depth = depth; }
            public IReadOnlyList<CameraPose> Poses { get; }
            public Intrinsics Intrinsics { get; }
            /// <summary>True z-depth per frame, or null when the reference has none (a real video with COLMAP poses).</summary>
            public Func<int, FloatImage>? Depth { get; }
        }

        /// <summary>Frames of a list read by index (no decoding ahead).</summary>
        internal sealed class IndexedSource : IFrameSource
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
        /// Depth metrics of EVALUATION.md (FlowMap.Evaluation.DepthFlowMetrics) against the truth at the processing size:
        /// per-frame median scaling as frames are finalised, then one scale for the sequence (the median of the per-frame
        /// scales) over a half-resolution copy of every predicted map.
        /// </summary>
        private sealed class DepthAccumulator
        {
            private readonly Truth _t;
            private readonly List<DepthAccuracy> _perFrame = new List<DepthAccuracy>();
            private readonly List<(int Index, FloatImage Small, double Scale)> _kept = new List<(int, FloatImage, double)>();
            public DepthAccumulator(Truth t) { _t = t; }

            public void Add(FrameEstimate f)
            {
                if (_t.Depth == null) return;
                var g = DepthFlowMetrics.ToSize(_t.Depth(f.Index), f.Depth.Width, f.Depth.Height);
                var a = DepthFlowMetrics.DepthMedianScaled(f.Depth, g);
                if (a.Pixels == 0) return;
                _perFrame.Add(a);
                _kept.Add((f.Index, DepthFlowMetrics.ToSize(f.Depth, Math.Max(1, f.Depth.Width / 2), Math.Max(1, f.Depth.Height / 2)), a.Scale));
            }

            public ((double AbsRel, double Delta1) PerFrame, (double AbsRel, double Delta1) OneScale) Compute()
            {
                if (_perFrame.Count == 0) return ((double.NaN, double.NaN), (double.NaN, double.NaN));
                var pf = (_perFrame.Average(v => v.AbsRel), _perFrame.Average(v => v.Delta1));
                var scales = _kept.Select(k => k.Scale).OrderBy(v => v).ToList();
                double s = scales[scales.Count / 2];
                double abs = 0, d1 = 0; int n = 0;
                foreach (var (index, small, _) in _kept)
                {
                    var g = DepthFlowMetrics.ToSize(_t.Depth!(index), small.Width, small.Height);
                    var a = DepthFlowMetrics.Depth(small, g, s);
                    if (a.Pixels == 0) continue;
                    abs += a.AbsRel; d1 += a.Delta1; n++;
                }
                return (pf, n > 0 ? (abs / n, d1 / n) : (double.NaN, double.NaN));
            }
        }
    }
}
