using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using FlowMap.Export;
using FlowMap.Viewer.Rendering;
using FlowMap.Viewer.Scenes;

namespace FlowMap.Viewer
{
    /// <summary>Options of the viewer window.</summary>
    public sealed class ViewerOptions
    {
        public int Width { get; set; } = 1280;
        public int Height { get; set; } = 800;
        /// <summary>Start camera (the R key returns to it).</summary>
        public CameraSpec Camera { get; set; } = CameraSpec.Overview;
        public RenderSettings Settings { get; set; } = new RenderSettings();
        /// <summary>Close after this many presented frames (0 = run until the window is closed). For tests and benchmarks.</summary>
        public int MaxFrames { get; set; }
        /// <summary>Preferred present mode: "fifo" (default, vsync), "mailbox" or "immediate" (benchmarks).</summary>
        public string PresentMode { get; set; } = "fifo";
        /// <summary>Close after this many seconds from the first frame (0 = no limit).</summary>
        public double MaxSeconds { get; set; }
        /// <summary>Called once the window is up and the first frame was presented (tests wait for it).</summary>
        public Action? OnFirstFrame { get; set; }
        /// <summary>Called after every presented frame on the window's thread (tests, scripted tours): can resize or close.</summary>
        public Action<ViewerWindowControl>? OnFrame { get; set; }
        /// <summary>Vulkan validation layer on (errors fail the run at the end). Defaults to $FLOWMAP_VALIDATION=1.</summary>
        public bool Validation { get; set; } = Environment.GetEnvironmentVariable("FLOWMAP_VALIDATION") == "1";
        /// <summary>Folder for screenshots saved with the P key (default: the current folder).</summary>
        public string ScreenshotDirectory { get; set; } = ".";
    }

    /// <summary>What <see cref="ViewerOptions.OnFrame"/> sees and may do after a presented frame.</summary>
    public abstract class ViewerWindowControl
    {
        /// <summary>Frames presented so far (1 after the first).</summary>
        public abstract int FramesPresented { get; }
        /// <summary>Current swapchain size in pixels.</summary>
        public abstract (int Width, int Height) Size { get; }
        /// <summary>Asks the window system for a new window size (the swapchain follows).</summary>
        public abstract void Resize(int width, int height);
        /// <summary>Closes the window after this frame.</summary>
        public abstract void Close();
    }

    /// <summary>What a window session did.</summary>
    /// <param name="Frames">Frames presented.</param>
    /// <param name="Seconds">Wall time from the first presented frame to the last.</param>
    /// <param name="SwapchainRecreations">Swapchain rebuilds (resize, out-of-date, suboptimal).</param>
    /// <param name="Device">Vulkan device name.</param>
    /// <param name="PointsUploaded">Points in the GPU point buffer at the end (every point the scene delivered).</param>
    public sealed record ViewerRunResult(int Frames, double Seconds, int SwapchainRecreations, string Device, int PointsUploaded)
    {
        public double Fps => Frames > 1 && Seconds > 0 ? (Frames - 1) / Seconds : double.NaN;
    }

