using System.IO;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Cli
{
    /// <summary>`flowmap view INPUT` on a live input (a video): the session runs the reconstruction and the viewer draws it.</summary>
    [Collection("cli-heavy")]
    public sealed class ViewLiveTests
    {
        [Fact]
        public void View_of_a_video_reconstructs_it_and_writes_a_picture_of_the_result()
        {
            using var tmp = new TempDir();
            var video = TestVideos.SyntheticWalk(tmp.Path, 10, 30);
            var png = tmp.File("live.png");
            var (code, stdout, stderr) = CliProcess.Run(new[] { "view", video, "--screenshot", png, "--size", "320x200", "--processing-size", "64x48" }, timeoutMs: 600_000);
            Assert.True(code == 0, stdout + stderr);
            Assert.Contains("10 poses", stdout);
            var img = PngImage.ReadRgb(png);
            Assert.Equal(320, img.Width);
            // Not blank: the points and the trajectory put many distinct colours on the background.
            var colours = new System.Collections.Generic.HashSet<int>();
            for (int i = 0; i < img.Pixels.Length; i += 3) colours.Add(img.Pixels[i] << 16 | img.Pixels[i + 1] << 8 | img.Pixels[i + 2]);
            Assert.True(colours.Count > 50, $"only {colours.Count} colours in the picture");
        }

        [Fact]
        public void View_of_a_missing_input_names_it()
        {
            var (code, _, stderr) = CliProcess.Run(new[] { "view", "/nonexistent/clip.mp4", "--screenshot", "/tmp/never.png" });
            Assert.NotEqual(0, code);
            Assert.Contains("/nonexistent/clip.mp4", stderr);
        }
    }
}
