using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using FlowMap.Diagnostics;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>`flowmap bench kernels`: GPU time per imaging kernel and its CPU reference time at 320x240, 640x480, 1024x436.</summary>
    public sealed class BenchKernels : IBenchSuite
    {
        public Command Build()
        {
            var cmd = new Command("kernels", "GPU time per imaging kernel (timestamps, wall) and the double-precision CPU reference time.");
            var repeats = new Option<int>("--repeats") { Description = "Timed repeats per kernel (after 2 warm-up runs).", DefaultValueFactory = _ => 15 };
            var sizes = new Option<string>("--sizes") { Description = "Comma-separated WxH list.", DefaultValueFactory = _ => "320x240,640x480,1024x436" };
            var json = new Option<bool>("--json") { Description = "Print JSON rows instead of a table." };
            cmd.Options.Add(repeats); cmd.Options.Add(sizes); cmd.Options.Add(json);
            cmd.SetAction(r =>
            {
                var list = Sizes.ParseList(r.GetValue(sizes)!);
                var device = SystemCheck.Run(HostEnvironment.DeviceName, HostEnvironment.Display, HostEnvironment.SearchPath).Selected;
                var rows = KernelBenchmark.Run(list, r.GetValue(repeats), progress: m => { if (!r.GetValue(json)) Console.Error.Write($"\r{m,-60}"); });
                if (!r.GetValue(json)) Console.Error.WriteLine();
                if (r.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new { device = device?.Name, rows }, new JsonSerializerOptions { WriteIndented = true }));
                    return 0;
                }
                var t = new Table().Title($"Imaging kernels on {Markup.Escape(device?.Name ?? "?")} (median of {r.GetValue(repeats)} after warm-up; CPU = double-precision reference, 1 thread)");
                foreach (var c in new[] { "kernel", "size", "GPU ms", "wall ms", "CPU ref ms", "CPU/GPU" }) t.AddColumn(c);
                foreach (var row in rows)
                    t.AddRow(row.Kernel, $"{row.Width}x{row.Height}", F(row.GpuMs), F(row.WallMs), F(row.CpuReferenceMs), F(row.CpuReferenceMs / row.GpuMs) + "x");
                AnsiConsole.Write(t);
                return 0;
            });
            return cmd;
        }

        private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v < 10 ? "F3" : "F1", CultureInfo.InvariantCulture);
    }

    /// <summary>Parses "WxH" sizes.</summary>
    public static class Sizes
    {
        public static (int Width, int Height) Parse(string s)
        {
            var p = s.Trim().ToLowerInvariant().Split('x');
            if (p.Length != 2 || !int.TryParse(p[0], out int w) || !int.TryParse(p[1], out int h) || w < 1 || h < 1)
                throw new CliException($"'{s}' is not a size; expected WxH, e.g. 320x240.");
            return (w, h);
        }

        public static List<(int Width, int Height)> ParseList(string s) => s.Split(',').Select(Parse).ToList();
    }
}
