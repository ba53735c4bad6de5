using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.Json;

namespace FlowMap.Capture
{
    /// <summary>
    /// A video file decoded by an ffmpeg child process to raw rgb24 frames over a pipe, one frame in memory at a time.
    /// Size, frame rate and frame count come from ffprobe when the source is opened; a file ffprobe cannot read as a video is an
    /// InvalidDataException naming it. Frames come as fast as they decode (<see cref="FrameSources.Open"/> paces a real-time
    /// video with <see cref="PacedFrameSource"/>, from its first read). Damage: a resolution change mid-stream is an InvalidDataException naming the file and frame
    /// (ffmpeg would otherwise rescale the rest silently); a stream that ends early (truncated file) ends the read and is reported
    /// in <see cref="Warnings"/> with the counts, as are ffmpeg's decoding errors. Timestamps are the decoder's presentation
    /// times, from 0. Orientation metadata is ignored (<c>-noautorotate</c>): frames come as stored.
    /// </summary>
    internal sealed class VideoFileSource : IFrameSource
    {
        private readonly FfmpegPipe _pipe;
        private readonly List<string> _warnings = new List<string>();
        private readonly int _width, _height;
        private double? _firstPts;
        private int _next;
        private bool _ended;

        /// <summary>Opens a video.</summary>
        public VideoFileSource(string path)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentException("No video path given.", nameof(path));
            if (!File.Exists(path)) throw new FileNotFoundException($"Video '{path}' does not exist.", path);
            Path = path;
            var probe = Probe(path);
            _width = probe.Width; _height = probe.Height;
            FramesPerSecond = probe.Fps;
            FrameCount = probe.Frames;
            var args = new List<string> { "-noautorotate", "-fflags", "+discardcorrupt" };
            args.Add("-i"); args.Add(path);
            _pipe = new FfmpegPipe(args, $"video '{path}'");
            Description = $"video {System.IO.Path.GetFileName(path)} ({_width}x{_height}" +
                          (FramesPerSecond is double f ? $", {f.ToString("0.###", CultureInfo.InvariantCulture)} fps" : "") +
                          (FrameCount is int n ? $", {n} frames" : "") + ")";
        }

        public string Path { get; }
        public string Description { get; }
        /// <summary>Frame count from the container when it states one, else an estimate from duration and rate, else null.</summary>
        public int? FrameCount { get; }
        public double? FramesPerSecond { get; }
        public int Width => _width;
        public int Height => _height;
        public IReadOnlyList<string> Warnings => _warnings;
        internal FfmpegPipe Pipe => _pipe;

        public bool TryRead(out Frame frame)
        {
            frame = null!;
            if (_ended) return false;
            if (!_pipe.TryNextInfo(out var info))
            {
                Finish();
                return false;
            }
            if (info.Width != _width || info.Height != _height)
            {
                _ended = true;
                throw new InvalidDataException($"Video '{Path}': the resolution changes from {_width}x{_height} to {info.Width}x{info.Height} at frame {_next}; " +
                                               "a stream must keep one size (split or re-encode the video).");
            }
            var px = new byte[_width * _height * 3];
            int got = _pipe.ReadFrame(px);
            if (got < px.Length)
            {
                if (got > 0) _warnings.Add($"frame {_next}: only {got} of {px.Length} bytes arrived from the decoder, dropped");
                Finish();
                return false;
            }
            double t;
            if (info.PtsSeconds is double pts)
            {
                _firstPts ??= pts;
                t = pts - _firstPts.Value;
            }
            else t = FramesPerSecond is double f && f > 0 ? _next / f : _next / 30.0;
            frame = new Frame(_next, t, new RgbImage(_width, _height, px), $"{_next:D6}.png");
            _next++;
            return true;
        }

        private void Finish()
        {
            if (_ended) return;
            _ended = true;
            int? code = _pipe.WaitForExit();
            foreach (var p in _pipe.Problems) _warnings.Add("ffmpeg: " + p);
            if (code is int c && c != 0)
                _warnings.Add($"ffmpeg ended with exit code {c} after {_next} frames: {_pipe.Tail(3)}");
            if (FrameCount is int expected && _next < expected - 1)
                _warnings.Add($"video '{System.IO.Path.GetFileName(Path)}' ended after {_next} of {expected} frames: the file is truncated or damaged");
        }

        /// <summary>What ffprobe reports about a video's first video stream.</summary>
        public sealed record VideoInfo(int Width, int Height, double? Fps, int? Frames, double? DurationSeconds);

        /// <summary>Runs ffprobe; a file that is not a readable video is an InvalidDataException naming it.</summary>
        public static VideoInfo Probe(string path)
        {
            var psi = new ProcessStartInfo(Tools.Ffprobe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, CreateNoWindow = true };
            foreach (var a in new[] { "-v", "error", "-select_streams", "v:0", "-show_entries",
                                      "stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:format=duration", "-of", "json", path })
                psi.ArgumentList.Add(a);
            string stdout, stderr;
            int exit;
            try
            {
                using var p = Process.Start(psi) ?? throw new InvalidOperationException("ffprobe did not start.");
                var err = p.StandardError.ReadToEndAsync();
                stdout = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(60_000)) { try { p.Kill(); } catch (InvalidOperationException) { } throw new TimeoutException($"ffprobe on '{path}' did not finish in 60 s."); }
                stderr = err.Result;
                exit = p.ExitCode;
            }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException($"Cannot run ffprobe ('{Tools.Ffprobe}') to read video '{path}': {e.Message}. Install ffmpeg (Debian: apt-get install ffmpeg).", e);
            }
            string why = stderr.Trim().Replace('\n', ' ');
            if (exit != 0) throw new InvalidDataException($"'{path}' is not a readable video: {(why.Length > 0 ? why : $"ffprobe exit code {exit}")}");
            try
            {
                using var doc = JsonDocument.Parse(stdout);
                if (!doc.RootElement.TryGetProperty("streams", out var streams) || streams.GetArrayLength() == 0)
                    throw new InvalidDataException($"'{path}' has no video stream.");
                var s = streams[0];
                int w = s.TryGetProperty("width", out var wv) ? wv.GetInt32() : 0, h = s.TryGetProperty("height", out var hv) ? hv.GetInt32() : 0;
                if (w < 1 || h < 1) throw new InvalidDataException($"'{path}': the video stream has no size ({why}).");
                double? fps = Rate(s, "avg_frame_rate") ?? Rate(s, "r_frame_rate");
                int? frames = s.TryGetProperty("nb_frames", out var nf) && int.TryParse(nf.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : (int?)null;
                double? dur = Seconds(s, "duration") ??
                              (doc.RootElement.TryGetProperty("format", out var fmt) ? Seconds(fmt, "duration") : null);
                if (frames == null && dur is double d && fps is double f && d > 0) frames = (int)Math.Round(d * f);
                return new VideoInfo(w, h, fps, frames, dur);
            }
            catch (JsonException e) { throw new InvalidDataException($"'{path}': unreadable ffprobe output ({e.Message}).", e); }
        }

        private static double? Rate(JsonElement s, string key)
        {
            if (!s.TryGetProperty(key, out var v)) return null;
            var parts = (v.GetString() ?? "").Split('/');
            if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var a) &&
                double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var b) && a > 0 && b > 0)
                return a / b;
            return null;
        }

        private static double? Seconds(JsonElement s, string key) =>
            s.TryGetProperty(key, out var v) && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d : (double?)null;

        public void Dispose() => _pipe.Dispose();
    }
}
