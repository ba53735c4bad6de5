using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using FlowMap.Synthetic;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>`flowmap bench synth`: synthetic sequence generation speed (render, true flow) per size, wall time after a warm-up.</summary>
    public sealed class BenchSynth : IBenchSuite
    {
        public Command Build()
        {
            var cmd = new Command("synth", "Frames per second of synthetic generation: rendering (colour + depth) and true flow + occlusion per adjacent pair.");
            var frames = new Option<int>("--frames") { Description = "Timed frames per size (after one warm-up frame).", DefaultValueFactory = _ => 8 };
            var sizes = new Option<string>("--sizes") { Description = "Comma-separated WxH list.", DefaultValueFactory = _ => "320x240,1024x436" };
            var scene = new Option<string>("--scene") { Description = "Scene.", DefaultValueFactory = _ => "room" };
            var path = new Option<string>("--path") { Description = "Camera path.", DefaultValueFactory = _ => "walk" };
            var json = new Option<bool>("--json") { Description = "Print JSON rows instead of a table." };
            foreach (var o in new Option[] { frames, sizes, scene, path, json }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                int n = r.GetValue(frames);
                if (n < 1) throw new CliException("--frames must be at least 1.");
                var rows = new List<Row>();
                foreach (var (w, h) in Sizes.ParseList(r.GetValue(sizes)!))
                {
                    SyntheticSequence seq;
                    try
                    {
                        seq = SyntheticSequence.Create(SyntheticScene.Create(r.GetValue(scene)!),
                            new SyntheticSequenceOptions { Path = r.GetValue(path)!, Frames = n + 2, Width = w, Height = h });
                    }
                    catch (ArgumentException e) { throw new CliException(e.Message); }
                    catch (FlowMap.Gpu.GpuUnavailableException e) { throw new CliException(e.Message, 3); }
                    using (seq)
                    {
                        _ = seq.Frame(0); _ = seq.Flow(0, 1); // warm-up: pipeline creation
                        var render = new List<double>();
                        var flow = new List<double>();
                        for (int i = 1; i <= n; i++)
                        {
                            var sw = Stopwatch.StartNew();
                            _ = seq.Frame(i); _ = seq.Depth(i);
                            render.Add(sw.Elapsed.TotalMilliseconds);
                            sw.Restart();
                            _ = seq.Flow(i, i + 1); _ = seq.Occlusion(i, i + 1);
                            flow.Add(sw.Elapsed.TotalMilliseconds);
                        }
                        double rm = Median(render), fm = Median(flow);
                        rows.Add(new Row(w, h, seq.OnGpu ? "GPU" : "CPU", rm, fm, 1000 / rm, 1000 / (rm + fm)));
                    }
                }
                if (r.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
                    return 0;
                }
                var t = new Table().Title($"Synthetic generation, scene {Markup.Escape(r.GetValue(scene)!)}, path {Markup.Escape(r.GetValue(path)!)} (median of {n} frames after a warm-up; wall time including read-back)");
                foreach (var c in new[] { "size", "device", "render ms/frame", "flow ms/pair", "render fps", "render+flow fps" }) t.AddColumn(c);
                foreach (var row in rows)
                    t.AddRow($"{row.Width}x{row.Height}", row.Device, F(row.RenderMs), F(row.FlowMs), F(row.RenderFps), F(row.TotalFps));
                AnsiConsole.Write(t);
                return 0;
            });
            return cmd;
        }

        private sealed record Row(int Width, int Height, string Device, double RenderMs, double FlowMs, double RenderFps, double TotalFps);

        private static double Median(List<double> v) { var s = v.OrderBy(x => x).ToList(); return s[s.Count / 2]; }

        private static string F(double v) => v.ToString(v < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
    }
}
