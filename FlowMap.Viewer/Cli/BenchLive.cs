using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using FlowMap.Capture;
using FlowMap.Session;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap bench live`: the engine-facing session under live load.
    /// (1) A video paced in real time (default 30 fps, 640x480: ICL-NUIM livingroom1 from ../shared/data encoded to a
    ///     video, or a synthetic walk when that is absent) pushed through a <see cref="ReconstructionSession"/> exactly as
    ///     an engine would: frames processed and dropped, throughput, latency from push to pose, stage medians, memory.
    /// (2) A long run of synthetic frames (default 10,000, cycled back and forth through a sequence) pushed at the same
    ///     rate: process memory after 1,000 frames and at the end, to show memory does not grow with the session.
    /// </summary>
    public sealed class BenchLive : IBenchSuite
    {
        public Command Build()
        {
            var cmd = new Command("live", "Live session under a paced 30 fps video: drops, throughput, latency, memory at 1k and 10k frames.");
            var video = new Option<string?>("--video") { Description = "Video to pace (default: ICL-NUIM livingroom1 as a 30 fps video, or a synthetic walk)." };
            var fps = new Option<double>("--fps") { Description = "Pace for the long run, frames per second.", DefaultValueFactory = _ => 30 };
            var longFrames = new Option<int>("--long-frames") { Description = "Frames in the memory run (0 skips it).", DefaultValueFactory = _ => 10_000 };
            var json = new Option<bool>("--json") { Description = "Print JSON." };
            foreach (var o in new Option[] { video, fps, longFrames, json }) cmd.Options.Add(o);
            cmd.SetAction(p => Run(p.GetValue(video), p.GetValue(fps), p.GetValue(longFrames), p.GetValue(json)));
            return cmd;
        }

        private static int Run(string? video, double fps, int longFrames, bool json)
        {
            var tmp = Directory.CreateTempSubdirectory("flowmap-bench-live-").FullName;
            try
            {
                string what;
                if (video == null) (video, what) = MakeVideo(tmp);
                else what = Path.GetFileName(video);
                var paced = PacedRun(video, what);
                JsonObject? mem = longFrames > 0 ? MemoryRun(tmp, longFrames, fps) : null;
                var result = new JsonObject { ["paced"] = paced, ["memory"] = mem };
                if (json) Console.WriteLine(result.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                else Print(paced, mem);
                return 0;
            }
            finally
            {
                try { Directory.Delete(tmp, true); } catch (IOException) { }
            }
        }

        /// <summary>A 30 fps 640x480 video: ICL-NUIM's frames if ../shared/data has them, else a rendered synthetic walk.</summary>
        private static (string Path, string What) MakeVideo(string tmp)
        {
            var icl = SharedData.Find("icl_nuim_livingroom1");
            string pattern, what;
            if (icl != null)
            {
                pattern = Path.Combine(icl, "color", "%05d.jpg");
                what = "ICL-NUIM livingroom1 (211 frames, 640x480) as a 30 fps video";
            }
            else
            {
                var frames = Path.Combine(tmp, "synth");
                SyntheticFrames.Write(frames, 300, 640, 480);
                pattern = Path.Combine(frames, "%06d.png");
                what = "synthetic walk (300 frames, 640x480) as a 30 fps video";
            }
            var mp4 = Path.Combine(tmp, "paced.mp4");
            var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "-nostdin", "-loglevel", "error", "-framerate", "30", "-i", pattern, "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p", mp4 })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi) ?? throw new CliException("ffmpeg could not start (apt-get install ffmpeg).");
            var err = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new CliException("ffmpeg failed to make the benchmark video: " + err.Result);
            return (mp4, what);
        }

        private static JsonObject PacedRun(string video, string what)
        {
            using var src = FrameSources.Open(video, realTime: true);
            using var session = ReconstructionSession.Create(new SessionOptions());
            var wall = Stopwatch.StartNew();
            int w = 0, h = 0;
            long peakRss = 0;
            while (src.TryRead(out var f))
            {
                (w, h) = (f.Image.Width, f.Image.Height);
                session.PushFrame(f);
                peakRss = Math.Max(peakRss, CurrentRss());
            }
            double readSeconds = wall.Elapsed.TotalSeconds;
            session.Complete();
            session.Completion.Wait();
            double total = wall.Elapsed.TotalSeconds;
            var st = session.Stats;
            bool latest = session.TryGetLatest(out var last);
            return new JsonObject
            {
                ["input"] = what, ["input_size"] = $"{w}x{h}",
                ["processing_size"] = latest && last!.Intrinsics != null ? $"{last.Intrinsics.Width}x{last.Intrinsics.Height}" : null,
                ["pushed"] = st.Pushed, ["processed"] = st.Processed, ["dropped"] = st.Dropped,
                ["source_seconds"] = Math.Round(readSeconds, 2), ["wall_seconds"] = Math.Round(total, 2),
                ["processed_fps"] = Math.Round(st.Processed / total, 2),
                ["input_fps"] = Math.Round(st.Pushed / readSeconds, 2),
                ["median_latency_ms"] = Math.Round(st.MedianLatencySeconds * 1000, 1),
                ["stage_ms"] = new JsonObject(st.StageMedianMilliseconds.OrderBy(kv => kv.Key).Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, Math.Round(kv.Value, 2)))),
                ["peak_rss_mb"] = Math.Round(peakRss / 1048576.0, 1),
            };
        }

        private static JsonObject MemoryRun(string tmp, int frames, double fps)
        {
            const int seqLen = 120;
            var seq = SyntheticFrames.Render(seqLen, 640, 480);
            using var session = ReconstructionSession.Create(new SessionOptions());
            var wall = Stopwatch.StartNew();
            long rssAt1k = 0, gcAt1k = 0;
            for (int i = 0; i < frames; i++)
            {
                // Ping-pong through the sequence so the motion stays continuous.
                int k = i % (2 * seqLen - 2);
                int j = k < seqLen ? k : 2 * seqLen - 2 - k;
                double due = i / fps;
                double now = wall.Elapsed.TotalSeconds;
                if (due > now) Thread.Sleep(TimeSpan.FromSeconds(due - now));
                session.PushFrame(new Frame(i, due, seq[j], $"{i:D6}.png"));
                if (i == 999) { GC.Collect(); GC.WaitForPendingFinalizers(); rssAt1k = CurrentRss(); gcAt1k = GC.GetTotalMemory(false); }
            }
            session.Complete();
            session.Completion.Wait();
            GC.Collect(); GC.WaitForPendingFinalizers();
            long rssEnd = CurrentRss(), gcEnd = GC.GetTotalMemory(false);
            var st = session.Stats;
            return new JsonObject
            {
                ["frames"] = frames, ["fps"] = fps, ["processed"] = st.Processed, ["dropped"] = st.Dropped,
                ["rss_mb_at_1000"] = Math.Round(rssAt1k / 1048576.0, 1), ["rss_mb_at_end"] = Math.Round(rssEnd / 1048576.0, 1),
                ["managed_mb_at_1000"] = Math.Round(gcAt1k / 1048576.0, 1), ["managed_mb_at_end"] = Math.Round(gcEnd / 1048576.0, 1),
                ["wall_seconds"] = Math.Round(wall.Elapsed.TotalSeconds, 1),
                ["median_latency_ms"] = Math.Round(st.MedianLatencySeconds * 1000, 1),
            };
        }

        private static long CurrentRss()
        {
            using var p = Process.GetCurrentProcess();
            p.Refresh();
            return p.WorkingSet64;
        }

        private static void Print(JsonObject paced, JsonObject? mem)
        {
            var t = new Table().Title("Live session, paced video").AddColumn("measure").AddColumn("value");
            foreach (var kv in paced)
                t.AddRow(Markup.Escape(kv.Key), Markup.Escape(kv.Value?.ToJsonString().Trim('"') ?? ""));
            AnsiConsole.Write(t);
            if (mem == null) return;
            var m = new Table().Title($"Memory over a long session ({mem["frames"]} frames at {mem["fps"]} fps)").AddColumn("measure").AddColumn("value");
            foreach (var kv in mem) m.AddRow(Markup.Escape(kv.Key), Markup.Escape(kv.Value?.ToJsonString() ?? ""));
            AnsiConsole.Write(m);
        }
    }
}
