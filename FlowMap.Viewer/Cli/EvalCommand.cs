using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Text.Json;
using FlowMap.Evaluation;
using FlowMap.Export;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap eval --gt GT --est DIR [--json]`: the metrics of EVALUATION.md for a reconstruction output against ground
    /// truth (a synthetic sequence or an ICL-NUIM folder); `flowmap eval-flow --gt F.flo --est E.flo [--occlusion O.png]
    /// [--invalid I.png]`: end-point error of one flow field.
    /// </summary>
    public sealed class EvalCommand : ICliCommand
    {
        public int Order => 60;

        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions { WriteIndented = true };

        public Command Build()
        {
            var cmd = new Command("eval", "Compare a reconstruction output folder with ground truth (a synthetic sequence or an ICL-NUIM folder): ATE, rotation, focal, depth and flow errors.");
            var gt = new Option<string>("--gt") { Description = "Ground-truth folder (./flowmap synth output or ICL-NUIM).", Required = true };
            var est = new Option<string>("--est") { Description = "Folder written by ./flowmap reconstruct (trajectory.txt, intrinsics.json, depth/).", Required = true };
            var json = new Option<bool>("--json") { Description = "Print the metrics as JSON." };
            var every = new Option<int>("--depth-every") { Description = "Evaluate depth on every n-th frame (1: all).", DefaultValueFactory = _ => 1 };
            cmd.Options.Add(gt); cmd.Options.Add(est); cmd.Options.Add(json); cmd.Options.Add(every);
            cmd.SetAction(r => RunEval(r.GetValue(gt)!, r.GetValue(est)!, r.GetValue(json), r.GetValue(every)));
            return cmd;
        }

        private static int RunEval(string gt, string est, bool json, int every)
        {
            if (!Directory.Exists(gt)) throw new CliException($"ground-truth folder '{gt}' does not exist");
            if (!Directory.Exists(est)) throw new CliException($"estimate folder '{est}' does not exist");
            if (every < 1) throw new CliException("--depth-every must be at least 1");
            if (SameFolder(gt, est)) throw new CliException($"--gt and --est name the same folder '{gt}': give the truth and a reconstruction of it.");
            SequenceEvaluationResult r;
            try
            {
                // Which side is which: the truth has images (a synth folder or ICL-NUIM), a reconstruction has none.
                var gtKind = SequenceData.Load(gt).Kind;
                var estKind = SequenceData.Load(est).Kind;
                if (gtKind == "reconstruction" && estKind != "reconstruction")
                    throw new CliException($"--gt '{gt}' is a reconstruction and --est '{est}' is ground truth ({estKind}): swapped? (eval --gt TRUTH --est RECONSTRUCTION)");
                if (gtKind == "reconstruction")
                    throw new CliException($"--gt '{gt}' is a reconstruction (no color/ images), not ground truth: give a `flowmap synth` folder or an ICL-NUIM folder.");
                if (estKind != "reconstruction")
                    throw new CliException($"--est '{est}' is ground truth ({estKind}), not a reconstruction: give the folder `flowmap reconstruct` wrote.");
                r = SequenceEvaluation.Evaluate(gt, est, every);
            }
            catch (Exception e) when (e is InvalidDataException || e is IOException || e is ArgumentException || e is FormatException || e is UnauthorizedAccessException)
            {
                throw new CliException(e.Message, ExitCodes.BadInput, e);
            }
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(r, Json));
                return 0;
            }
            var t = new Table().Title($"{Markup.Escape(est)} against {Markup.Escape(gt)} ({r.GroundTruthKind})");
            t.AddColumn("metric"); t.AddColumn(new TableColumn("value").RightAligned());
            void Row(string name, string value) => t.AddRow(Markup.Escape(name), Markup.Escape(value));
            Row("frames matched / truth / estimate", $"{r.FramesMatched} / {r.FramesGroundTruth} / {r.FramesEstimated}");
            Row("ATE (Sim(3) aligned)", r.AteMetres is double a ? $"{F(a * 100, 3)} cm" : "-");
            Row("ATE / path length", r.AtePercent is double ap ? $"{F(ap, 3)} % of {F(r.PathLengthMetres ?? 0, 3)} m" : "-");
            Row("relative rotation error", r.RelativeRotationDeg is double rr ? $"{F(rr, 4)} deg" : "-");
            Row("Sim(3) scale", r.Sim3Scale is double s ? F(s, 5) : "-");
            Row("focal error", r.FocalErrorPercent is double fe ? $"{F(fe, 3)} % ({F(r.FocalEstimated ?? 0, 2)} vs {F(r.FocalGroundTruth ?? 0, 2)} px)" : "-");
            if (r.K1Error is double ke)
                Row("k1 error", $"{(ke >= 0 ? "+" : "")}{F(ke, 4)} ({F(r.K1Estimated ?? 0, 4)} vs {F(r.K1GroundTruth ?? 0, 4)})");
            Row("depth frames", r.DepthFrames.ToString(CultureInfo.InvariantCulture));
            Row("depth AbsRel / delta<1.25, per-frame scale", r.DepthAbsRelPerFrame is double d1 ? $"{F(d1, 4)} / {F(r.DepthDelta1PerFrame ?? 0, 4)}" : "-");
            Row("depth AbsRel / delta<1.25, one scale", r.DepthAbsRelGlobal is double d2 ? $"{F(d2, 4)} / {F(r.DepthDelta1Global ?? 0, 4)} (scale {F(r.DepthGlobalScale ?? 0, 4)})" : "-");
            Row("depth coverage", r.DepthCoverage is double c ? $"{F(100 * c, 1)} %" : "-");
            if (r.FlowPairs > 0) Row("flow EPE all / noc", $"{F(r.FlowEpeAll ?? 0, 4)} / {F(r.FlowEpeNoc ?? 0, 4)} px ({r.FlowPairs} pairs)");
            AnsiConsole.Write(t);
            foreach (var n in r.Notes) AnsiConsole.MarkupLine($"[yellow]note[/]: {Markup.Escape(n)}");
            return 0;
        }

        private static bool SameFolder(string a, string b)
        {
            static string Real(string p)
            {
                var full = Path.GetFullPath(p).TrimEnd('/');
                try { return new DirectoryInfo(full).ResolveLinkTarget(true)?.FullName ?? full; }
                catch (IOException) { return full; }
            }
            return string.Equals(Real(a), Real(b), StringComparison.Ordinal);
        }

        internal static string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
    }

    /// <summary>`flowmap eval-flow`: EPE of one estimated flow against the truth, over all valid pixels and non-occluded ones.</summary>
    public sealed class EvalFlowCommand : ICliCommand
    {
        public int Order => 61;

        public Command Build()
        {
            var cmd = new Command("eval-flow", "End-point error of an estimated .flo against a ground-truth .flo: over all valid pixels and over non-occluded ones.");
            var gt = new Option<string>("--gt") { Description = "Ground-truth flow (.flo).", Required = true };
            var est = new Option<string>("--est") { Description = "Estimated flow (.flo).", Required = true };
            var occ = new Option<string?>("--occlusion", "--occ") { Description = "Occlusion mask PNG (255 = occluded)." };
            var inv = new Option<string?>("--invalid") { Description = "Invalid-pixel mask PNG (255 = excluded from every metric)." };
            var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
            cmd.Options.Add(gt); cmd.Options.Add(est); cmd.Options.Add(occ); cmd.Options.Add(inv); cmd.Options.Add(json);
            cmd.SetAction(r => Run(r.GetValue(gt)!, r.GetValue(est)!, r.GetValue(occ), r.GetValue(inv), r.GetValue(json)));
            return cmd;
        }

        private static int Run(string gtPath, string estPath, string? occPath, string? invPath, bool json)
        {
            FlowAccuracy a;
            try
            {
                var gt = FloFile.Read(gtPath);
                var est = FloFile.Read(estPath);
                if (est.Width != gt.Width || est.Height != gt.Height)
                    throw new CliException($"'{estPath}' is {est.Width}x{est.Height}, the ground truth {gt.Width}x{gt.Height}");
                bool[]? Mask(string? p, string what)
                {
                    if (p == null) return null;
                    var m = PngImage.ReadMask(p, out int w, out int h);
                    if (w != gt.Width || h != gt.Height) throw new CliException($"{what} mask '{p}' is {w}x{h}, the flow {gt.Width}x{gt.Height}");
                    return m;
                }
                a = DepthFlowMetrics.Flow(est, gt, Mask(occPath, "occlusion"), Mask(invPath, "invalid"));
            }
            catch (Exception e) when (e is InvalidDataException || e is IOException || e is UnauthorizedAccessException)
            {
                throw new CliException(e.Message, ExitCodes.BadInput, e);
            }
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new { epe_all = a.EpeAll, epe_noc = a.EpeNoc, pixels_all = a.PixelsAll, pixels_noc = a.PixelsNoc }));
                return 0;
            }
            var t = new Table().Title($"{Markup.Escape(Path.GetFileName(estPath))} against {Markup.Escape(Path.GetFileName(gtPath))}");
            t.AddColumn("pixels"); t.AddColumn(new TableColumn("EPE (px)").RightAligned()); t.AddColumn(new TableColumn("count").RightAligned());
            t.AddRow("all", EvalCommand.F(a.EpeAll, 4), a.PixelsAll.ToString(CultureInfo.InvariantCulture));
            t.AddRow(occPath == null ? "noc (no occlusion mask given: = all)" : "noc", EvalCommand.F(a.EpeNoc, 4), a.PixelsNoc.ToString(CultureInfo.InvariantCulture));
            AnsiConsole.Write(t);
            return 0;
        }
    }
}
