using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using FlowMap.Viewer.Rendering;
using FlowMap.Viewer.Scenes;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap bench view`: viewer frame rates at 100k and 1M points, headless (offscreen, with and without reading the
    /// image back) and in a real window on a private Xvfb display (swapchain, immediate present), with the automatic
    /// depth-sized point sprites, 1-pixel sprites, the compute rasteriser, and sprites within a 250k point budget.
    /// </summary>
    public sealed class BenchView : IBenchSuite
    {
        public Command Build()
        {
            var cmd = new Command("view", "Viewer frame rate: headless offscreen and a window under Xvfb, at 100k and 1M points.");
            var points = new Option<string>("--points") { Description = "Comma-separated point counts.", DefaultValueFactory = _ => "100000,1000000" };
            var size = new Option<string>("--size") { Description = "Framebuffer size WxH.", DefaultValueFactory = _ => "1280x720" };
            var frames = new Option<int>("--frames") { Description = "Timed frames per row (after 3 warm-up frames; a row stops early after --seconds).", DefaultValueFactory = _ => 60 };
            var seconds = new Option<double>("--seconds") { Description = "Time budget per row, seconds.", DefaultValueFactory = _ => 8 };
            var noWindow = new Option<bool>("--no-window") { Description = "Skip the Xvfb window rows." };
            foreach (var o in new Option[] { points, size, frames, seconds, noWindow }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                var counts = r.GetValue(points)!.Split(',').Select(s => int.TryParse(s.Trim(), out int n) && n > 0 ? n
                    : throw new CliException($"--points: '{s}' is not a positive count.")).ToList();
                var (w, h) = Sizes.Parse(r.GetValue(size)!);
                int f = Math.Max(1, r.GetValue(frames));
                double budget = Math.Max(0.5, r.GetValue(seconds));
                var rows = new List<string[]>();
                string device = "?";
                foreach (int n in counts)
                {
                    var scene = new StaticScene("bench", BenchScene(n, new Random(1)));
                    try
                    {
                        foreach (var (label, settings) in Variants(n))
                        {
                            Console.Error.Write($"\rheadless {n} points ({label})...".PadRight(60));
                            var (fps, fpsRead, upload, cpu, dev) = Headless(scene, settings, w, h, f, budget);
                            device = dev;
                            rows.Add(new[] { "headless", Count(n), label, F(1000 / fps), F(cpu), F(fps), F(fpsRead), F(upload) });
                        }
                    }
                    catch (RenderException e) { throw new CliException(e.Message, 3, e); }
                    if (r.GetValue(noWindow)) continue;
                    if (XvfbServer.Executable == null) { rows.Add(new[] { "window", Count(n), "-", "-", "-", "Xvfb not installed", "-", "-" }); continue; }
                    foreach (var (label, settings) in Variants(n))
                    {
                        Console.Error.Write($"\rwindow (Xvfb) {n} points ({label})...".PadRight(60));
                        using var x = XvfbServer.Start(w + 64, h + 64);
                        x.UseAsDisplay();
                        try
                        {
                            // Process CPU time between the first and the last presented frame (renderer threads included).
                            TimeSpan cpuFirst = default, cpuLast = default;
                            var res = ViewerApp.Run(scene, new ViewerOptions
                            {
                                Width = w, Height = h, Settings = settings, MaxFrames = f + 3, MaxSeconds = budget, PresentMode = "immediate",
                                OnFrame = c =>
                                {
                                    if (c.FramesPresented == 1) cpuFirst = Process.GetCurrentProcess().TotalProcessorTime;
                                    cpuLast = Process.GetCurrentProcess().TotalProcessorTime;
                                },
                            });
                            double cpu = res.Frames > 1 ? (cpuLast - cpuFirst).TotalMilliseconds / (res.Frames - 1) : double.NaN;
                            rows.Add(new[] { "window (Xvfb)", Count(n), label, F(1000 / res.Fps), F(cpu), F(res.Fps), "-", "-" });
                        }
                        catch (ViewerUnavailableException e) { rows.Add(new[] { "window (Xvfb)", Count(n), "-", "-", "-", e.Message, "-", "-" }); }
                    }
                }
                Console.Error.WriteLine();
                if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 132);
                var t = new Table().Title($"Viewer frame rate on {Markup.Escape(device)} at {w}x{h} (overview camera, all layers on; window: immediate present). " +
                                          $"CPU ms = process CPU time per frame (lavapipe draws on the CPU); load average {Load()}");
                foreach (var c in new[] { "mode", "points", "drawn as", "wall ms/frame", "CPU ms/frame", "fps", "fps+readback", "upload ms" }) t.AddColumn(c);
                foreach (var row in rows) t.AddRow(row.Select(Markup.Escape).ToArray());
                AnsiConsole.Write(t);
                return 0;
            });
            return cmd;
        }

        /// <summary>Depth-sized splats (all points), 1-pixel points, and, above 250k points, splats within the 250k interactive budget.</summary>
        private static IEnumerable<(string Label, RenderSettings Settings)> Variants(int n)
        {
            yield return ("sprites, all", new RenderSettings { PointMode = PointMode.Sprites });
            yield return ("sprites 1 px, all", new RenderSettings { PointMode = PointMode.Sprites, FixedPointPixels = 1 });
            yield return ("compute, all", new RenderSettings { PointMode = PointMode.Compute });
            yield return ("compute 1 px, all", new RenderSettings { PointMode = PointMode.Compute, FixedPointPixels = 1 });
            if (n > 250_000)
            {
                int k = SceneRenderer.PointStride(n, 250_000);
                yield return ($"sprites, 1/{k} (budget 250k)", new RenderSettings { PointMode = PointMode.Sprites, PointBudget = 250_000 });
            }
        }

        private static (double Fps, double FpsReadback, double UploadMs, double CpuMs, string Device) Headless(IViewerScene scene, RenderSettings settings, int w, int h, int frames, double budget)
        {
            using var r = new OffscreenRenderer(w, h);
            var snap = scene.Snapshot();
            var sw = Stopwatch.StartNew();
            r.Scene.Sync(snap);
            double upload = sw.Elapsed.TotalMilliseconds;
            var orbit = CameraSpec.FromBounds(r.Scene.Bounds);
            var text = ViewerApp.Hud(snap, double.NaN, null, null);
            double cpuMs = double.NaN;
            double Run(bool readBack)
            {
                for (int i = 0; i < 3; i++) r.Render(CameraSpec.Perspective(orbit, r.Scene.Bounds, w, h), settings, snap, text, readBack);
                var t = Stopwatch.StartNew();
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                int done = 0;
                while (done < frames && (done < 2 || t.Elapsed.TotalSeconds < budget))
                {
                    orbit.Orbit(0.01, 0);
                    r.Render(CameraSpec.Perspective(orbit, r.Scene.Bounds, w, h), settings, snap, text, readBack);
                    done++;
                }
                if (!readBack) cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / done;
                return done / t.Elapsed.TotalSeconds;
            }
            double fps = Run(false);
            double fpsRead = Run(true);
            return (fps, fpsRead, upload, cpuMs, r.Device.DeviceName);
        }

        /// <summary>
        /// <paramref name="n"/> random coloured points on the floor and walls of a 4 x 2.5 x 6 room (world y down), and a
        /// 100-frame camera path through it: the shape of an indoor reconstruction.
        /// </summary>
        public static ViewerSnapshot BenchScene(int n, Random rng)
        {
            var pos = new float[3 * n];
            var col = new byte[3 * n];
            for (int i = 0; i < n; i++)
            {
                double a = rng.NextDouble(), b = rng.NextDouble(), x, y, z;
                switch (i % 4)
                {
                    case 0: x = -2 + 4 * a; y = 1.2; z = 6 * b; break;
                    case 1: x = -2 + 4 * a; y = 1.2 - 2.5 * b; z = 6; break;
                    case 2: x = -2; y = 1.2 - 2.5 * a; z = 6 * b; break;
                    default: x = 2; y = 1.2 - 2.5 * a; z = 6 * b; break;
                }
                pos[3 * i] = (float)x; pos[3 * i + 1] = (float)y; pos[3 * i + 2] = (float)z;
                col[3 * i] = (byte)(60 + 195 * a); col[3 * i + 1] = (byte)(60 + 195 * b); col[3 * i + 2] = (byte)(40 + i % 4 * 60);
            }
            var traj = Enumerable.Range(0, 100).Select(i => CameraPose.FromQuaternion(0, 0.1 * Math.Sin(i * 0.05), 0, 1, 0.01 * i, -0.2, 0.04 * i)).ToList();
            return new ViewerSnapshot
            {
                PointChunks = new[] { new PointCloud(pos, col) }, Trajectory = traj, Keyframes = Enumerable.Range(0, 10).Select(i => i * 10).ToList(),
                Intrinsics = Intrinsics.Centered(640, 480, 525), CurrentFrame = 99, FrameNumber = 99,
            };
        }

        private static string Load()
        {
            try { return System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
            catch (System.IO.IOException) { return "?"; }
        }

        private static string Count(int n) => n >= 1_000_000 ? $"{n / 1e6:0.##}M" : n >= 1000 ? $"{n / 1e3:0.##}k" : n.ToString(CultureInfo.InvariantCulture);
        private static string F(double v) => double.IsNaN(v) || double.IsInfinity(v) ? "-" : v.ToString(v < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
    }
}
