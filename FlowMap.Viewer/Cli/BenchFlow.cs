using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Flow;
using FlowMap.Viewer.Bench;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap bench flow`: the Vulkan flow estimator against OpenCV's DIS (ULTRAFAST / FAST / MEDIUM, run by
    /// /usr/bin/python3 with cv2 in the same run on the same pairs) on Sintel (../shared/data/sintel: alley_1, cave_2,
    /// clean and final, frame 2 -> 3) and procedural pairs with exact flow (small and large motion, a brightness change).
    /// EPE all / non-occluded, median milliseconds per pair, peak GPU buffer bytes per resolution, ratios to DIS MEDIUM.
    /// </summary>
    public sealed class BenchFlow : IBenchSuite
    {
        private sealed record Pair(string Name, string PathA, string PathB, RgbImage A, RgbImage B, FlowField Truth, FloatImage? Occluded, FloatImage? Invalid);

        private sealed class Row
        {
            public string Pair { get; set; } = "";
            public string Method { get; set; } = "";
            public double EpeAll { get; set; }
            public double EpeNoc { get; set; }
            public double MedianMs { get; set; }
            /// <summary>Process CPU time per pair (all threads, lavapipe's included): robust when other jobs share the cores.</summary>
            public double CpuMs { get; set; }
            public long PeakGpuBytes { get; set; }
        }

        public Command Build()
        {
            var cmd = new Command("flow", "Optical flow: EPE and time per pair against OpenCV DIS on Sintel and procedural pairs.");
            var sintel = new Option<string>("--sintel") { Description = "Sintel excerpt folder (clean/, final/, flow/, occlusions/, invalid/).", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "sintel") };
            var repeats = new Option<int>("--repeats") { Description = "Timed repeats per pair after one warm-up.", DefaultValueFactory = _ => 5 };
            var noDis = new Option<bool>("--no-dis") { Description = "Skip the OpenCV DIS anchor." };
            var only = new Option<string>("--only") { Description = "Only pairs whose name contains this text." };
            var set = new Option<string[]>("--set") { Description = "Estimator option overrides, e.g. --set Iterations=16 (VulkanFlowOptions property names).", AllowMultipleArgumentsPerToken = true };
            var json = new Option<bool>("--json") { Description = "Print JSON rows instead of a table." };
            var presets = new Option<string>("--presets") { Description = "Comma-separated estimator presets to measure (fast, accurate, mapping).", DefaultValueFactory = _ => "fast,accurate" };
            foreach (var o in new Option[] { sintel, repeats, noDis, only, set, json, presets }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                var sets = r.GetValue(set) ?? Array.Empty<string>();
                List<VulkanFlowOptions> optionList;
                try { optionList = r.GetValue(presets)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => ParseOptions(VulkanFlowOptions.Preset(p), sets)).ToList(); }
                catch (ArgumentException e) { throw new CliException(e.Message); }
                var tmp = Directory.CreateTempSubdirectory("flowmap-bench-flow-");
                try
                {
                    var pairs = LoadPairs(r.GetValue(sintel)!, tmp.FullName).Where(p => r.GetValue(only) is not { } o || p.Name.Contains(o, StringComparison.OrdinalIgnoreCase)).ToList();
                    if (pairs.Count == 0) throw new CliException("No pairs to run.");
                    var rows = new List<Row>();
                    int reps = Math.Max(1, r.GetValue(repeats));
                    foreach (var options in optionList)
                    using (var est = new VulkanFlowEstimator(options))
                    {
                        foreach (var p in pairs)
                        {
                            Console.Error.Write($"\rvulkan: {p.Name,-60}");
                            est.ResetPeakGpuBytes();
                            var res = est.Estimate(p.A, p.B); // warm-up (pipelines compile on first use)
                            var ms = new List<double>();
                            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                            for (int i = 0; i < reps; i++)
                            {
                                var sw = Stopwatch.StartNew();
                                res = est.Estimate(p.A, p.B);
                                ms.Add(sw.Elapsed.TotalMilliseconds);
                            }
                            double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / reps;
                            var (all, noc) = FlowError.EndPointError(res.Forward, p.Truth, p.Occluded, p.Invalid);
                            rows.Add(new Row { Pair = p.Name, Method = est.Name, EpeAll = all, EpeNoc = noc, MedianMs = Median(ms), CpuMs = cpuMs, PeakGpuBytes = est.PeakGpuBytes });
                        }
                    }
                    Console.Error.WriteLine();
                    string? disNote = null;
                    if (!r.GetValue(noDis)) disNote = RunDis(pairs, tmp.FullName, reps, rows);
                    Print(rows, pairs, r.GetValue(json), disNote);
                    return 0;
                }
                finally
                {
                    try { tmp.Delete(true); } catch (IOException) { }
                }
            });
            return cmd;
        }

        private static VulkanFlowOptions ParseOptions(VulkanFlowOptions o, string[] sets)
        {
            foreach (var s in sets)
            {
                var kv = s.Split('=', 2);
                var prop = kv.Length == 2 ? typeof(VulkanFlowOptions).GetProperty(kv[0].Trim()) : null;
                if (prop == null) throw new CliException($"--set {s}: expected Name=Value with a VulkanFlowOptions property name.");
                prop.SetValue(o, Convert.ChangeType(kv[1].Trim(), prop.PropertyType, CultureInfo.InvariantCulture));
            }
            return o;
        }

        private static List<Pair> LoadPairs(string sintel, string tmp)
        {
            var pairs = new List<Pair>();
            if (Directory.Exists(sintel))
            {
                foreach (var seq in new[] { "alley_1", "cave_2" })
                    foreach (var pass in new[] { "clean", "final" })
                    {
                        string a = Path.Combine(sintel, pass, seq, "frame_0002.png"), b = Path.Combine(sintel, pass, seq, "frame_0003.png");
                        string flo = Path.Combine(sintel, "flow", seq, "frame_0002.flo");
                        if (!File.Exists(a) || !File.Exists(b) || !File.Exists(flo)) continue;
                        string occ = Path.Combine(sintel, "occlusions", seq, "frame_0002.png"), inv = Path.Combine(sintel, "invalid", seq, "frame_0002.png");
                        pairs.Add(new Pair($"sintel {seq} {pass}", a, b, FlowIo.ReadImage(a), FlowIo.ReadImage(b), FlowIo.ReadFlo(flo),
                            File.Exists(occ) ? FlowIo.ReadMask(occ) : null, File.Exists(inv) ? FlowIo.ReadMask(inv) : null));
                    }
            }
            else Console.Error.WriteLine($"flowmap: {sintel} not found: Sintel pairs skipped.");
            // Procedural pairs at the Sintel size: small and large motion, one with a brightness change, one smaller size.
            var synth = new[]
            {
                FlowTestPairs.Layered(1024, 436, 11, 4),
                FlowTestPairs.Layered(1024, 436, 12, 16),
                FlowTestPairs.Layered(1024, 436, 13, 35),
                FlowTestPairs.Layered(1024, 436, 14, 45, brightness: 0.15),
                FlowTestPairs.Layered(640, 480, 15, 30),
            };
            int n = 0;
            foreach (var s in synth)
            {
                string a = Path.Combine(tmp, $"synth{n}_a.png"), b = Path.Combine(tmp, $"synth{n}_b.png");
                n++;
                FlowIo.WritePng(a, s.A); FlowIo.WritePng(b, s.B);
                pairs.Add(new Pair("synthetic " + s.Name, a, b, s.A, s.B, s.Truth, s.Occluded, null));
            }
            return pairs;
        }

        /// <summary>Runs FlowMap.Viewer/Bench/dis_flow.py on every pair; adds rows; returns a note when DIS is unavailable.</summary>
        private static string? RunDis(List<Pair> pairs, string tmp, int repeats, List<Row> rows)
        {
            const string python = "/usr/bin/python3";
            string script = Path.Combine(AppContext.BaseDirectory, "Bench", "dis_flow.py");
            if (!File.Exists(python)) return "DIS not measured: /usr/bin/python3 is missing.";
            if (!File.Exists(script)) return $"DIS not measured: {script} is missing.";
            var psi = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add("--threads"); psi.ArgumentList.Add("2");
            psi.ArgumentList.Add("--repeats"); psi.ArgumentList.Add(repeats.ToString(CultureInfo.InvariantCulture));
            Console.Error.WriteLine("OpenCV DIS ...");
            using var proc = Process.Start(psi)!;
            var err = proc.StandardError.ReadToEndAsync();
            for (int i = 0; i < pairs.Count; i++)
                proc.StandardInput.WriteLine($"{pairs[i].PathA} {pairs[i].PathB} {Path.Combine(tmp, "dis" + i)}");
            proc.StandardInput.Close();
            var lines = new List<string>();
            string? line;
            while ((line = proc.StandardOutput.ReadLine()) != null) lines.Add(line);
            proc.WaitForExit();
            if (proc.ExitCode != 0) return "DIS not measured: " + err.Result.Trim().Split('\n').LastOrDefault();
            for (int i = 0; i < pairs.Count && i < lines.Count; i++)
            {
                using var doc = JsonDocument.Parse(lines[i]);
                if (!doc.RootElement.TryGetProperty("ms", out var ms)) continue;
                foreach (var preset in new[] { "ultrafast", "fast", "medium" })
                {
                    var flow = FlowIo.ReadFlo(Path.Combine(tmp, $"dis{i}.{preset}.flo"));
                    var (all, noc) = FlowError.EndPointError(flow, pairs[i].Truth, pairs[i].Occluded, pairs[i].Invalid);
                    var t = ms.GetProperty(preset).EnumerateArray().Select(e => e.GetDouble()).ToList();
                    double cpu = doc.RootElement.TryGetProperty("cpu_ms", out var c) ? c.GetProperty(preset).GetDouble() : double.NaN;
                    rows.Add(new Row { Pair = pairs[i].Name, Method = "DIS " + preset.ToUpperInvariant(), EpeAll = all, EpeNoc = noc, MedianMs = Median(t), CpuMs = cpu });
                }
            }
            return null;
        }

        private static void Print(List<Row> rows, List<Pair> pairs, bool json, string? note)
        {
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new { rows, note }, new JsonSerializerOptions { WriteIndented = true }));
                return;
            }
            var t = new Table().Title("Optical flow: EPE (all / non-occluded, px), median wall ms and mean process CPU ms per pair; ratios = ours / DIS MEDIUM");
            foreach (var c in new[] { "pair", "method", "EPE all", "EPE noc", "ms/pair", "CPU ms/pair", "peak GPU MiB", "EPE ratio", "time ratio", "CPU ratio" }) t.AddColumn(c);
            foreach (var p in pairs)
            {
                var med = rows.FirstOrDefault(x => x.Pair == p.Name && x.Method == "DIS MEDIUM");
                foreach (var row in rows.Where(x => x.Pair == p.Name))
                {
                    bool ours = !row.Method.StartsWith("DIS", StringComparison.Ordinal);
                    t.AddRow(Markup.Escape(p.Name), row.Method, F(row.EpeAll), F(row.EpeNoc), F(row.MedianMs), F(row.CpuMs),
                        row.PeakGpuBytes > 0 ? F(row.PeakGpuBytes / 1048576.0) : "-",
                        ours && med != null ? F(row.EpeAll / med.EpeAll) : "-",
                        ours && med != null ? F(row.MedianMs / med.MedianMs) : "-",
                        ours && med != null ? F(row.CpuMs / med.CpuMs) : "-");
                }
            }
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;
            AnsiConsole.Write(t);
            if (note != null) Console.WriteLine(note);
        }

        private static double Median(List<double> v)
        {
            var s = v.OrderBy(x => x).ToList();
            return s.Count == 0 ? double.NaN : s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
        }

        private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v < 10 ? "F3" : "F1", CultureInfo.InvariantCulture);
    }
}
