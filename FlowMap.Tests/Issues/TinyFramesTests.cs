using System.IO;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: `reconstruct` on a folder of 1x1 images (online and offline) died with an unhandled ArgumentException
    /// (exit 134) and left an output folder with empty depth/ and confidence/; `view DIR --screenshot` on the same folder
    /// hung forever (the pipeline thread died, the reader waited for room in the queue). Frames under 16x16 are now a
    /// one-line error naming the frame, with no output left, and the view ends with that error.
    /// </summary>
    public sealed class TinyFramesTests
    {
        [Theory]
        [InlineData(1, "online")]
        [InlineData(2, "offline")]
        [InlineData(15, "online")]
        public void Reconstruct_refuses_frames_under_16_pixels_and_writes_nothing(int side, string mode)
        {
            using var tmp = new TempDir();
            var input = IssueInputs.Images(tmp.Sub("in"), 4, side, side);
            var outDir = tmp.File("out");
            var r = CliProcess.Run(new[] { "reconstruct", input, "--out", outDir, "--mode", mode });
            IssueInputs.OneLineError(r, 2, $"is {side}x{side}: too small to reconstruct");
            IssueInputs.NoOutput(outDir);
        }

        [Fact]
        public void View_of_tiny_frames_ends_with_an_error_instead_of_hanging()
        {
            using var tmp = new TempDir();
            var input = IssueInputs.Images(tmp.Sub("in"), 4, 1, 1);
            var r = CliProcess.Run(new[] { "view", input, "--screenshot", tmp.File("s.png") }, timeoutMs: 120_000);
            IssueInputs.OneLineError(r, 2, "too small to reconstruct");
            Assert.False(File.Exists(tmp.File("s.png")));
        }
    }
}
