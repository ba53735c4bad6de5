using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Flow;
using FlowMap.Gpu;
using FlowMap.Viewer.Bench;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap flow A.png B.png --out F.flo [--backward B.flo] [--confidence C.png]`: dense optical flow from A to B at A's
    /// full resolution (Middlebury .flo). `flowmap flow --pairs LIST --out-dir DIR`: every line "A B" of LIST in one process
    /// on one device, DIR/NNNNNN.flo in list order and DIR/timings.json (per-pair milliseconds after a warm-up pair).
    /// </summary>
    public sealed class FlowCommand : ICliCommand
    {
        public int Order => 20;

        public Command Build()
        {
            var cmd = new Command("flow", "Dense optical flow from image A to image B (Middlebury .flo), or for every pair of a list.");
            var a = new Argument<string?>("A") { Description = "First image (PNG/JPEG).", Arity = ArgumentArity.ZeroOrOne };
            var b = new Argument<string?>("B") { Description = "Second image, same size as A.", Arity = ArgumentArity.ZeroOrOne };
            var output = new Option<string?>("--out") { Description = "Flow A -> B as .flo." };
            var backward = new Option<string?>("--backward") { Description = "Also write the flow B -> A as .flo." };
            var confidence = new Option<string?>("--confidence") { Description = "Also write the confidence of A -> B in [0, 1] as an 8-bit grey PNG." };
            var pairs = new Option<string?>("--pairs") { Description = "A text file with one pair \"A B\" per line (batch mode)." };
            var outDir = new Option<string?>("--out-dir") { Description = "Batch mode: folder for NNNNNN.flo and timings.json." };
            var overwrite = new Option<bool>("--overwrite") { Description = "Batch mode: replace an existing --out-dir, only if an earlier `flow --pairs` wrote it." };
            var preset = new Option<string>("--preset") { Description = "fast (estimated at half resolution, default), accurate (full resolution, about 3-4x the work) or mapping (full resolution without the variational refinement; the offline mapper's keyframe pairs).", DefaultValueFactory = _ => "fast" };
            cmd.Arguments.Add(a); cmd.Arguments.Add(b);
            foreach (var o in new Option[] { output, backward, confidence, pairs, outDir, preset, overwrite }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                VulkanFlowOptions options;
                try { options = VulkanFlowOptions.Preset(r.GetValue(preset)!); }
                catch (ArgumentException e) { throw new CliException(e.Message); }
                string? list = r.GetValue(pairs);
                if (list != null)
                {
                    if (r.GetValue(a) != null || r.GetValue(output) != null)
                        throw new CliException("Give either A B --out F.flo, or --pairs LIST --out-dir DIR, not both.");
                    return RunPairs(list, r.GetValue(outDir) ?? throw new CliException("--pairs needs --out-dir DIR."), options, r.GetValue(overwrite));
                }
                string pa = r.GetValue(a) ?? throw new CliException("Usage: flowmap flow A.png B.png --out F.flo (or --pairs LIST --out-dir DIR).");
                string pb = r.GetValue(b) ?? throw new CliException("Missing the second image B.");
                string po = r.GetValue(output) ?? throw new CliException("Missing --out F.flo.");
                var ia = FlowIo.ReadImage(pa);
                var ib = FlowIo.ReadImage(pb);
                CheckSameSize(pa, ia, pb, ib);
                if (Directory.Exists(po)) throw new CliException($"--out '{po}' is a folder; give the .flo file to write.");
                using var est = CreateEstimator(options);
                var res = est.Estimate(ia, ib);
                try
                {
                    FlowIo.WriteFlo(po, res.Forward);
                    if (r.GetValue(backward) is { } pbk) FlowIo.WriteFlo(pbk, res.Backward);
                    if (r.GetValue(confidence) is { } pc) FlowIo.WriteGreyPng(pc, res.ForwardConfidence);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new CliException($"cannot write the flow: {e.Message}", ExitCodes.Failed, e);
                }
                return 0;
            });
            return cmd;
        }

        private static VulkanFlowEstimator CreateEstimator(VulkanFlowOptions options)
        {
            try { return new VulkanFlowEstimator(options); }
            catch (GpuUnavailableException e) { throw new CliException(e.Message, 3, e); }
        }

        private static void CheckSameSize(string pa, RgbImage a, string pb, RgbImage b)
        {
            if (a.Width != b.Width || a.Height != b.Height)
                throw new CliException($"{pa} is {a.Width}x{a.Height} but {pb} is {b.Width}x{b.Height}: the two images of a pair must have the same size.");
            if (a.Width < 2 || a.Height < 2)
                throw new CliException($"{pa} is {a.Width}x{a.Height}: optical flow needs at least 2x2 pixels.");
        }

        private static int RunPairs(string listPath, string dir, VulkanFlowOptions options, bool overwrite)
        {
            if (!File.Exists(listPath)) throw new CliException($"{listPath}: no such file.");
            var baseDir = Path.GetDirectoryName(Path.GetFullPath(listPath))!;
            string Resolve(string p) => Path.IsPathRooted(p) || File.Exists(p) ? p : Path.Combine(baseDir, p);
            var pairs = new List<(string A, string B, int Line)>();
            int lineNo = 0;
            string[] lines;
            try { lines = File.ReadAllLines(listPath); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { throw new CliException($"{listPath}: cannot be read ({e.Message}).", ExitCodes.BadInput, e); }
            foreach (var raw in lines)
            {
                lineNo++;
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2) throw new CliException($"{listPath}:{lineNo}: expected \"A B\" (two image paths), got \"{line}\".");
                // Every named image must exist before any work starts; the error names the line.
                foreach (var p in parts)
                    if (!File.Exists(Resolve(p))) throw new CliException($"{listPath}:{lineNo}: image '{p}' does not exist.");
                pairs.Add((parts[0], parts[1], lineNo));
            }
            if (pairs.Count == 0) throw new CliException($"{listPath}: no pairs.");
            using var interrupt = new Interrupt();
            using var staged = StagedOutput.Begin(dir, overwrite, "flow");
            using var est = CreateEstimator(options);
            var timings = new List<object>();
            var ms = new List<double>();
            for (int i = 0; i < pairs.Count; i++)
            {
                if (interrupt.Requested) throw new CliException($"interrupted; nothing was written to '{dir}'.", ExitCodes.Interrupted);
                var (pa, pb) = (Resolve(pairs[i].A), Resolve(pairs[i].B));
                RgbImage ia, ib;
                try
                {
                    ia = FlowIo.ReadImage(pa);
                    ib = FlowIo.ReadImage(pb);
                    CheckSameSize(pa, ia, pb, ib);
                }
                catch (CliException e)
                {
                    if (i > 0) Console.Error.WriteLine(); // end the progress line
                    throw new CliException($"{listPath}:{pairs[i].Line}: {e.Message}", e.ExitCode, e);
                }
                if (i == 0) est.Estimate(ia, ib); // warm-up: pipelines compile on first use
                var sw = Stopwatch.StartNew();
                var res = est.Estimate(ia, ib);
                double t = sw.Elapsed.TotalMilliseconds;
                WriteOrFail(dir, () => FlowIo.WriteFlo(Path.Combine(staged.Path, i.ToString("D6", CultureInfo.InvariantCulture) + ".flo"), res.Forward));
                timings.Add(new Dictionary<string, object> { ["a"] = pairs[i].A, ["b"] = pairs[i].B, ["ms"] = Math.Round(t, 3) });
                ms.Add(t);
                Console.Error.Write($"\rflow: {i + 1}/{pairs.Count}  {t:F1} ms");
            }
            Console.Error.WriteLine();
            var sorted = ms.OrderBy(x => x).ToList();
            double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5 * (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]);
            var doc = new Dictionary<string, object> { ["pairs"] = timings, ["median_ms"] = Math.Round(median, 3) };
            WriteOrFail(dir, () => File.WriteAllText(Path.Combine(staged.Path, "timings.json"), JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true })));
            staged.Commit();
            Console.WriteLine($"{pairs.Count} pairs, median {median:F1} ms per pair ({est.DeviceName}); flow in {dir}");
            return 0;
        }

        private static void WriteOrFail(string dir, Action write)
        {
            try { write(); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CliException($"writing '{dir}' failed: {e.Message}", ExitCodes.Failed, e);
            }
        }
    }
}
