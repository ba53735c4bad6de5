using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Capture;
using FlowMap.Depth;
using FlowMap.Export;
using FlowMap.Reconstruction;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap reconstruct INPUT --out DIR`: poses, focal, depth and a fused point cloud from an image folder, a video or a
    /// recorded session, written in the layout of EVALUATION.md.
    /// </summary>
    public sealed class ReconstructCommand : ICliCommand
    {
        public int Order => 20;

        public Command Build()
        {
            var cmd = new Command("reconstruct", "Camera poses, one focal, dense depth and a fused point cloud from a monocular RGB stream.");
            var input = new Argument<string>("INPUT") { Description = "An image folder (frames in name order), a video file, or a recorded session." };
            var outDir = new Option<string>("--out") { Description = "Output folder (colmap/, trajectory.txt, intrinsics.json, depth/, confidence/, points.ply, report.json).", Required = true };
            var mode = new Option<string>("--mode") { Description = "online (sliding window, live) or offline (all frames at once, best accuracy).", DefaultValueFactory = _ => "online" };
            var depthModel = new Option<string?>("--depth-model") { Description = "A frozen monocular depth model (.onnx: Depth Anything V2, MiDaS v2.1 small); default: depth learned from flow alone." };
            var depthPreset = new Option<string>("--depth-preset") { Description = "auto (model metadata, else input shape), depth-anything-v2 or midas-v21-small.", DefaultValueFactory = _ => "auto" };
            var flowModel = new Option<string?>("--flow-model") { Description = "An ONNX optical flow model (two images in, flow out) instead of the Vulkan flow." };
            var focal = new Option<double?>("--focal") { Description = "A known focal length in pixels of the input resolution (fx = fy); default: estimated." };
            var size = new Option<string?>("--size") { Description = "Processing size WxH; default about 320x240 keeping the aspect ratio." };
            var maxFrames = new Option<int?>("--max-frames") { Description = "Use only the first N frames." };
            var json = new Option<bool>("--json") { Description = "Print report.json to standard output when done (no progress bar)." };
            var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --out folder, only if an earlier `reconstruct` wrote it." };
            cmd.Arguments.Add(input);
            var k1 = new Option<bool>("--estimate-k1") { Description = "Also estimate one radial distortion coefficient k1 (SIMPLE_RADIAL) in the offline multi-view refinement (online windows hold k1 = 0, and say so); default: k1 = 0 (see README)." };
            foreach (var o in new Option[] { outDir, mode, depthModel, depthPreset, flowModel, focal, k1, size, maxFrames, json, overwrite }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                var o = new ReconstructionOptions
                {
                    Mode = ParseMode(r.GetValue(mode)!),
                    FocalPixels = r.GetValue(focal),
                    RefineK1 = r.GetValue(k1),
                };
                if (o.FocalPixels is double f && !(f > 0 && double.IsFinite(f))) throw new CliException($"--focal must be a positive number of pixels, got {f}.");
                if (r.GetValue(size) is string s) o.ProcessingSize = PipelineCliOptions.ParseSize(s);
                if (r.GetValue(maxFrames) is int m && m < 1) throw new CliException("--max-frames must be at least 1.");
                return Run(r.GetValue(input)!, r.GetValue(outDir)!, o, r.GetValue(depthModel), r.GetValue(depthPreset)!, r.GetValue(flowModel),
                           r.GetValue(maxFrames), r.GetValue(json), r.GetValue(overwrite));
            });
            return cmd;
        }

        internal static ReconstructionMode ParseMode(string s) => s.Trim().ToLowerInvariant() switch
        {
            "online" => ReconstructionMode.Online,
            "offline" => ReconstructionMode.Offline,
            _ => throw new CliException($"--mode must be online or offline, got '{s}'."),
        };

        /// <summary>Builds the pipeline from the product's components, turning model errors into one-line CLI errors.</summary>
        internal static ReconstructionPipeline CreatePipeline(ReconstructionOptions o, string? depthModel, string depthPreset, string? flowModel)
        {
            DepthModelPreset preset;
            try { preset = OnnxDepthPrior.ParsePreset(depthPreset); }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            try
            {
                return ReconstructionComponents.CreatePipeline(o, depthModel, preset, flowModel);
            }
            catch (Exception e) when (e is FileNotFoundException || e is InvalidDataException || e is InvalidOperationException || e is ArgumentException)
            {
                throw new CliException(e.Message, 2, e);
            }
        }

        private static int Run(string inputPath, string outPath, ReconstructionOptions o, string? depthModel, string depthPreset, string? flowModel, int? maxFrames,
            bool json, bool overwrite)
        {
            if (!File.Exists(inputPath) && !Directory.Exists(inputPath)) throw new CliException($"Input '{inputPath}' does not exist.");
            // Ctrl-C is ours from here on (the partial folder below must never be left behind).
            using var interrupt = new Interrupt();
            // The output folder is checked before any work: a refused --out costs nothing.
            using var staged = StagedOutput.Begin(outPath, overwrite, "reconstruct");
            // Models are opened and validated before any frame is read.
            using var pipeline = CreatePipeline(o, depthModel, depthPreset, flowModel);
            IFrameSource source;
            try { source = FrameSources.Open(inputPath); }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is ArgumentException || e is NotSupportedException || e is UnauthorizedAccessException)
            {
                throw new CliException($"Cannot read '{inputPath}': {e.Message}", ExitCodes.BadInput, e);
            }
            using (source)
            {
                var output = new ReconstructionOutput(staged.Path);
                var writeMs = new List<double>();
                pipeline.FrameFinalized += f =>
                {
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    output.WriteFrame(f);
                    writeMs.Add(sw.Elapsed.TotalMilliseconds);
                };
                ReconstructionRun run;
                try
                {
                    if (json) run = Reconstructor.Run(source, pipeline, maxFrames: maxFrames, token: interrupt.Token);
                    else run = RunWithProgress(source, pipeline, maxFrames, o.Mode, interrupt.Token);
                }
                catch (OperationCanceledException) when (interrupt.Requested)
                {
                    throw new CliException($"interrupted; nothing was written to '{outPath}'.", ExitCodes.Interrupted);
                }
                catch (InvalidDataException e) { throw new CliException($"Reading '{inputPath}' failed: {e.Message}", ExitCodes.BadInput, e); }
                catch (ArgumentException e) { throw new CliException($"Cannot reconstruct '{inputPath}': {e.Message}", ExitCodes.BadInput, e); }
                catch (IOException e) { throw new CliException($"Writing '{outPath}' failed: {e.Message}", ExitCodes.Failed, e); }
                if (run.FramesIn < 2)
                    throw new CliException($"'{inputPath}' gave {run.FramesIn} readable frame; a reconstruction needs at least two frames of a moving camera" +
                                           (run.SourceWarnings.Count > 0 ? $" ({string.Join("; ", run.SourceWarnings.Take(3))})." : "."));
                writeMs.Sort();
                var extra = new Dictionary<string, double> { ["read"] = run.ReadMedianMilliseconds };
                if (writeMs.Count > 0) extra["write"] = writeMs[writeMs.Count / 2];
                try { output.WriteSummary(run.Result, run.FramesIn, run.WallSeconds, extra, run.SourceWarnings); }
                catch (IOException e) { throw new CliException($"Writing '{outPath}' failed: {e.Message}", ExitCodes.Failed, e); }
                staged.Commit();
                var reportPath = Path.Combine(outPath, "report.json");
                if (json) Console.WriteLine(File.ReadAllText(reportPath).TrimEnd());
                else Summarise(run, outPath);
                return 0;
            }
        }

        private static ReconstructionRun RunWithProgress(IFrameSource source, ReconstructionPipeline pipeline, int? maxFrames, ReconstructionMode mode,
            System.Threading.CancellationToken token)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            console.MarkupLine($"[grey]{Markup.Escape(source.Description)}, {mode.ToString().ToLowerInvariant()} mode[/]");
            ReconstructionRun? run = null;
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    int? total = source.FrameCount is int c && maxFrames is int m ? Math.Min(c, m) : source.FrameCount ?? maxFrames;
                    var task = ctx.AddTask(mode == ReconstructionMode.Offline ? "reading + flow" : "frames", maxValue: total ?? 1);
                    task.IsIndeterminate = total == null;
                    var finish = mode == ReconstructionMode.Offline ? ctx.AddTask("solve", autoStart: false, maxValue: 1) : null;
                    run = Reconstructor.Run(source, pipeline, onFrameRead: (n, t) =>
                    {
                        if (t is int tt) { task.MaxValue = tt; task.Value = n; }
                        task.Description = $"frame {n}" + (t is int k ? $"/{k}" : "");
                        if (t is int t2 && n >= t2 && finish != null) { finish.StartTask(); finish.IsIndeterminate = true; }
                    }, maxFrames: maxFrames, token: token);
                    task.Value = task.MaxValue;
                    if (finish != null) { finish.IsIndeterminate = false; finish.Value = 1; }
                });
            return run!;
        }

        private static void Summarise(ReconstructionRun run, string outPath)
        {
            var r = run.Result;
            var t = new Table().Title($"reconstruct -> {Markup.Escape(outPath)}");
            t.AddColumn("item"); t.AddColumn("value");
            t.AddRow("frames in / out", $"{run.FramesIn} / {r.Poses.Count} ({r.Keyframes} keyframes)");
            t.AddRow("processing size", $"{r.Processing.Width}x{r.Processing.Height}");
            t.AddRow("focal (input px)", r.Input.Fx.ToString("F2", CultureInfo.InvariantCulture));
            t.AddRow("wall", $"{run.WallSeconds:F2} s ({r.Poses.Count / Math.Max(1e-9, run.WallSeconds):F2} fps)");
            t.AddRow("points", r.Points.Count.ToString(CultureInfo.InvariantCulture));
            foreach (var kv in r.StageMedianMilliseconds.Where(kv => !kv.Key.Contains('.')))
                t.AddRow($"  {Markup.Escape(kv.Key)} ms (median/frame)", kv.Value.ToString("F2", CultureInfo.InvariantCulture));
            foreach (var w in r.Warnings.Concat(run.SourceWarnings)) t.AddRow("[yellow]warning[/]", Markup.Escape(w));
            AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }).Write(t);
        }
    }
}
