using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using FlowMap.Capture.Sessions;
using FlowMap.Reconstruction;
using FlowMap.Session;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap replay S [--out DIR]`: runs a recorded session through the same live (online) pipeline, every frame in
    /// order (nothing dropped), so two replays with the same options give identical results. Damaged frames are
    /// reported and skipped, a recording cut off by a crash replays every complete frame and says where it was cut, and
    /// the replayed poses are compared with the results the live run stored while recording.
    /// </summary>
    public sealed class ReplayCommand : ICliCommand
    {
        public int Order => 41;

        public Command Build()
        {
            var session = new Argument<string>("SESSION") { Description = "A session file written by `flowmap record`." };
            var outOpt = new Option<string?>("--out") { Description = "Write the reconstruction here (the layout of `reconstruct`)." };
            var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
            var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --out folder, only if an earlier `replay` wrote it." };
            var common = PipelineCliOptions.Add(new Command("replay", "Replay a recorded session through the live pipeline, deterministically."));
            var cmd = common.Command;
            cmd.Arguments.Add(session);
            cmd.Options.Add(outOpt);
            cmd.Options.Add(json);
            cmd.Options.Add(overwrite);
            cmd.SetAction(p => Run(p.GetValue(session)!, p.GetValue(outOpt), p.GetValue(json), common.Read(p), p.GetValue(overwrite)));
            return cmd;
        }

        private static int Run(string path, string? outDir, bool json, SessionOptions options, bool overwrite)
        {
            if (Directory.Exists(path)) throw new CliException($"'{path}' is a folder; replay reads a session file written by `flowmap record`.");
            SessionFileSource src;
            try { src = new SessionFileSource(path); }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException) { throw new CliException(e.Message, 2, e); }
            using (src)
            using (var interrupt = new Interrupt())
            using (var staged = outDir == null ? null : StagedOutput.Begin(outDir, overwrite, "replay"))
            {
                ReconstructionPipeline pipeline;
                try { pipeline = ReconstructionComponents.CreateLivePipeline(options); }
                catch (Exception e) when (e is not OutOfMemoryException && e is not CliException)
                {
                    throw new CliException("cannot start the pipeline: " + e.Message, 3, e);
                }
                using (pipeline)
                {
                    var output = staged == null ? null : new ReconstructionOutput(staged.Path);
                    if (output != null) pipeline.FrameFinalized += output.WriteFrame;
                    var live = new List<RecordedResult>();
                    var wall = Stopwatch.StartNew();
                    // Through the same encoding the recording used, so equal poses compare equal to the last bit.
                    ReconstructionRun run;
                    try
                    {
                        run = Reconstructor.Run(src, pipeline, u => live.Add(RecordedResult.Parse(RecordedResult.From(u).ToSessionResult())),
                            json ? null : (n, total) => { if (n % 25 == 0) Console.Error.Write($"\rreplayed {n} frames"); }, token: interrupt.Token);
                        if (!json) Console.Error.WriteLine();
                        output?.WriteSummary(run.Result, run.FramesIn, wall.Elapsed.TotalSeconds, null, run.SourceWarnings);
                        staged?.Commit();
                    }
                    catch (OperationCanceledException) when (interrupt.Requested)
                    {
                        throw new CliException("interrupted" + (outDir != null ? $"; nothing was written to '{outDir}'." : "."), ExitCodes.Interrupted);
                    }
                    catch (InvalidDataException e) { throw new CliException($"Replaying '{path}' failed: {e.Message}", ExitCodes.BadInput, e); }
                    catch (ArgumentException e) { throw new CliException($"Cannot replay '{path}': {e.Message}", ExitCodes.BadInput, e); }
                    catch (IOException e) { throw new CliException($"Writing '{outDir}' failed: {e.Message}", ExitCodes.Failed, e); }

                    var recorded = new List<RecordedResult>();
                    var malformed = new List<string>();
                    foreach (var r in src.RecordedResults)
                    {
                        try { recorded.Add(RecordedResult.Parse(r)); }
                        catch (FormatException e) { malformed.Add(e.Message); }
                    }
                    var cmp = Compare(live, recorded);
                    Report(path, run, src, cmp, malformed, outDir, json);
                }
            }
            return 0;
        }

        /// <summary>How the replay's live poses compare with the recorded live run's, over the frames both have.</summary>
        internal sealed record Comparison(int Common, int RecordedOnly, double MaxTranslationDiff, double MaxRotationDiffDeg, double PathLength);

        internal static Comparison? Compare(List<RecordedResult> replay, List<RecordedResult> recorded)
        {
            if (recorded.Count == 0) return null;
            var byIndex = replay.GroupBy(r => r.FrameIndex).ToDictionary(g => g.Key, g => g.Last());
            int common = 0, only = 0;
            double maxT = 0, maxR = 0, path = 0;
            RecordedResult? prev = null;
            foreach (var rec in recorded.GroupBy(r => r.FrameIndex).Select(g => g.Last()).OrderBy(r => r.FrameIndex))
            {
                if (prev != null)
                {
                    var (a, b) = (prev.Pose.Center, rec.Pose.Center);
                    path += Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));
                }
                prev = rec;
                if (!byIndex.TryGetValue(rec.FrameIndex, out var rep)) { only++; continue; }
                common++;
                var (c1, c2) = (rec.Pose.Center, rep.Pose.Center);
                maxT = Math.Max(maxT, Math.Sqrt((c1.X - c2.X) * (c1.X - c2.X) + (c1.Y - c2.Y) * (c1.Y - c2.Y) + (c1.Z - c2.Z) * (c1.Z - c2.Z)));
                maxR = Math.Max(maxR, RotationDifferenceDeg(rec.Pose, rep.Pose));
            }
            return new Comparison(common, only, maxT, maxR, path);
        }

        /// <summary>
        /// Angle of R_a^T R_b in degrees, from atan2(|skew part|, (trace - 1) / 2): exactly 0 for equal rotations, where
        /// acos((trace - 1) / 2) of a product rounded to doubles reports about 1e-6 deg.
        /// </summary>
        public static double RotationDifferenceDeg(CameraPose a, CameraPose b)
        {
            var m = new double[9];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    m[i * 3 + j] = a.R(0, i) * b.R(0, j) + a.R(1, i) * b.R(1, j) + a.R(2, i) * b.R(2, j);
            double sx = m[7] - m[5], sy = m[2] - m[6], sz = m[3] - m[1];
            double sin = 0.5 * Math.Sqrt(sx * sx + sy * sy + sz * sz), cos = (m[0] + m[4] + m[8] - 1) / 2;
            return Math.Atan2(sin, cos) * 180 / Math.PI;
        }

        /// <summary>Why a session holds no live results: said only when the file shows it (never a guess).</summary>
        internal static string NoResultsReason(SessionFileSource src) => src.Info.LiveReconstruction switch
        {
            false => "recorded with --no-reconstruct",
            true when !src.Complete => "the recording was cut before the live reconstruction stored a result",
            true => "the live reconstruction stored none",
            null when !src.Complete => "recorded with --no-reconstruct, or cut before the live reconstruction stored a result",
            null => "recorded with --no-reconstruct, or the live reconstruction stored none",
        };

        private static void Report(string path, ReconstructionRun run, SessionFileSource src, Comparison? cmp, List<string> malformed, string? outDir, bool json)
        {
            var warnings = src.Warnings.Concat(malformed).ToList();
            if (json)
            {
                var o = new JsonObject
                {
                    ["session"] = path, ["frames"] = run.FramesIn, ["poses"] = run.Result.Poses.Count, ["wall_s"] = run.WallSeconds,
                    ["complete"] = src.Complete, ["cut_at_byte"] = src.CutAtByte,
                    ["warnings"] = new JsonArray(warnings.Select(w => (JsonNode)JsonValue.Create(w)!).ToArray()),
                    ["focal_px"] = run.Result.Input.Fx,
                    ["out"] = outDir,
                };
                if (cmp == null) o["no_live_results"] = NoResultsReason(src);
                else
                    o["compared_with_recording"] = new JsonObject
                    {
                        ["frames"] = cmp.Common, ["recorded_only"] = cmp.RecordedOnly, ["max_translation_diff"] = cmp.MaxTranslationDiff,
                        ["max_rotation_diff_deg"] = cmp.MaxRotationDiffDeg, ["recorded_path_length"] = cmp.PathLength,
                    };
                Console.WriteLine(o.ToJsonString());
                return;
            }
            AnsiConsole.MarkupLine($"Replayed [bold]{run.FramesIn}[/] frames of {Markup.Escape(path)} in {run.WallSeconds:F1} s " +
                                   $"({run.FramesIn / Math.Max(run.WallSeconds, 1e-9):F1} fps); focal {run.Result.Input.Fx:F1} px (input size).");
            if (!src.Complete)
                AnsiConsole.MarkupLine(src.CutAtByte is long at
                    ? $"[yellow]The recording was cut off at byte {at}[/] (a crash or kill while recording): every complete frame before it was replayed."
                    : "[yellow]The recording has no end record[/] (it was not closed): every complete frame was replayed.");
            foreach (var w in warnings) AnsiConsole.MarkupLine("[yellow]warning:[/] " + Markup.Escape(w));
            if (cmp == null) AnsiConsole.MarkupLine("The session holds no live results to compare with (" + NoResultsReason(src) + ").");
            else
                AnsiConsole.MarkupLine($"Against the live run's recorded results ({cmp.Common} frames): max camera-centre difference {cmp.MaxTranslationDiff:G3} " +
                                       $"(recorded path length {cmp.PathLength:G3}), max rotation difference {cmp.MaxRotationDiffDeg:G3} deg" +
                                       (cmp.RecordedOnly > 0 ? $"; {cmp.RecordedOnly} recorded frames were not replayed" : "") +
                                       ". Identical when the live run was lossless (record --lossless); a live run that may drop frames also maps on its own thread, so its results depend on timing.");
            if (outDir != null) AnsiConsole.MarkupLine($"Wrote {Markup.Escape(outDir)}.");
        }
    }
}
