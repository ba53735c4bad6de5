using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.Json;
using FlowMap.Capture;
using FlowMap.Export;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap bench capture`: how fast the frame sources deliver frames: a PNG folder (decode), an H.264 video and a lossless
    /// FFV1 video through the ffmpeg pipe. The frames are generated (a moving textured pattern), written to a temporary folder
    /// and encoded with ffmpeg first; only the reading is timed.
    /// </summary>
    public sealed class BenchCapture : IBenchSuite
    {
        public Command Build()
        {
            var cmd = new Command("capture", "Frames per second of the frame sources: PNG folder, H.264 and FFV1 video through ffmpeg.");
            var frames = new Option<int>("--frames") { Description = "Frames per source.", DefaultValueFactory = _ => 120 };
            var size = new Option<string>("--size") { Description = "Frame size WxH.", DefaultValueFactory = _ => "640x480" };
            var json = new Option<bool>("--json") { Description = "Print JSON rows instead of a table." };
            var input = new Option<string?>("--input") { Description = "Time reading this input instead (image folder, video, session): e.g. ../shared/data/icl_nuim_livingroom1/color." };
            cmd.Options.Add(frames); cmd.Options.Add(size); cmd.Options.Add(json); cmd.Options.Add(input);
            cmd.SetAction(r => r.GetValue(input) is string path ? RunInput(path, r.GetValue(json)) : Run(r.GetValue(frames), Sizes.Parse(r.GetValue(size)!), r.GetValue(json)));
            return cmd;
        }

        private sealed record Row(string Source, int Frames, double Seconds, double Fps, double MegapixelsPerSecond, string Note);

        private static int Run(int n, (int Width, int Height) size, bool json)
        {
            if (n < 2) throw new CliException("--frames must be at least 2");
            var dir = Directory.CreateTempSubdirectory("flowmap-bench-capture-").FullName;
            try
            {
                var png = Directory.CreateDirectory(Path.Combine(dir, "png")).FullName;
                for (int i = 0; i < n; i++) PngImage.WriteRgb(Path.Combine(png, $"{i:D6}.png"), Pattern(size.Width, size.Height, i));
                var rows = new List<Row> { Time("PNG folder", () => new ImageFolderSource(png), size, "zlib decode + CRC check") };
                var input = Path.Combine(png, "%06d.png");
                if (Encode(input, Path.Combine(dir, "v.mp4"), "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"))
                    rows.Add(Time("H.264 mp4 (ffmpeg pipe)", () => new VideoFileSource(Path.Combine(dir, "v.mp4")), size, "yuv420p -> rgb24 in ffmpeg"));
                if (Encode(input, Path.Combine(dir, "v.mkv"), "-c:v", "ffv1", "-pix_fmt", "bgr0"))
                    rows.Add(Time("FFV1 mkv (ffmpeg pipe)", () => new VideoFileSource(Path.Combine(dir, "v.mkv")), size, "lossless RGB"));
                if (json)
                {
                    Console.WriteLine(JsonSerializer.Serialize(new { width = size.Width, height = size.Height, cores = Environment.ProcessorCount, rows },
                        new JsonSerializerOptions { WriteIndented = true }));
                    return 0;
                }
                var t = new Table().Title($"Frame sources, {n} frames at {size.Width}x{size.Height}, {Environment.ProcessorCount} cores (reading only)");
                foreach (var c in new[] { "source", "frames", "s", "fps", "Mpx/s", "note" }) t.AddColumn(c);
                foreach (var row in rows)
                    t.AddRow(row.Source, row.Frames.ToString(CultureInfo.InvariantCulture), F(row.Seconds), F(row.Fps), F(row.MegapixelsPerSecond), row.Note);
                AnsiConsole.Write(t);
                return 0;
            }
            finally
            {
                try { Directory.Delete(dir, true); } catch (IOException) { }
            }
        }

        private static int RunInput(string path, bool json)
        {
            IFrameSource Open()
            {
                try { return FrameSources.Open(path); }
                catch (Exception e) when (e is IOException || e is InvalidDataException) { throw new CliException(e.Message, 3, e); }
            }
            int w = 0, h = 0;
            using (var probe = Open())
                if (probe.TryRead(out var first)) { w = first.Image.Width; h = first.Image.Height; }
            if (w == 0) throw new CliException($"'{path}' delivered no frame");
            string desc;
            using (var s = Open()) desc = s.Description;
            var row = Time(desc, Open, (w, h), "");
            if (json) { Console.WriteLine(JsonSerializer.Serialize(row)); return 0; }
            var t = new Table().Title($"Reading {Markup.Escape(path)} ({Environment.ProcessorCount} cores)");
            foreach (var c in new[] { "source", "frames", "s", "fps", "Mpx/s" }) t.AddColumn(c);
            t.AddRow(Markup.Escape(row.Source), row.Frames.ToString(CultureInfo.InvariantCulture), F(row.Seconds), F(row.Fps), F(row.MegapixelsPerSecond));
            AnsiConsole.Write(t);
            return 0;
        }

        private static Row Time(string name, Func<IFrameSource> open, (int Width, int Height) size, string note)
        {
            var sw = Stopwatch.StartNew();
            int count = 0;
            using (var s = open())
                while (s.TryRead(out var f))
                {
                    if (f.Image.Width != size.Width || f.Image.Height != size.Height) throw new CliException($"{name}: frame {f.Index} has the wrong size");
                    count++;
                }
            double sec = sw.Elapsed.TotalSeconds;
            return new Row(name, count, sec, count / sec, count * (double)size.Width * size.Height / sec / 1e6, note);
        }

        private static bool Encode(string input, string output, params string[] codec)
        {
            var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "-hide_banner", "-loglevel", "error", "-y", "-framerate", "30", "-i", input }) psi.ArgumentList.Add(a);
            foreach (var a in codec) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add(output);
            try
            {
                using var p = Process.Start(psi)!;
                var err = p.StandardError.ReadToEndAsync();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) Console.Error.WriteLine($"flowmap: encoding {Path.GetFileName(output)} failed, skipped: {err.Result.Trim()}");
                return p.ExitCode == 0;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                Console.Error.WriteLine("flowmap: ffmpeg is not installed; video sources skipped");
                return false;
            }
        }

        /// <summary>A textured pattern that moves by a few pixels per frame (compresses like natural video, not like noise).</summary>
        private static RgbImage Pattern(int w, int h, int frame)
        {
            var img = new RgbImage(w, h);
            var p = img.Pixels;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double u = x + 2.0 * frame, v = y + 1.0 * frame;
                    double a = Math.Sin(u * 0.05) * Math.Cos(v * 0.07) + 0.5 * Math.Sin((u + v) * 0.21);
                    int o = 3 * (y * w + x);
                    p[o] = (byte)(127 + 80 * a);
                    p[o + 1] = (byte)(127 + 60 * Math.Sin(u * 0.013 + a));
                    p[o + 2] = (byte)((x ^ y ^ frame) & 0x3F | 0x80);
                }
            return img;
        }

        private static string F(double v) => v.ToString(v < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
    }
}
