using System.IO;
using FlowMap.Capture;
using FlowMap.Export;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: a single PNG given as input was opened by ffmpeg as a "25 fps video", and a folder with a single image
    /// was reconstructed with a "static camera" warning and exit 0. Both are now one-line errors: one image is not a
    /// stream of frames.
    /// </summary>
    public sealed class SingleImageInputTests
    {
        [Fact]
        public void A_single_image_file_is_not_opened_as_a_video()
        {
            using var tmp = new TempDir();
            var png = tmp.File("a.png");
            PngImage.WriteRgb(png, IssueInputs.Textured(32, 24));
            var e = Assert.Throws<InvalidDataException>(() => FrameSources.Open(png));
            Assert.Contains("single image", e.Message);
            var renamed = tmp.File("a.video");           // a PNG by its signature, whatever its name
            File.Copy(png, renamed);
            Assert.Throws<InvalidDataException>(() => FrameSources.Open(renamed));
            IssueInputs.OneLineError(CliProcess.Run(new[] { "reconstruct", png, "--out", tmp.File("o") }), 2, "single image");
            IssueInputs.NoOutput(tmp.File("o"));
        }

        [Fact]
        public void A_folder_with_one_image_is_refused()
        {
            using var tmp = new TempDir();
            var dir = IssueInputs.Images(tmp.Sub("in"), 1, 32, 24);
            IssueInputs.OneLineError(CliProcess.Run(new[] { "reconstruct", dir, "--out", tmp.File("o") }), 2, "at least two frames");
            IssueInputs.NoOutput(tmp.File("o"));
        }
    }
}
