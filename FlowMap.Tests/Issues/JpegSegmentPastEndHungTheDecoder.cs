using System;
using System.IO;
using System.Threading.Tasks;
using FlowMap.Capture;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found by the 20-run fresh-seed tally (issue 13): ReaderFuzzTests.Jpeg_decoding hung in one run, a test host spinning in
    /// StbImageSharp's stbi__decode_jpeg_header. The input, read out of a dump of the hung process, was the fuzz test's own
    /// JPEG with one bit flipped: the APP0 segment's length 0x0010 became 0x0410, past the end of the 725-byte file. The
    /// parser skips past the end and then loops forever looking for a marker. An image folder with such a file hung
    /// `reconstruct` (in the size pass, StbImageSharp's ImageInfo, and in decoding). Now every JPEG's marker segments are
    /// walked first (Export/JpegMarkers.cs) and the file is a clear InvalidDataException; the folder skips it with that reason.
    /// </summary>
    public sealed class JpegSegmentPastEndHungTheDecoder
    {
        /// <summary>A hang must fail the test, not block the suite: the call runs on a worker with a generous limit (a
        /// decode of this 17x9 image takes well under a millisecond; the limit is there only to turn a hang into a verdict).</summary>
        private static T NoHang<T>(Func<T> f, string what)
        {
            var task = Task.Run(f);
            Assert.True(task.Wait(TimeSpan.FromSeconds(60)) || task.IsCompleted, $"{what} did not return: hung");
            return task.Result;
        }

        private static byte[] DamagedJpeg()
        {
            var img = IssueInputs.Textured(17, 9);
            using var ms = new MemoryStream();
            new StbImageWriteSharp.ImageWriter().WriteJpg(img.Pixels, img.Width, img.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, ms, 90);
            var b = ms.ToArray();
            // FF D8, FF E0 (APP0, JFIF), length 00 10: the fuzzer's flip of bit 2 of byte 4.
            Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10 }, b[..6]);
            b[4] ^= 0x04;
            return b;
        }

        [Fact]
        public void Decoding_a_jpeg_whose_segment_runs_past_the_end_is_a_clear_error()
        {
            var bytes = DamagedJpeg();
            var e = NoHang(() => Record.Exception(() => PngImage.DecodeRgb(bytes, "cut.jpg")), "DecodeRgb");
            var invalid = Assert.IsType<InvalidDataException>(e);
            Assert.Contains("cut.jpg", invalid.Message);
            Assert.Contains("past the end of the file", invalid.Message);
        }

        [Fact]
        public void An_image_folder_with_such_a_file_skips_it_and_reads_the_others()
        {
            using var tmp = new TempDir();
            var dir = tmp.Sub("in");
            IssueInputs.Images(dir, 3, 17, 9);
            File.WriteAllBytes(Path.Combine(dir, "000001.jpg"), DamagedJpeg()); // sorts between 000001.png and 000002.png
            int frames = NoHang(() =>
            {
                using var source = new ImageFolderSource(dir);
                int n = 0;
                while (source.TryRead(out _)) n++;
                Assert.Contains(source.Warnings, w => w.Contains("000001.jpg") && w.Contains("past the end of the file"));
                return n;
            }, "reading the folder");
            Assert.Equal(3, frames);
        }

        [Fact]
        public void Valid_jpegs_pass_the_marker_walk_with_their_size()
        {
            var img = IssueInputs.Textured(17, 9);
            foreach (int quality in new[] { 10, 50, 90, 100 })
            {
                using var ms = new MemoryStream();
                new StbImageWriteSharp.ImageWriter().WriteJpg(img.Pixels, img.Width, img.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, ms, quality);
                Assert.Equal((17, 9), JpegMarkers.Check(ms.ToArray(), "ok.jpg"));
                Assert.Equal((17, 9), JpegMarkers.Check(ms.ToArray(), "ok.jpg", headerOnly: true));
            }
        }
    }
}
