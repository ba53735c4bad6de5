using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FlowMap.Capture;
using FlowMap.Capture.Sessions;
using FlowMap.Export;
using FlowMap.Tests.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Capture
{
    public sealed class ImageFolderSourceTests
    {
        private static List<Frame> ReadAll(IFrameSource s)
        {
            var list = new List<Frame>();
            while (s.TryRead(out var f)) list.Add(f);
            return list;
        }

        [Fact]
        public void Frames_come_in_name_order_and_damaged_or_odd_sized_images_are_reported_skips()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var images = Enumerable.Range(0, 5).Select(_ => PngImageTests.RandomImage(r, 37, 23)).ToArray();
            // Written out of order on purpose: the order must come from the names.
            foreach (var i in new[] { 3, 0, 4, 1, 2 }) PngImage.WriteRgb(tmp.File($"f{i * 2:D3}.png"), images[i]); // f000 f002 f004 f006 f008
            PngImage.WriteRgb(tmp.File("f001.png"), images[0]);
            var b = File.ReadAllBytes(tmp.File("f001.png"));
            File.WriteAllBytes(tmp.File("f001.png"), b.AsSpan(0, b.Length / 2).ToArray());      // truncated PNG
            PngImage.WriteRgb(tmp.File("f003.png"), images[1]);
            var c = File.ReadAllBytes(tmp.File("f003.png")); c[c.Length / 2] ^= 0x10;
            File.WriteAllBytes(tmp.File("f003.png"), c);                                          // corrupt PNG
            PngImage.WriteRgb(tmp.File("f005.png"), PngImageTests.RandomImage(r, 20, 20));      // other size
            File.WriteAllText(tmp.File("notes.txt"), "not an image");

            using var src = new ImageFolderSource(tmp.Path);
            Assert.Equal(8, src.FrameCount);
            var frames = ReadAll(src);
            Assert.Equal(new[] { "f000.png", "f002.png", "f004.png", "f006.png", "f008.png" }, frames.Select(f => f.Name));
            Assert.Equal(new[] { 0, 2, 4, 6, 7 }, frames.Select(f => f.Index));
            for (int i = 0; i < 5; i++) Assert.True(images[i].Pixels.AsSpan().SequenceEqual(frames[i].Image.Pixels), $"seed {seed}: frame {i}");
            Assert.Equal(2 / 30.0, frames[1].TimestampSeconds, 12);
            Assert.Equal(3, src.Warnings.Count);
            Assert.Contains("frame 1 (f001.png)", src.Warnings[0]);
            Assert.Contains("truncated", src.Warnings[0]);
            Assert.Contains("frame 3 (f003.png)", src.Warnings[1]);
            Assert.Contains("frame 5 (f005.png): size 20x20 differs from the sequence's 37x23, skipped", src.Warnings[2]);
            Assert.False(src.TryRead(out _));
        }

        [Fact]
        public void Empty_or_missing_folder_is_an_error()
        {
            using var tmp = new TempDir();
            Assert.Throws<InvalidDataException>(() => new ImageFolderSource(tmp.Path));
            Assert.Throws<DirectoryNotFoundException>(() => new ImageFolderSource(tmp.File("nope")));
        }
    }

    public sealed class VideoFileSourceTests
    {
        private static void Ffmpeg(params string[] args)
        {
            var (code, _, err) = ExternalTools.Run(ExternalTools.Which("ffmpeg")!, new[] { "-hide_banner", "-loglevel", "error", "-y" }.Concat(args).ToArray());
            Assert.True(code == 0, "ffmpeg failed: " + err);
        }

        private static void RequireFfmpeg()
        {
            if (ExternalTools.Which("ffmpeg") == null || ExternalTools.Which("ffprobe") == null) Assert.Skip("ffmpeg/ffprobe are not installed (Debian ffmpeg).");
        }

        /// <summary>Writes n random PNGs and encodes them at 10 fps with the given codec arguments.</summary>
        private static RgbImage[] MakeVideo(TempDir tmp, string name, int n, int w, int h, Random r, params string[] codec)
        {
            var dir = tmp.Sub("png_" + name);
            var imgs = Enumerable.Range(0, n).Select(_ => PngImageTests.RandomImage(r, w, h)).ToArray();
            for (int i = 0; i < n; i++) PngImage.WriteRgb(Path.Combine(dir, $"{i:D4}.png"), imgs[i]);
            Ffmpeg(new[] { "-framerate", "10", "-i", Path.Combine(dir, "%04d.png") }.Concat(codec).Append(tmp.File(name)).ToArray());
            return imgs;
        }

        [Fact]
        public void Lossless_video_streams_every_frame_exactly_with_its_time()
        {
            RequireFfmpeg();
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var imgs = MakeVideo(tmp, "v.mkv", 12, 38, 22, r, "-c:v", "ffv1", "-pix_fmt", "bgr0");
            using var src = new VideoFileSource(tmp.File("v.mkv"));
            Assert.Equal(10, src.FramesPerSecond);
            Assert.Equal(12, src.FrameCount);
            Assert.Contains("38x22", src.Description);
            int k = 0;
            while (src.TryRead(out var f))
            {
                Assert.Equal(k, f.Index);
                Assert.Equal($"{k:D6}.png", f.Name);
                Assert.Equal(k * 0.1, f.TimestampSeconds, 6);
                Assert.True(imgs[k].Pixels.AsSpan().SequenceEqual(f.Image.Pixels), $"seed {seed}: frame {k} differs");
                k++;
            }
            Assert.Equal(12, k);
            Assert.Empty(src.Warnings);
        }

        [Fact]
        public void Truncated_video_ends_early_and_reports_the_truncation()
        {
            RequireFfmpeg();
            using var tmp = new TempDir();
            MakeVideo(tmp, "full.mp4", 10, 64, 48, new Random(5), "-c:v", "mpeg4", "-q:v", "3", "-movflags", "+faststart");
            var bytes = File.ReadAllBytes(tmp.File("full.mp4"));
            File.WriteAllBytes(tmp.File("cut.mp4"), bytes.AsSpan(0, bytes.Length / 2).ToArray());
            using var src = new VideoFileSource(tmp.File("cut.mp4"));
            int n = 0;
            while (src.TryRead(out var f)) { Assert.Equal(64, f.Image.Width); n++; }
            Assert.InRange(n, 1, 8);
            Assert.Contains(src.Warnings, w => w.Contains($"ended after {n} of 10 frames") && w.Contains("truncated"));
        }

        [Fact]
        public void Damage_inside_a_video_is_reported_and_disposing_early_stops_ffmpeg()
        {
            RequireFfmpeg();
            using var tmp = new TempDir();
            MakeVideo(tmp, "ok.mp4", 10, 64, 48, new Random(9), "-c:v", "mpeg4", "-q:v", "3", "-movflags", "+faststart");
            var bytes = File.ReadAllBytes(tmp.File("ok.mp4"));
            var r = new Random(1);
            for (int i = bytes.Length / 2; i < bytes.Length / 2 + 400; i++) bytes[i] = (byte)r.Next(256);
            File.WriteAllBytes(tmp.File("damaged.mp4"), bytes);
            using (var src = new VideoFileSource(tmp.File("damaged.mp4")))
            {
                int n = 0;
                while (src.TryRead(out _)) n++;
                Assert.InRange(n, 1, 10);
                Assert.Contains(src.Warnings, w => w.StartsWith("ffmpeg: ", StringComparison.Ordinal) && (w.Contains("corrupt") || w.Contains("error") || w.Contains("concealing")));
            }

            var early = new VideoFileSource(tmp.File("ok.mp4"));
            Assert.True(early.TryRead(out _));
            int pid = early.Pipe.ProcessId;
            early.Dispose();
            Assert.False(Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("ffmpeg"), $"ffmpeg (pid {pid}) still runs after Dispose");
        }

        [Fact]
        public void A_file_that_is_no_video_is_an_error_naming_it()
        {
            RequireFfmpeg();
            using var tmp = new TempDir();
            var junk = tmp.File("junk.mp4");
            File.WriteAllBytes(junk, Enumerable.Range(0, 3000).Select(i => (byte)(i * 7919 % 251)).ToArray());
            var e = Assert.Throws<InvalidDataException>(() => new VideoFileSource(junk));
            Assert.Contains("junk.mp4", e.Message);
            Assert.Contains("not a readable video", e.Message);
        }

        [Fact]
        public void A_resolution_change_mid_stream_is_detected()
        {
            RequireFfmpeg();
            using var tmp = new TempDir();
            Ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "6", "-c:v", "mpeg2video", tmp.File("a.ts"));
            Ffmpeg("-f", "lavfi", "-i", "testsrc=size=80x60:rate=10", "-frames:v", "6", "-c:v", "mpeg2video", tmp.File("b.ts"));
            File.WriteAllBytes(tmp.File("ab.ts"), File.ReadAllBytes(tmp.File("a.ts")).Concat(File.ReadAllBytes(tmp.File("b.ts"))).ToArray());
            using var src = new VideoFileSource(tmp.File("ab.ts"));
            int n = 0;
            var e = Assert.Throws<InvalidDataException>(() => { while (src.TryRead(out _)) n++; });
            Assert.Contains("ab.ts", e.Message);
            Assert.Contains("from 64x48 to 80x60", e.Message);
            Assert.InRange(n, 4, 6);
        }

        [Fact]
        public void Real_time_pacing_is_never_faster_than_the_frame_rate()
        {
            RequireFfmpeg();
            using var tmp = new TempDir();
            MakeVideo(tmp, "p.mkv", 6, 16, 16, new Random(1), "-c:v", "ffv1");
            var sw = Stopwatch.StartNew();
            using var src = FrameSources.Open(tmp.File("p.mkv"), realTime: true);
            int n = 0;
            while (src.TryRead(out _)) n++;
            Assert.Equal(6, n);
            // A lower bound only (the sixth frame is due at 0.5 s): a paced source can be late, never early.
            Assert.True(sw.Elapsed.TotalSeconds >= 0.45, $"6 frames at 10 fps arrived in {sw.Elapsed.TotalSeconds:F2} s");
        }
    }

    public sealed class CameraAndFrameSourcesTests
    {
        [Fact]
        public void Missing_camera_is_a_clear_error_naming_the_device()
        {
            if (File.Exists("/dev/video97")) Assert.Skip("/dev/video97 exists on this machine.");
            var e = Assert.Throws<IOException>(() => new CameraSource("/dev/video97"));
            Assert.Contains("/dev/video97", e.Message);
            var e2 = Assert.Throws<IOException>(() => FrameSources.Open("camera:97"));
            Assert.Contains("/dev/video97", e2.Message);
        }

        [Fact]
        public void Open_chooses_by_what_the_path_is_and_registered_factories_come_first()
        {
            using var tmp = new TempDir();
            var dir = tmp.Sub("imgs");
            PngImage.WriteRgb(Path.Combine(dir, "a.png"), new RgbImage(4, 3));
            using (var s = FrameSources.Open(dir)) Assert.IsType<ImageFolderSource>(s);

            var session = tmp.File("rec.fmsession");
            using (var w = new SessionWriter(session, new SessionInfo("test", 4, 3, 25, DateTime.UtcNow.ToString("o"))))
                for (int i = 0; i < 3; i++) w.WriteFrame(new Frame(i, i / 25.0, new RgbImage(4, 3, Enumerable.Repeat((byte)(i * 10), 36).ToArray()), $"{i:D6}.png"));
            using (var s = FrameSources.Open(session))
            {
                Assert.IsType<SessionFileSource>(s);
                var got = new List<Frame>();
                while (s.TryRead(out var f)) got.Add(f);
                Assert.Equal(new[] { 0, 1, 2 }, got.Select(f => f.Index));
                Assert.Equal(20, got[2].Image.Pixels[5]);
                Assert.Equal(25, s.FramesPerSecond);
                Assert.Empty(s.Warnings);
            }

            Assert.Throws<FileNotFoundException>(() => FrameSources.Open(tmp.File("missing.mp4")));

            var marker = tmp.File("special.xyz");
            File.WriteAllText(marker, "x");
            using (FrameSources.Register(p => p.EndsWith(".xyz", StringComparison.Ordinal) ? new ImageFolderSource(dir) : null))
            using (var s = FrameSources.Open(marker))
                Assert.IsType<ImageFolderSource>(s);
            // Unregistered again: the same path now goes to the video reader, which refuses it.
            if (ExternalTools.Which("ffprobe") != null)
                Assert.Throws<InvalidDataException>(() => FrameSources.Open(marker));
        }
    }
}
