using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using FlowMap.Capture;
using FlowMap.Capture.Sessions;
using FlowMap.Session;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap record SOURCE --out S`: captures a live source (a camera, or a video/folder/session paced in real time as a
    /// stand-in) into a session file, and by default runs the live reconstruction on it at the same time, storing each
    /// frame's result as it is produced. The file is append-only and crash-safe (see Capture/Sessions/SessionFormat.cs):
    /// a recording cut off by a crash replays every complete frame.
    /// </summary>
    public sealed class RecordCommand : ICliCommand
    {
        public int Order => 40;

        public Command Build()
        {
            var source = new Argument<string?>("SOURCE") { Description = "A camera (/dev/videoN, camera, camera:N), a video file, an image folder or a session (paced in real time).", Arity = ArgumentArity.ZeroOrOne };
            var camera = new Option<string?>("--camera") { Description = "Record this camera device (e.g. /dev/video0) instead of SOURCE." };
            var outOpt = new Option<string>("--out") { Description = "The session file to create (.fmsession; never overwritten).", Required = true };
            var frames = new Option<int?>("--frames") { Description = "Stop after this many frames." };
            var seconds = new Option<double?>("--seconds") { Description = "Stop after this many seconds." };
            var noRecon = new Option<bool>("--no-reconstruct") { Description = "Only capture; do not run the live reconstruction." };
            var durable = new Option<bool>("--durable") { Description = "fsync after every frame (survives power loss; slower)." };
            var noPace = new Option<bool>("--no-pace") { Description = "Read a file source as fast as possible instead of at its frame rate." };
            var lossless = new Option<bool>("--lossless") { Description = "Never drop a frame for the live reconstruction: capture waits for it (the live results then equal a replay's)." };
            var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
            var common = PipelineCliOptions.Add(new Command("record", "Capture a live source to a crash-safe session file, reconstructing live as it records."));
            var cmd = common.Command;
            cmd.Arguments.Add(source);
            foreach (var o in new Option[] { camera, outOpt, frames, seconds, noRecon, durable, noPace, lossless, json }) cmd.Options.Add(o);
            cmd.SetAction(p => Run(p.GetValue(camera) ?? p.GetValue(source), p.GetValue(outOpt)!, p.GetValue(frames), p.GetValue(seconds),
                !p.GetValue(noRecon), p.GetValue(durable), !p.GetValue(noPace), p.GetValue(json), WithLossless(common.Read(p), p.GetValue(lossless))));
            return cmd;
        }

        private static SessionOptions WithLossless(SessionOptions o, bool lossless)
        {
            o.DropFrames = !lossless;
            return o;
        }

        private static int Run(string? input, string outPath, int? maxFrames, double? maxSeconds, bool reconstruct, bool durable, bool pace, bool json,
            SessionOptions options) =>
            Run(input, outPath, maxFrames, maxSeconds, reconstruct, durable, pace, json, options, FrameSources.Open, ReconstructionSession.Create);

        /// <summary>
        /// The recording, with the source's opening and the live session's creation given (tests observe their order). The
        /// live session is created before the first frame is read: creating it builds and dispatches its kernels once (0.5 s
        /// warm, 2.3 s on a machine's first run on lavapipe), and a real-time source read first had its next frames due all at
        /// once when the session started, and the session dropped them
        /// (FlowMap.Tests/Issues/RecordStartedItsSessionAfterTheFirstFrame.cs). Files, folders and sessions are paced from
        /// their first read, so they are opened before the session (a bad one is reported at once, GPU or not); a camera
        /// captures from its opening, so it is opened once the session can take its frames.
        /// </summary>
        internal static int Run(string? input, string outPath, int? maxFrames, double? maxSeconds, bool reconstruct, bool durable, bool pace, bool json,
            SessionOptions options, Func<string, bool, IFrameSource> openSource, Func<SessionOptions, ReconstructionSession> createSession)
        {
            if (string.IsNullOrEmpty(input)) throw new CliException("record needs a SOURCE or --camera DEVICE.");
            if (maxFrames is int mfr && mfr < 1) throw new CliException($"--frames must be at least 1, got {mfr}.");
            if (maxSeconds is double msec && !(msec > 0 && double.IsFinite(msec))) throw new CliException($"--seconds must be a positive number, got {msec}.");
            if (File.Exists(outPath)) throw new CliException($"'{outPath}' already exists; sessions are never overwritten.");
            if (Directory.Exists(outPath)) throw new CliException($"'{outPath}' is a folder; --out names the session file to create (e.g. {Path.Combine(outPath, "take1.fmsession")}).");
            var outParent = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (outParent != null && !Directory.Exists(outParent)) throw new CliException($"the folder of '{outPath}' does not exist; create it first.");
            bool camera = FrameSources.IsCamera(input!);
            IFrameSource? opened = camera ? null : Open();
            ReconstructionSession? session = null;
            if (reconstruct)
            {
                try { session = createSession(options); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    opened?.Dispose();
                    throw new CliException("cannot start the live reconstruction: " + e.Message + " (use --no-reconstruct to only capture)", 3, e);
                }
            }
            if (camera)
            {
                try { opened = Open(); }
                catch { session?.Dispose(); throw; }
            }

            IFrameSource src = opened!; // opened above in either order

            IFrameSource Open()
            {
                try { return openSource(input!, pace); }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is ArgumentException || e is InvalidOperationException)
                {
                    throw new CliException(e.Message, 2, e);
                }
            }

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCtrlC = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCtrlC;
            SessionWriter? writer = null;
            var writerLock = new object();
            var wall = Stopwatch.StartNew();
            string? stopReason = null;
            int recorded = 0;
            try
            {
                using (src)
                {
                    var status = json ? null : new StatusLine();
                    while (!cancel.IsCancellationRequested)
                    {
                        if (maxFrames is int mf && recorded >= mf) { stopReason = $"{mf} frames"; break; }
                        if (maxSeconds is double ms && wall.Elapsed.TotalSeconds >= ms) { stopReason = $"{ms} s"; break; }
                        Frame frame;
                        try
                        {
                            if (!src.TryRead(out frame)) { stopReason = "end of source"; break; }
                        }
                        catch (InvalidDataException e)
                        {
                            stopReason = "source error: " + e.Message; // e.g. a resolution change mid-stream: keep what was recorded
                            break;
                        }
                        if (writer == null)
                        {
                            try
                            {
                                writer = new SessionWriter(outPath, new SessionInfo(src.Description, frame.Image.Width, frame.Image.Height,
                                    src.FramesPerSecond ?? 0, DateTime.UtcNow.ToString("o"), LiveReconstruction: reconstruct), durable);
                            }
                            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                            {
                                throw new CliException($"cannot create the session '{outPath}': {e.Message}", ExitCodes.Failed, e);
                            }
                            if (session != null)
                            {
                                var w = writer;
                                session.FrameProcessed += u =>
                                {
                                    lock (writerLock) w.WriteResult(RecordedResult.From(u).ToSessionResult());
                                };
                            }
                        }
                        lock (writerLock) writer.WriteFrame(frame);
                        recorded++;
                        if (session != null)
                        {
                            try { session.PushFrame(frame); }
                            catch (Exception e) when (e is ArgumentException || e is InvalidOperationException)
                            {
                                // The frames are still worth keeping: record on without the live reconstruction.
                                Console.Error.WriteLine($"\nflowmap: live reconstruction stopped ({e.Message.TrimEnd('.')}); recording continues without it.");
                                session.Dispose();
                                session = null;
                            }
                        }
                        status?.Show(recorded, session, writer.BytesWritten);
                    }
                    if (cancel.IsCancellationRequested) stopReason = "interrupted";
                    status?.Done();
                    foreach (var w in src.Warnings) Console.Error.WriteLine("flowmap: source: " + w);
                }
                if (writer == null) throw new CliException($"'{input}' gave no frames; nothing was recorded.", 2);
                SessionStats? stats = null;
                if (session != null)
                {
                    session.Complete();
                    try { session.Completion.Wait(); }
                    catch (AggregateException e)
                    {
                        throw new CliException($"the live reconstruction failed: {e.InnerException?.Message} " +
                                               $"(the {recorded} recorded frames are kept in {outPath}; replay them with `flowmap replay`)", 4, e);
                    }
                    stats = session.Stats;
                }
                long bytes;
                lock (writerLock) { bytes = writer.BytesWritten; writer.Dispose(); }
                Report(outPath, recorded, wall.Elapsed.TotalSeconds, stopReason, stats, bytes, json);
                return 0;
            }
            finally
            {
                Console.CancelKeyPress -= onCtrlC;
                session?.Dispose();
                lock (writerLock) writer?.Dispose();
            }
        }

        private static void Report(string path, int frames, double seconds, string? why, SessionStats? st, long bytes, bool json)
        {
            if (json)
            {
                var o = new JsonObject
                {
                    ["session"] = path, ["frames"] = frames, ["seconds"] = seconds, ["stopped"] = why, ["bytes"] = bytes,
                    ["processed"] = st?.Processed, ["dropped"] = st?.Dropped,
                    ["median_latency_ms"] = st == null || double.IsNaN(st.MedianLatencySeconds) ? null : st.MedianLatencySeconds * 1000,
                    ["stage_ms"] = st == null ? null : new JsonObject(st.StageMedianMilliseconds.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
                };
                Console.WriteLine(o.ToJsonString());
                return;
            }
            AnsiConsole.MarkupLine($"Recorded [bold]{frames}[/] frames in {seconds:F1} s ({frames / Math.Max(seconds, 1e-9):F1} fps) to {Markup.Escape(path)} " +
                                   $"({bytes / 1048576.0:F1} MiB); stopped: {Markup.Escape(why ?? "")}.");
            if (st != null)
                AnsiConsole.MarkupLine($"Live reconstruction: {st.Processed} processed, {st.Dropped} dropped (the pipeline was behind), " +
                                       $"median latency {st.MedianLatencySeconds * 1000:F0} ms; stages (median ms): " +
                                       Markup.Escape(string.Join(", ", st.StageMedianMilliseconds.Select(kv => $"{kv.Key} {kv.Value:F1}"))));
        }

        /// <summary>One status line redrawn in place on a terminal (plain lines every 30 frames otherwise).</summary>
        internal sealed class StatusLine
        {
            private readonly bool _tty = !Console.IsOutputRedirected;
            private readonly Stopwatch _last = Stopwatch.StartNew();

            public void Show(int frames, ReconstructionSession? session, long bytes)
            {
                if (_tty && _last.ElapsedMilliseconds < 200) return;
                if (!_tty && frames % 30 != 0) return;
                _last.Restart();
                var st = session?.Stats; // only when a line is drawn: Stats sorts the latency window
                var line = $"frames {frames}  {bytes / 1048576.0:F1} MiB" +
                           (st == null ? "" : $"  processed {st.Processed}  dropped {st.Dropped}  latency {st.MedianLatencySeconds * 1000:F0} ms");
                if (_tty) Console.Write("\r" + line.PadRight(Math.Max(0, Console.WindowWidth - 1)));
                else Console.WriteLine(line);
            }

            public void Done() { if (_tty) Console.WriteLine(); }
        }
    }
}
