using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Capture.Sessions;
using FlowMap.Tests.Support;
using FlowMap.Viewer.Cli;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: one flipped byte in a session's info record lost the whole session although every frame was intact, and
    /// a session cut before its results was reported as "recorded with --no-reconstruct". The info record is now written
    /// twice (one damaged copy leaves the other), a damaged file-magic byte is tolerated, and the replay says why a session
    /// has no live results from what the file records. Sessions with one info record (older writers) still read.
    /// </summary>
    public sealed class SessionDamageTests
    {
        /// <summary>(offset, type, total length) of every record of a session file.</summary>
        private static List<(int Offset, int Type, int Length)> Records(byte[] file)
        {
            var list = new List<(int, int, int)>();
            for (int o = SessionFormat.FileMagic.Length; o + SessionFormat.HeaderSize <= file.Length;)
            {
                int type = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(o + 4));
                int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(o + 8));
                list.Add((o, type, SessionFormat.HeaderSize + len));
                o += SessionFormat.HeaderSize + len;
            }
            return list;
        }

        private static List<Frame> ReadAll(string path, out SessionReader reader)
        {
            reader = new SessionReader(path);
            return reader.Frames().ToList();
        }

        [Fact]
        public void One_damaged_byte_before_the_first_frame_loses_nothing()
        {
            using var tmp = new TempDir();
            var path = IssueInputs.Session(tmp.File("a.fmsession"), 3, 24, 16, results: true);
            var original = File.ReadAllBytes(path);
            var records = Records(original);
            Assert.Equal(new[] { SessionFormat.TypeInfo, SessionFormat.TypeInfo }, records.Take(2).Select(r => r.Type));
            var expected = ReadAll(path, out var clean);
            clean.Dispose();
            int firstFrame = records.First(r => r.Type == SessionFormat.TypeFrame).Offset;
            var damaged = tmp.File("d.fmsession");
            // Every byte of the file magic and both info records, each damaged alone (all bits flipped, and one bit).
            foreach (byte mask in new byte[] { 0xFF, 0x01 })
                for (int i = 0; i < firstFrame; i++)
                {
                    var bytes = (byte[])original.Clone();
                    bytes[i] ^= mask;
                    File.WriteAllBytes(damaged, bytes);
                    Assert.True(SessionFileSource.IsSessionFile(damaged), $"byte {i} ^ {mask:X2}: not recognised as a session");
                    var frames = ReadAll(damaged, out var reader);
                    using (reader)
                    {
                        Assert.True(frames.Count == 3, $"byte {i} ^ {mask:X2}: {frames.Count} frames; {string.Join("; ", reader.Problems)}");
                        for (int k = 0; k < 3; k++) Assert.Equal(expected[k].Image.Pixels, frames[k].Image.Pixels);
                        Assert.Equal(24, reader.Info.Width);
                        Assert.Equal(3, reader.Results.Count);
                        Assert.True(reader.Complete);
                    }
                }
        }

        [Fact]
        public void A_damaged_frame_costs_that_frame_only()
        {
            using var tmp = new TempDir();
            var path = IssueInputs.Session(tmp.File("a.fmsession"), 3, 24, 16);
            var bytes = File.ReadAllBytes(path);
            var frame1 = Records(bytes).Where(r => r.Type == SessionFormat.TypeFrame).ElementAt(1);
            bytes[frame1.Offset + frame1.Length / 2] ^= 0x10;
            File.WriteAllBytes(path, bytes);
            var frames = ReadAll(path, out var reader);
            using (reader)
            {
                Assert.Equal(new[] { 0, 2 }, frames.Select(f => f.Index));
                Assert.Contains(reader.Problems, p => p.Contains("checksum mismatch"));
            }
        }

        [Fact]
        public void A_session_with_one_info_record_from_older_writers_still_reads()
        {
            using var tmp = new TempDir();
            var path = IssueInputs.Session(tmp.File("a.fmsession"), 2, 24, 16);
            var bytes = File.ReadAllBytes(path);
            var second = Records(bytes)[1];
            var old = bytes.Take(second.Offset).Concat(bytes.Skip(second.Offset + second.Length)).ToArray();
            File.WriteAllBytes(path, old);
            var frames = ReadAll(path, out var reader);
            using (reader)
            {
                Assert.Equal(2, frames.Count);
                Assert.Empty(reader.Problems);
            }
        }

        [Fact]
        public void A_session_cut_before_its_results_is_not_called_no_reconstruct()
        {
            using var tmp = new TempDir();
            var path = tmp.File("cut.fmsession");
            // Recording with the live reconstruction, killed before any result was stored: no end record.
            var writer = new SessionWriter(path, new SessionInfo("test", 24, 16, 30, "2026-01-01T00:00:00Z", LiveReconstruction: true));
            writer.WriteFrame(new Frame(0, 0, IssueInputs.Textured(24, 16), "000000.png"));
            var bytes = File.ReadAllBytes(path);   // before Dispose writes the end record
            writer.Dispose();
            File.WriteAllBytes(path, bytes);
            using (var src = new SessionFileSource(path))
            {
                while (src.TryRead(out _)) { }
                var why = ReplayCommand.NoResultsReason(src);
                Assert.DoesNotContain("--no-reconstruct", why);
                Assert.Contains("cut before", why);
            }
            var noRecon = IssueInputs.Session(tmp.File("n.fmsession"), 1, 24, 16, results: false);
            using (var src = new SessionFileSource(noRecon))
            {
                while (src.TryRead(out _)) { }
                Assert.Equal("recorded with --no-reconstruct", ReplayCommand.NoResultsReason(src));
            }
        }
    }
}
