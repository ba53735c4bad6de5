using System.Collections.Generic;
using System.IO;
using FlowMap.Capture;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: one odd-sized first frame made the other 8 of 9 frames "skipped" with exit 0. The sequence's size is now
    /// the size most images declare, so the odd one is the one skipped (and reported).
    /// </summary>
    public sealed class OddSizedFirstFrameTests
    {
        [Fact]
        public void An_odd_first_frame_is_skipped_and_the_rest_are_read()
        {
            using var tmp = new TempDir();
            var dir = IssueInputs.Images(tmp.Sub("in"), 9, 40, 30);
            PngImage.WriteRgb(Path.Combine(dir, "000000.png"), IssueInputs.Textured(20, 20));
            using var src = new ImageFolderSource(dir);
            var read = new List<int>();
            while (src.TryRead(out var f)) { read.Add(f.Index); Assert.Equal(40, f.Image.Width); Assert.Equal(30, f.Image.Height); }
            Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7, 8 }, read);
            Assert.Contains(src.Warnings, w => w.StartsWith("frame 0 (000000.png): size 20x20 differs from the sequence's 40x30"));
        }
    }
}