    /// <summary>
    /// The viewer's entry points. <see cref="Run"/> opens a window (GLFW + Vulkan swapchain) and draws the scene's latest
    /// snapshot every frame until closed; <see cref="Screenshot"/> renders offscreen (no window or display) and writes a PNG.
    /// A scene is a finished folder (<see cref="FolderScene"/>), a live reconstruction (<see cref="LiveScene"/>) or any
    /// <see cref="IViewerScene"/>.
    /// </summary>
    public static class ViewerApp
    {
        /// <summary>Why a window cannot open here (no DISPLAY / WAYLAND_DISPLAY), or null when it may.</summary>
        public static string? NoDisplayReason()
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) ||
                !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"))) return null;
            return "No display: DISPLAY is not set, so the viewer window cannot open. Render headless with --screenshot S.png " +
                   "(or run under a virtual display: xvfb-run ./flowmap view ...).";
        }

        /// <summary>
        /// Renders <paramref name="scene"/>'s current snapshot offscreen at <paramref name="width"/> x <paramref name="height"/>
        /// and writes an 8-bit RGB PNG to <paramref name="pngPath"/>. Returns the RGBA pixels, byte[H, W, 4].
        /// </summary>
        public static byte[] Screenshot(IViewerScene scene, string pngPath, int width, int height, CameraSpec? camera = null, RenderSettings? settings = null)
        {
            if (scene == null) throw new ArgumentNullException(nameof(scene));
            settings ??= new RenderSettings();
            var snap = scene.Snapshot();
            using var r = new OffscreenRenderer(width, height);
            r.Scene.Sync(snap);
            var cam = (camera ?? CameraSpec.Overview).Resolve(snap, r.Scene.Bounds, width, height);
            var rgba = r.Render(cam, settings, snap, Hud(snap, double.NaN, cam, null));
            r.Device.ThrowIfValidationErrors();
            WritePng(pngPath, rgba, width, height);
            return rgba;
        }

        /// <summary>
        /// Shows <paramref name="scene"/> in the window when a display is present; otherwise (or when the window cannot open)
        /// renders it headless to <paramref name="fallbackPng"/>. Returns a one-line description of what happened, e.g. for
        /// `flowmap demo`: "closed the viewer after N frames" or "no display: wrote PATH".
        /// </summary>
        public static string ShowOrScreenshot(IViewerScene scene, string fallbackPng, ViewerOptions? options = null)
        {
            options ??= new ViewerOptions();
            string? why = NoDisplayReason();
            if (why == null)
            {
                try
                {
                    var r = Run(scene, options);
                    return $"viewer closed after {r.Frames} frames";
                }
                catch (ViewerUnavailableException e) { why = e.Message; }
            }
            Screenshot(scene, fallbackPng, options.Width, options.Height, options.Camera, options.Settings);
            return $"no window ({why.Split('.')[0].TrimEnd()}): wrote {fallbackPng}";
        }

        /// <summary>Writes RGBA pixels (alpha dropped) as an 8-bit RGB PNG.</summary>
        public static void WritePng(string path, byte[] rgba, int width, int height)
        {
            var rgb = new byte[width * height * 3];
            for (int i = 0; i < width * height; i++) { rgb[3 * i] = rgba[4 * i]; rgb[3 * i + 1] = rgba[4 * i + 1]; rgb[3 * i + 2] = rgba[4 * i + 2]; }
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            PngImage.WriteRgb(path, new RgbImage(width, height, rgb));
        }

        /// <summary>The on-screen text: frame, fps, focal, points, stage timings.</summary>
        public static List<string> Hud(ViewerSnapshot s, double fps, ViewCamera? cam, string? mode)
        {
            var inv = CultureInfo.InvariantCulture;
            var parts = new List<string>();
            int frames = s.Trajectory.Count;
            parts.Add(s.FrameNumber >= 0 ? $"FRAME {s.FrameNumber}" + (frames > 0 ? $" ({frames} POSES)" : "") : "NO FRAME");
            parts.Add(double.IsNaN(fps) ? "FPS -" : "FPS " + fps.ToString("F1", inv));
            if (s.Intrinsics != null) parts.Add("F " + s.Intrinsics.Fx.ToString("F1", inv) + " PX");
            int n = s.PointCount;
            parts.Add("POINTS " + (n >= 1_000_000 ? (n / 1e6).ToString("F2", inv) + "M" : n >= 1000 ? (n / 1e3).ToString("F1", inv) + "K" : n.ToString(inv)));
            if (mode != null) parts.Add(mode);
            var lines = new List<string> { string.Join("  ", parts) };
            if (s.StageMilliseconds.Count > 0)
                lines.Add(string.Join("  ", s.StageMilliseconds.Select(kv => $"{kv.Key} {kv.Value.ToString("F1", inv)}")) + " MS");
            if (!string.IsNullOrEmpty(s.Status)) lines.Add(s.Status!);
            return lines;
        }

        /// <summary>
        /// Opens the window and draws the scene until it is closed (or <see cref="ViewerOptions.MaxFrames"/> frames were
        /// presented). Throws <see cref="ViewerUnavailableException"/> with a clear message when there is no display, no
        /// GLFW, or no Vulkan device that can present.
        /// </summary>
        public static ViewerRunResult Run(IViewerScene scene, ViewerOptions? options = null)
        {
            if (scene == null) throw new ArgumentNullException(nameof(scene));
            var reason = NoDisplayReason();
            if (reason != null) throw new ViewerUnavailableException(reason);
            using var w = ViewerWindow.Open(scene, options ?? new ViewerOptions());
            return w.Loop();
        }
    }

    /// <summary>The window cannot open here (no display, no GLFW, no Vulkan device that presents); the message says why.</summary>
    public sealed class ViewerUnavailableException : Exception
    {
        public ViewerUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
    }
}
