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
    /// depth-sized splats and with 1-pixel points.
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
                        foreach (bool px1 in new[] { false, true })
                        {
                            var settings = Settings(px1);
                            Console.Error.Write($"\rheadless {n} points ({(px1 ? "1 px" : "splats")})...".PadRight(60));
                            var (fps, fpsRead, upload, dev) = Headless(scene, settings, w, h, f, budget);
                            device = dev;
                            rows.Add(new[] { "headless", Count(n), px1 ? "1 px" : "splats", $"{w}x{h}", F(1000 / fps) , F(fps), F(fpsRead), F(upload) });
                        }
                    }
                    catch (RenderException e) { throw new CliException(e.Message, 3, e); }
                    if (r.GetValue(noWindow)) continue;
                    if (XvfbServer.Executable == null) { rows.Add(new[] { "window", Count(n), "-", "-", "-", "Xvfb not installed", "-", "-" }); continue; }
                    foreach (bool px1 in new[] { false, true })
                    {
                        Console.Error.Write($"\rwindow (Xvfb) {n} points ({(px1 ? "1 px" : "splats")})...".PadRight(60));
                        using var x = XvfbServer.Start(w + 64, h + 64);
                        x.UseAsDisplay();
                        try
                        {
                            var res = ViewerApp.Run(scene, new ViewerOptions
                            {
                                Width = w, Height = h, Settings = Settings(px1), MaxFrames = f + 3, MaxSeconds = budget, PresentMode = "immediate",
                            });
                            rows.Add(new[] { "window (Xvfb)", Count(n), px1 ? "1 px" : "splats", $"{w}x{h}", F(1000 / res.Fps), F(res.Fps), "-", "-" });
                        }
                        catch (ViewerUnavailableException e) { rows.Add(new[] { "window (Xvfb)", Count(n), "-", "-", "-", e.Message, "-", "-" }); }
                    }
                }
                Console.Error.WriteLine();
                var t = new Table().Title($"Viewer frame rate on {Markup.Escape(device)} (overview camera, grid/axes/trajectory/frustums/text on; window: immediate present)");
                foreach (var c in new[] { "mode", "points", "drawn as", "size", "ms/frame", "fps", "fps+readback", "upload ms" }) t.AddColumn(c);
                foreach (var row in rows) t.AddRow(row.Select(Markup.Escape).ToArray());
                AnsiConsole.Write(t);
                return 0;
            });
            return cmd;
        }

        private static RenderSettings Settings(bool onePixel) => onePixel ? new RenderSettings { FixedPointPixels = 1 } : new RenderSettings();

        private static (double Fps, double FpsReadback, double UploadMs, string Device) Headless(IViewerScene scene, RenderSettings settings, int w, int h, int frames, double budget)
        {
            using var r = new OffscreenRenderer(w, h);
            var snap = scene.Snapshot();
            var sw = Stopwatch.StartNew();
            r.Scene.Sync(snap);
            double upload = sw.Elapsed.TotalMilliseconds;
            var orbit = CameraSpec.FromBounds(r.Scene.Bounds);
            var text = ViewerApp.Hud(snap, double.NaN, null, null);
            double Run(bool readBack)
            {
                for (int i = 0; i < 3; i++) r.Render(CameraSpec.Perspective(orbit, r.Scene.Bounds, w, h), settings, snap, text, readBack);
                var t = Stopwatch.StartNew();
                int done = 0;
                while (done < frames && (done < 2 || t.Elapsed.TotalSeconds < budget))
                {
                    orbit.Orbit(0.01, 0);
                    r.Render(CameraSpec.Perspective(orbit, r.Scene.Bounds, w, h), settings, snap, text, readBack);
                    done++;
                }
                return done / t.Elapsed.TotalSeconds;
            }
            double fps = Run(false);
            double fpsRead = Run(true);
            return (fps, fpsRead, upload, r.Device.DeviceName);
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

        private static string Count(int n) => n >= 1_000_000 ? $"{n / 1e6:0.##}M" : n >= 1000 ? $"{n / 1e3:0.##}k" : n.ToString(CultureInfo.InvariantCulture);
        private static string F(double v) => double.IsNaN(v) || double.IsInfinity(v) ? "-" : v.ToString(v < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
    }
}
