using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;

namespace FlowMap.Capture
{
    /// <summary>
    /// An ffmpeg child process that decodes to raw rgb24 frames on its stdout (streaming: one frame in memory at a time).
    /// A <c>showinfo</c> filter before the output logs every decoded frame's size and time on stderr, which a reader thread
    /// parses; because ffmpeg silently rescales frames after a mid-stream resolution change, this per-frame log is how such a
    /// change is detected. Other stderr lines are kept: error lines as problems, the tail for messages.
    /// </summary>
    internal sealed class FfmpegPipe : IDisposable
    {
        private static readonly Regex ShowInfo = new Regex(@"Parsed_showinfo.*\bn:\s*(\d+).*?pts_time:\s*(-?[0-9.eE+-]+|NOPTS).*?\bs:(\d+)x(\d+)", RegexOptions.Compiled);
        private static readonly Regex Problem = new Regex(@"error|corrupt|invalid|truncat|missing|concealing|overread|damaged", RegexOptions.Compiled | RegexOptions.IgnoreCase);

        private readonly Process _process;
        private readonly Stream _stdout;
        private readonly Thread _stderrThread;
        private readonly BlockingCollection<FrameInfo> _infos = new BlockingCollection<FrameInfo>();
        private readonly object _lock = new object();
        private readonly Queue<string> _tail = new Queue<string>();
        private readonly List<string> _problems = new List<string>();
        private int _suppressed;

        public readonly struct FrameInfo
        {
            public FrameInfo(int width, int height, double? ptsSeconds) { Width = width; Height = height; PtsSeconds = ptsSeconds; }
            public int Width { get; }
            public int Height { get; }
            public double? PtsSeconds { get; }
        }

        /// <summary>Starts ffmpeg with the input arguments (options and -i ...); the output part is added here.</summary>
        public FfmpegPipe(IEnumerable<string> inputArgs, string what)
        {
            What = what;
            var psi = new ProcessStartInfo(Tools.Ffmpeg)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = false, UseShellExecute = false, CreateNoWindow = true,
            };
            foreach (var a in new[] { "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info" }) psi.ArgumentList.Add(a);
            foreach (var a in inputArgs) psi.ArgumentList.Add(a);
            foreach (var a in new[] { "-map", "0:v:0", "-vf", "showinfo", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1" })
                psi.ArgumentList.Add(a);
            try { _process = Process.Start(psi) ?? throw new InvalidOperationException("ffmpeg did not start."); }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException($"Cannot run ffmpeg ('{Tools.Ffmpeg}') to read {what}: {e.Message}. Install ffmpeg (Debian: apt-get install ffmpeg).", e);
            }
            _stdout = _process.StandardOutput.BaseStream;
            _stderrThread = new Thread(ReadStderr) { IsBackground = true, Name = "ffmpeg stderr" };
            _stderrThread.Start();
        }

        public string What { get; }

        /// <summary>The child process id (for tests that check nothing is left running).</summary>
        internal int ProcessId => _process.Id;

        /// <summary>ffmpeg lines that report damage (deduplicated, at most 20 kept).</summary>
        public IReadOnlyList<string> Problems { get { lock (_lock) return _problems.ToArray(); } }

        /// <summary>The last stderr lines that were not per-frame logs, for error messages.</summary>
        public string Tail(int lines = 6)
        {
            lock (_lock)
            {
                var all = _tail.ToArray();
                return string.Join(" | ", all, Math.Max(0, all.Length - lines), Math.Min(lines, all.Length));
            }
        }

        private void ReadStderr()
        {
            try
            {
                string? line;
                var err = _process.StandardError;
                while ((line = err.ReadLine()) != null)
                {
                    var m = ShowInfo.Match(line);
                    if (m.Success)
                    {
                        double? pts = double.TryParse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) ? t : (double?)null;
                        _infos.Add(new FrameInfo(int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture), pts));
                        continue;
                    }
                    if (line.Contains("Parsed_showinfo")) continue; // config lines and side data of the frame log
                    lock (_lock)
                    {
                        _tail.Enqueue(line.Trim());
                        while (_tail.Count > 40) _tail.Dequeue();
                        // Header lines (Input #0 ... from 'file', indented stream and metadata lines) can name a file that merely
                        // contains such a word; decoder and demuxer messages start at column 0 with "[codec @ ...]" or the file name.
                        bool header = line.Length == 0 || char.IsWhiteSpace(line[0]) || line.StartsWith("Input #", StringComparison.Ordinal) ||
                                      line.StartsWith("Output #", StringComparison.Ordinal) || line.StartsWith("Stream mapping", StringComparison.Ordinal);
                        if (!header && Problem.IsMatch(line))
                        {
                            var clean = Regex.Replace(line.Trim(), @" @ 0x[0-9a-f]+", "");
                            if (_problems.Contains(clean)) { }
                            else if (_problems.Count < 20) _problems.Add(clean);
                            else _suppressed++;
                        }
                    }
                }
            }
            catch (IOException) { }
            catch (ObjectDisposedException) { }
            finally { _infos.CompleteAdding(); }
        }

        /// <summary>The next decoded frame's size and time, waiting for ffmpeg; false when ffmpeg has ended.</summary>
        public bool TryNextInfo(out FrameInfo info) => _infos.TryTake(out info, Timeout.Infinite);

        /// <summary>
        /// Reads exactly buffer.Length bytes of pixels. Returns the number read: buffer.Length for a frame, 0 at the end of
        /// the stream, anything between for a frame cut off by the end of the stream.
        /// </summary>
        public int ReadFrame(byte[] buffer)
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int n = _stdout.Read(buffer, total, buffer.Length - total);
                if (n == 0) break;
                total += n;
            }
            return total;
        }

        /// <summary>Waits for ffmpeg to end (after its output was read) and returns its exit code, or null if it does not end in time.</summary>
        public int? WaitForExit(int ms = 10_000)
        {
            if (!_process.WaitForExit(ms)) return null;
            _process.WaitForExit();
            _stderrThread.Join(ms);
            return _process.ExitCode;
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                    _process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException) { }
            catch (Win32Exception) { }
            try { _stdout.Dispose(); } catch (IOException) { }
            _stderrThread.Join(2000);
            _process.Dispose();
            _infos.Dispose();
        }
    }

    /// <summary>Locations of the external tools: found on the PATH unless the host says otherwise (the CLI: FLOWMAP_FFMPEG / FLOWMAP_FFPROBE).</summary>
    internal static class Tools
    {
        public static string Ffmpeg { get; set; } = "ffmpeg";
        public static string Ffprobe { get; set; } = "ffprobe";
    }
}
