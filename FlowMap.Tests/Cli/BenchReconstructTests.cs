using System;
using FlowMap.Viewer.Cli;
using Xunit;

namespace FlowMap.Tests.Cli
{
    /// <summary>`flowmap bench reconstruct --encodings`: the frames as a user's files would bring them, and argument errors.</summary>
    public sealed class BenchReconstructTests
    {
        private static RgbImage Gradient(int w, int h)
        {
            var img = new RgbImage(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = 3 * (y * w + x);
                    img.Pixels[i] = (byte)(4 * x); img.Pixels[i + 1] = (byte)(3 * y); img.Pixels[i + 2] = (byte)(2 * (x + y));
                }
            return img;
        }

        [Fact]
        public void Png_is_the_frame_grey_is_its_luminance_jpeg_is_close_to_it()
        {
            var img = Gradient(37, 29); // odd sizes: JPEG's 8x8 blocks and 2x2 chroma subsampling are padded
            Assert.Same(img, BenchReconstruct.Encode(img, "png"));
            var grey = BenchReconstruct.Encode(img, "grey");
            for (int i = 0; i < grey.Pixels.Length; i += 3)
            {
                double y = 0.299 * img.Pixels[i] + 0.587 * img.Pixels[i + 1] + 0.114 * img.Pixels[i + 2];
                Assert.True(Math.Abs(grey.Pixels[i] - y) <= 0.5 + 1e-9 && grey.Pixels[i + 1] == grey.Pixels[i] && grey.Pixels[i + 2] == grey.Pixels[i], $"pixel {i / 3}");
            }
            var jpeg = BenchReconstruct.Encode(img, "jpeg90");
            Assert.Equal((img.Width, img.Height), (jpeg.Width, jpeg.Height));
            // Quality 90 on a smooth gradient: a few levels of error per channel on average (lossy, not a copy).
            double sum = 0;
            int same = 0;
            for (int i = 0; i < img.Pixels.Length; i++) { sum += Math.Abs(jpeg.Pixels[i] - img.Pixels[i]); if (jpeg.Pixels[i] == img.Pixels[i]) same++; }
            double mean = sum / img.Pixels.Length;
            Assert.True(mean < 4, $"mean absolute error {mean} levels");
            Assert.True(same < img.Pixels.Length, "the JPEG round trip returned the frame unchanged");
        }

        [Fact]
        public void The_held_past_of_the_window_solves_is_counted_and_its_first_release_named()
        {
            static FlowMap.Session.WindowSolveTiming W(FlowMap.Session.HeldPast p) => new FlowMap.Session.WindowSolveTiming(6, 2, 40, 1, 2, p);
            var none = FlowMap.Session.HeldPast.None; var kept = FlowMap.Session.HeldPast.Kept; var released = FlowMap.Session.HeldPast.Released;
            var solves = new[] { W(none), W(kept), W(kept), W(released), W(kept), W(released) };
            Assert.Equal(3, BenchReconstruct.FirstReleased(solves));
            Assert.Null(BenchReconstruct.FirstReleased(new[] { W(none), W(kept) }));
            var json = BenchLive.WindowSolves(new FlowMap.Session.SessionResult { WindowSolves = solves })!;
            Assert.Equal(3, (int)json["held_past_kept"]!);
            Assert.Equal(2, (int)json["held_past_released"]!);
            Assert.Equal(3, (int)json["first_released"]!);
            var row = new BenchReconstruct.BenchRow { WindowsKept = 3, WindowsReleased = 2, FirstReleasedWindow = 3 };
            Assert.Contains("held past kept/released in 3/2 windows (first released: window 3)", row.Short());
            Assert.DoesNotContain("held past", new BenchReconstruct.BenchRow().Short()); // offline: no window solves
        }

        [Fact]
        public void An_unknown_encoding_fails_with_one_line()
        {
            var (code, _, stderr) = CliProcess.Run(new[] { "bench", "reconstruct", "--sequences", "walk", "--encodings", "png,webp" });
            Assert.Equal(2, code);
            Assert.Contains("Unknown encoding 'webp'", stderr);
        }
    }
}
