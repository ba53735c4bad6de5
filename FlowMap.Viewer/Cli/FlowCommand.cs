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
            var preset = new Option<string>("--preset") { Description = "fast (estimated at half resolution, default) or accurate (full resolution, about 3-4x the work).", DefaultValueFactory = _ => "fast" };
            cmd.Arguments.Add(a); cmd.Arguments.Add(b);
            foreach (var o in new Option[] { output, backward, confidence, pairs, outDir, preset }) cmd.Options.Add(o);
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
                    return RunPairs(list, r.GetValue(outDir) ?? throw new CliException("--pairs needs --out-dir DIR."), options);
                }
                string pa = r.GetValue(a) ?? throw new CliException("Usage: flowmap flow A.png B.png --out F.flo (or --pairs LIST --out-dir DIR).");
                string pb = r.GetValue(b) ?? throw new CliException("Missing the second image B.");
                string po = r.GetValue(output) ?? throw new CliException("Missing --out F.flo.");
                var ia = FlowIo.ReadImage(pa);
                var ib = FlowIo.ReadImage(pb);
                CheckSameSize(pa, ia, pb, ib);
                using var est = CreateEstimator(options);
                var res = est.Estimate(ia, ib);
                FlowIo.WriteFlo(po, res.Forward);
                if (r.GetValue(backward) is { } pbk) FlowIo.WriteFlo(pbk, res.Backward);
                if (r.GetValue(confidence) is { } pc) FlowIo.WriteGreyPng(pc, res.ForwardConfidence);
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

        private static int RunPairs(string listPath, string dir, VulkanFlowOptions options)
        {
            if (!File.Exists(listPath)) throw new CliException($"{listPath}: no such file.");
            var baseDir = Path.GetDirectoryName(Path.GetFullPath(listPath))!;
            var pairs = new List<(string A, string B)>();
            int lineNo = 0;
            foreach (var raw in File.ReadAllLines(listPath))
            {
                lineNo++;
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2) throw new CliException($"{listPath}:{lineNo}: expected \"A B\" (two image paths), got \"{line}\".");
                pairs.Add((parts[0], parts[1]));
            }
            if (pairs.Count == 0) throw new CliException($"{listPath}: no pairs.");
            Directory.CreateDirectory(dir);
            string Resolve(string p) => Path.IsPathRooted(p) || File.Exists(p) ? p : Path.Combine(baseDir, p);
            using var est = CreateEstimator(options);
            var timings = new List<object>();
            var ms = new List<double>();
            for (int i = 0; i < pairs.Count; i++)
            {
                var (pa, pb) = (Resolve(pairs[i].A), Resolve(pairs[i].B));
                var ia = FlowIo.ReadImage(pa);
                var ib = FlowIo.ReadImage(pb);
                CheckSameSize(pa, ia, pb, ib);
                if (i == 0) est.Estimate(ia, ib); // warm-up: pipelines compile on first use
                var sw = Stopwatch.StartNew();
                var res = est.Estimate(ia, ib);
                double t = sw.Elapsed.TotalMilliseconds;
                FlowIo.WriteFlo(Path.Combine(dir, i.ToString("D6", CultureInfo.InvariantCulture) + ".flo"), res.Forward);
                timings.Add(new Dictionary<string, object> { ["a"] = pairs[i].A, ["b"] = pairs[i].B, ["ms"] = Math.Round(t, 3) });
                ms.Add(t);
                Console.Error.Write($"\rflow: {i + 1}/{pairs.Count}  {t:F1} ms");
            }
            Console.Error.WriteLine();
            var sorted = ms.OrderBy(x => x).ToList();
            double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5 * (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]);
            var doc = new Dictionary<string, object> { ["pairs"] = timings, ["median_ms"] = Math.Round(median, 3) };
            File.WriteAllText(Path.Combine(dir, "timings.json"), JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"{pairs.Count} pairs, median {median:F1} ms per pair ({est.DeviceName}); flow in {dir}");
            return 0;
        }
    }
}
