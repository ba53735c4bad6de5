using System;
using System.IO;
using System.Linq;
using FlowMap.Capture.Sessions;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Capture
{
    public sealed class SessionFileTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("flowmap-session-").FullName;

        public void Dispose() => Directory.Delete(_dir, true);

        private static Frame MakeFrame(Random rng, int i, int w = 37, int h = 23)
        {
            var px = new byte[w * h * 3];
            rng.NextBytes(px);
            for (int k = 0; k < px.Length / 2; k++) px[k] = (byte)(k % 7); // partly compressible
            return new Frame(i, i / 30.0, new RgbImage(w, h, px), $"{i:D6}.png");
        }

        private string Write(int frames, out Frame[] written, int seed)
        {
            var rng = new Random(seed);
            var path = Path.Combine(_dir, $"s{seed}.fmsession");
            written = Enumerable.Range(0, frames).Select(i => MakeFrame(rng, i)).ToArray();
            using var w = new SessionWriter(path, new SessionInfo("test", 37, 23, 30, DateTime.UtcNow.ToString("o")));
            foreach (var f in written)
            {
                w.WriteFrame(f);
                w.WriteResult(new SessionResult(f.Index, $"{{\"frame\":{f.Index}}}"));
            }
            return path;
        }

        [Fact]
        public void Round_trip_keeps_every_frame_bit_exact_and_the_results()
        {
            Rng.Fresh(out int seed);
            var path = Write(9, out var written, seed);
            using var r = new SessionReader(path);
            var read = r.Frames().ToArray();
            Assert.True(r.Complete);
            Assert.Empty(r.Problems);
            Assert.Equal(written.Length, read.Length);
            for (int i = 0; i < read.Length; i++)
            {
                Assert.Equal(written[i].Index, read[i].Index);
                Assert.Equal(written[i].TimestampSeconds, read[i].TimestampSeconds);
                Assert.Equal(written[i].Image.Pixels, read[i].Image.Pixels);
            }
            Assert.Equal(Enumerable.Range(0, 9), r.Results.Select(x => x.FrameIndex));
            Assert.Equal(37, r.Info.Width);
        }

        [Fact]
        public void A_file_cut_anywhere_replays_every_complete_frame_and_reports_the_cut()
        {
            Rng.Fresh(out int seed);
            var path = Write(4, out var written, seed);
            var bytes = File.ReadAllBytes(path);
            // Frame record end offsets, to know how many frames a prefix must yield.
            var rnd = new Random(seed);
            // The info record (file magic, 16-byte header, JSON) must survive for a file to be a session at all;
            // a cut inside it is a clear error, checked below.
            int infoEnd = 8 + 16 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8 + 8));
            var cuts = Enumerable.Range(0, 60).Select(_ => rnd.Next(infoEnd, bytes.Length)).Append(bytes.Length - 1).ToList();
            var early = Path.Combine(_dir, "early.fmsession");
            File.WriteAllBytes(early, bytes.AsSpan(0, rnd.Next(9, infoEnd)).ToArray());
            Assert.Contains("no readable info record", Assert.Throws<InvalidDataException>(() => new SessionReader(early)).Message);
            foreach (int cut in cuts)
            {
                var p = Path.Combine(_dir, "cut.fmsession");
                File.WriteAllBytes(p, bytes.AsSpan(0, cut).ToArray());
                using var r = new SessionReader(p);
                var frames = r.Frames().ToArray();
                Assert.False(r.Complete);
                // Every frame read is one of the written ones, in order, bit-exact.
                for (int i = 0; i < frames.Length; i++) Assert.Equal(written[i].Image.Pixels, frames[i].Image.Pixels);
                // The cut is reported unless it fell exactly between two records.
                if (r.CutAtByte is long at) Assert.True(at < cut, $"cut {cut} reported at {at}");
            }
        }

        [Fact]
        public void A_corrupted_byte_in_the_middle_loses_only_the_damaged_frame()
        {
            Rng.Fresh(out int seed);
            var path = Write(7, out var written, seed);
            var bytes = File.ReadAllBytes(path);
            // Find frame 3's record and flip a byte inside its pixels.
            int offset = FindFramePayload(bytes, 3) + 40;
            bytes[offset] ^= 0x5A;
            File.WriteAllBytes(path, bytes);
            using var r = new SessionReader(path);
            var frames = r.Frames().ToArray();
            Assert.True(r.Complete);
            Assert.Equal(new[] { 0, 1, 2, 4, 5, 6 }, frames.Select(f => f.Index));
            foreach (var f in frames) Assert.Equal(written[f.Index].Image.Pixels, f.Image.Pixels);
            var problem = Assert.Single(r.Problems);
            Assert.Contains("checksum mismatch", problem);
        }

        [Fact]
        public void A_session_reads_as_a_frame_source_with_its_damage_reported()
        {
            Rng.Fresh(out int seed);
            var path = Write(6, out var written, seed);
            Assert.True(SessionFileSource.IsSessionFile(path));
            Assert.False(SessionFileSource.IsSessionFile(path + ".missing"));
            // Cut the last record in half, as a crash would.
            var bytes = File.ReadAllBytes(path);
            var cut = Path.Combine(_dir, "cut.fmsession");
            File.WriteAllBytes(cut, bytes.AsSpan(0, bytes.Length - 40).ToArray());
            using var src = new SessionFileSource(cut);
            Assert.Equal(30.0, src.FramesPerSecond);
            int n = 0;
            while (src.TryRead(out var f))
            {
                Assert.Equal(written[n].Image.Pixels, f.Image.Pixels);
                n++;
            }
            Assert.Equal(6, n); // the end record was cut, every frame survived
            Assert.False(src.Complete);
            Assert.NotNull(src.CutAtByte);
            Assert.Contains(src.Warnings, w => w.Contains("cut at byte"));
        }

        [Fact]
        public void Recorded_results_round_trip_exactly_and_malformed_ones_name_the_frame()
        {
            var pose = CameraPose.FromQuaternion(0.1, -0.2, 0.3, 0.9, 1.5, -2.25, 0.125);
            var r = new RecordedResult(17, 0.5666, pose, 263.25, true, 41.5);
            var back = RecordedResult.Parse(r.ToSessionResult());
            Assert.Equal(17, back.FrameIndex);
            Assert.Equal(263.25, back.Focal);
            Assert.True(back.IsKeyframe);
            for (int i = 0; i < 3; i++) Assert.Equal(pose.T(i), back.Pose.T(i));
            for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) Assert.Equal(pose.R(i, j), back.Pose.R(i, j), 12);
            var e = Assert.Throws<FormatException>(() => RecordedResult.Parse(new SessionResult(9, "{\"frame\":9,\"pose\":[1,2]}")));
            Assert.Contains("frame 9", e.Message);
        }

        [Fact]
        public void Not_a_session_is_a_clear_error()
        {
            var p = Path.Combine(_dir, "x.fmsession");
            File.WriteAllText(p, "hello, not a session");
            var e = Assert.Throws<InvalidDataException>(() => new SessionReader(p));
            Assert.Contains("not a FlowMap session", e.Message);
            Assert.Throws<FileNotFoundException>(() => new SessionReader(Path.Combine(_dir, "missing.fmsession")));
        }

        [Fact]
        public void An_existing_session_is_never_overwritten()
        {
            Rng.Fresh(out int seed);
            var path = Write(1, out _, seed);
            Assert.Throws<IOException>(() => new SessionWriter(path, new SessionInfo("t", 1, 1, 0, "")));
        }

        private static int FindFramePayload(byte[] bytes, int frameIndex)
        {
            int pos = SessionFormat.FileMagic.Length;
            while (pos + SessionFormat.HeaderSize <= bytes.Length)
            {
                int type = BitConverter.ToInt32(bytes, pos + 4);
                int len = BitConverter.ToInt32(bytes, pos + 8);
                if (type == SessionFormat.TypeFrame && BitConverter.ToInt32(bytes, pos + SessionFormat.HeaderSize) == frameIndex)
                    return pos + SessionFormat.HeaderSize;
                pos += SessionFormat.HeaderSize + len;
            }
            throw new InvalidOperationException("frame not found");
        }
    }
}
