using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using FlowMap.Capture;
using FlowMap.Capture.Sessions;
using FlowMap.Export;
using FlowMap.Synthetic;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Capture
{
    /// <summary>
    /// `flowmap record` / `flowmap replay` end to end, as separate processes: a recording killed with SIGKILL replays
    /// every complete frame bit-exact and says where it was cut; a corrupted byte costs one frame; two replays are
    /// identical; a lossless live run's recorded poses equal its replay's.
    /// </summary>
    [Collection("cli-heavy")]
    public sealed class RecordReplayTests : IDisposable
    {
        private readonly TempDir _tmp = new TempDir("flowmap-record-");
        public void Dispose() => _tmp.Dispose();

        private string MakeVideo(int frames, double fps) => TestVideos.SyntheticWalk(_tmp.Path, frames, fps);

        private static List<Frame> Decode(string video)
        {
            using var src = new VideoFileSource(video);
            var list = new List<Frame>();
            while (src.TryRead(out var f)) list.Add(f);
            return list;
        }

        private static JsonElement Json(string stdout) => JsonDocument.Parse(stdout.Trim().Split('\n').Last()).RootElement.Clone();

        [Fact]
        public void A_recording_killed_with_sigkill_replays_every_complete_frame_and_reports_the_cut()
        {
            // 60 frames paced at 4 fps: a 15 s recording (a wide margin on a loaded machine), killed after a few frames.
            var video = MakeVideo(60, 4);
            var session = _tmp.File("killed.fmsession");
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "flowmap.dll"), "record", video, "--out", session, "--no-reconstruct" })
                psi.ArgumentList.Add(a);
            long killedAt;
            using (var p = Process.Start(psi)!)
            {
                var sw = Stopwatch.StartNew();
                // Wait until some frames are on disk (each 128x96 frame record is at least a few kB).
                while ((!File.Exists(session) || new FileInfo(session).Length < 100_000) && sw.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited)
                    Thread.Sleep(50);
                if (p.HasExited) Assert.Fail("the recording ended before it could be killed: " + p.StandardError.ReadToEnd());
                killedAt = new FileInfo(session).Length;
                p.Kill(); // SIGKILL on Linux: no finally blocks, no flush, no end record
                p.WaitForExit();
            }

            var truth = Decode(video);
            using (var src = new SessionFileSource(session))
            {
                var got = new List<Frame>();
                while (src.TryRead(out var f)) got.Add(f);
                Assert.False(src.Complete, $"the session has an end record after SIGKILL ({got.Count} frames, {new FileInfo(session).Length} bytes, killed at {killedAt} bytes)");
                Assert.InRange(got.Count, 3, 59);                      // cut mid-way
                for (int i = 0; i < got.Count; i++)                    // every complete frame, bit-exact, in order
                {
                    Assert.Equal(i, got[i].Index);
                    Assert.Equal(truth[i].Image.Pixels, got[i].Image.Pixels);
                }
            }

            // The CLI replays it and says it was cut off.
            var (code, stdout, stderr) = CliProcess.Run(new[] { "replay", session, "--json", "--size", "64x48" }, timeoutMs: 600_000);
            Assert.True(code == 0, stderr);
            var j = Json(stdout);
            Assert.False(j.GetProperty("complete").GetBoolean());
            Assert.True(j.GetProperty("frames").GetInt32() >= 3);
            Assert.Equal(j.GetProperty("frames").GetInt32(), j.GetProperty("poses").GetInt32());
        }

        [Fact]
        public void Lossless_live_results_equal_the_replay_and_two_replays_are_identical_and_a_corrupt_frame_is_skipped()
        {
            var video = MakeVideo(14, 30);
            var session = _tmp.File("live.fmsession");
            var (code, stdout, stderr) = CliProcess.Run(new[] { "record", video, "--out", session, "--lossless", "--no-pace", "--size", "64x48", "--json" }, timeoutMs: 600_000);
            Assert.True(code == 0, stdout + stderr);
            var rec = Json(stdout);
            Assert.Equal(14, rec.GetProperty("frames").GetInt32());
            Assert.Equal(0, rec.GetProperty("dropped").GetInt64());
            Assert.Equal(14, rec.GetProperty("processed").GetInt64());

            // Replay 1 and 2: identical trajectories; both equal the live run's recorded poses.
            var outs = new[] { _tmp.File("replay1"), _tmp.File("replay2") };
            foreach (var o in outs)
            {
                (code, stdout, stderr) = CliProcess.Run(new[] { "replay", session, "--out", o, "--size", "64x48", "--json" }, timeoutMs: 600_000);
                Assert.True(code == 0, stdout + stderr);
                var j = Json(stdout);
                Assert.True(j.GetProperty("complete").GetBoolean());
                var c = j.GetProperty("compared_with_recording");
                Assert.Equal(14, c.GetProperty("frames").GetInt32());
                Assert.Equal(0.0, c.GetProperty("max_translation_diff").GetDouble());
                Assert.Equal(0.0, c.GetProperty("max_rotation_diff_deg").GetDouble());
            }
            Assert.Equal(File.ReadAllText(Path.Combine(outs[0], "trajectory.txt")), File.ReadAllText(Path.Combine(outs[1], "trajectory.txt")));
            Assert.Equal(14, File.ReadAllLines(Path.Combine(outs[0], "trajectory.txt")).Count(l => l.Length > 0 && !l.StartsWith("#")));

            // One corrupted byte in the middle of frame 7's record: that frame is reported and skipped, the rest replays.
            var bytes = File.ReadAllBytes(session);
            long at = FrameRecordOffset(bytes, 7) + 16 + 100;
            bytes[at] ^= 0x5A;
            var damaged = _tmp.File("damaged.fmsession");
            File.WriteAllBytes(damaged, bytes);
            (code, stdout, stderr) = CliProcess.Run(new[] { "replay", damaged, "--size", "64x48", "--json" }, timeoutMs: 600_000);
            Assert.True(code == 0, stdout + stderr);
            var d = Json(stdout);
            Assert.Equal(13, d.GetProperty("frames").GetInt32());
            Assert.Contains(d.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("checksum mismatch"));
        }

        /// <summary>Byte offset of the record holding frame <paramref name="index"/> (walks the record headers).</summary>
        private static long FrameRecordOffset(byte[] file, int index)
        {
            long pos = 8;
            while (pos + 16 <= file.Length)
            {
                uint type = BitConverter.ToUInt32(file, (int)pos + 4), len = BitConverter.ToUInt32(file, (int)pos + 8);
                if (type == 2 && BitConverter.ToInt32(file, (int)pos + 16) == index) return pos;
                pos += 16 + len;
            }
            throw new InvalidOperationException("frame record not found");
        }
    }
}
