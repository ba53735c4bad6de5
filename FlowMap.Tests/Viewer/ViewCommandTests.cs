using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Export;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Viewer
{
    /// <summary>`flowmap view` as a process: headless screenshots, and the one-line errors.</summary>
    public sealed class ViewCommandTests
    {
        private static readonly Dictionary<string, string> NoDisplay = new Dictionary<string, string> { ["DISPLAY"] = "", ["WAYLAND_DISPLAY"] = "" };

        private static void SkipWithoutDevice(int exitCode, string stderr)
        {
            if (exitCode == 3 && !GpuFixture.GpuRequired) Assert.Skip("No Vulkan device that can draw: " + stderr.Trim());
        }

        [Fact]
        public void Screenshot_through_frame_zero_reproduces_frame_zero()
        {
            using var tmp = new TempDir();
            var (k, _) = SyntheticFolders.WriteSynthetic(tmp.Sub("seq"), frames: 6);
            var png = tmp.File("shot.png");
            var (code, stdout, stderr) = CliProcess.Run(new[]
            {
                "view", tmp.File("seq"), "--screenshot", png, "--size", $"{k.Width}x{k.Height}", "--camera", "frame:0",
                "--hide", "grid,axes,trajectory,cameras,inset,text", "--point-scale", "0.3", // small splats: pixel-accurate colours
            }, NoDisplay);
            SkipWithoutDevice(code, stderr);
            Assert.True(code == 0, $"exit {code}: {stderr}");
            Assert.Contains("wrote", stdout);
            var shot = PngImage.ReadRgb(png);
            var truth = PngImage.ReadRgb(tmp.File("seq", "color", "000000.png"));
            Assert.Equal((truth.Width, truth.Height), (shot.Width, shot.Height));
            // The ground-truth cloud seen through frame 0's own camera is frame 0's image, up to splat edges.
            int close = 0, n = truth.Width * truth.Height;
            for (int i = 0; i < n; i++)
            {
                int d = Math.Abs(shot.Pixels[3 * i] - truth.Pixels[3 * i]) + Math.Abs(shot.Pixels[3 * i + 1] - truth.Pixels[3 * i + 1]) +
                        Math.Abs(shot.Pixels[3 * i + 2] - truth.Pixels[3 * i + 2]);
                if (d <= 24) close++;
            }
            Assert.True(close > 0.9 * n, $"only {close} of {n} pixels match frame 0's image");
        }

        [Fact]
        public void Screenshot_of_a_reconstruction_folder_with_all_layers()
        {
            using var tmp = new TempDir();
            SyntheticFolders.WriteReconstruction(tmp.Sub("out"), frames: 6);
            var png = tmp.File("sub", "view.png");
            var (code, _, stderr) = CliProcess.Run(new[] { "view", tmp.File("out"), "--screenshot", png, "--size", "320x200" }, NoDisplay);
            SkipWithoutDevice(code, stderr);
            Assert.True(code == 0, $"exit {code}: {stderr}");
            var img = PngImage.ReadRgb(png);
            Assert.Equal((320, 200), (img.Width, img.Height));
            int distinct = img.Pixels.Chunk(3).Select(p => (p[0] << 16) | (p[1] << 8) | p[2]).Distinct().Count();
            Assert.True(distinct > 20, $"the image has only {distinct} colours");
        }

        [Fact]
        public void Window_without_a_display_says_so()
        {
            using var tmp = new TempDir();
            SyntheticFolders.WriteReconstruction(tmp.Path, frames: 3);
            var (code, _, stderr) = CliProcess.Run(new[] { "view", tmp.Path }, NoDisplay);
            Assert.Equal(4, code);
            Assert.Contains("No display", stderr);
            Assert.Contains("--screenshot", stderr);
        }

        [Fact]
        public void Missing_and_corrupt_files_are_named_in_one_line()
        {
            using var tmp = new TempDir();
            SyntheticFolders.WriteReconstruction(tmp.Path, frames: 3);
            File.Delete(tmp.File("trajectory.txt"));
            var (code, _, stderr) = CliProcess.Run(new[] { "view", tmp.Path, "--screenshot", tmp.File("x.png") }, NoDisplay);
            Assert.Equal(2, code);
            Assert.Contains("trajectory.txt", stderr);
            Assert.Single(stderr.Trim().Split('\n'));

            File.WriteAllText(tmp.File("trajectory.txt"), "0 0 0 0 0 0 0 1\n1 0 0 nan 0 0 0 1\n");
            (code, _, stderr) = CliProcess.Run(new[] { "view", tmp.Path, "--screenshot", tmp.File("x.png") }, NoDisplay);
            Assert.Equal(2, code);
            Assert.Contains("trajectory.txt", stderr);
            Assert.False(File.Exists(tmp.File("x.png")));

            (code, _, stderr) = CliProcess.Run(new[] { "view", tmp.File("nowhere") }, NoDisplay);
            Assert.Equal(2, code);
            Assert.Contains("does not exist", stderr);

            (code, _, stderr) = CliProcess.Run(new[] { "view", tmp.Path, "--screenshot", tmp.File("x.png"), "--camera", "sideways" }, NoDisplay);
            Assert.Equal(2, code);
            Assert.Contains("not a camera", stderr);
        }

        [Fact]
        public void No_vulkan_device_is_a_clear_error()
        {
            using var tmp = new TempDir();
            SyntheticFolders.WriteReconstruction(tmp.Path, frames: 3);
            // Point the Vulkan loader at a driver list that does not exist: it then finds no device.
            var env = new Dictionary<string, string>(NoDisplay)
            {
                ["VK_ICD_FILENAMES"] = tmp.File("no-driver.json"), ["VK_DRIVER_FILES"] = tmp.File("no-driver.json"),
            };
            var (code, _, stderr) = CliProcess.Run(new[] { "view", tmp.Path, "--screenshot", tmp.File("x.png") }, env);
            Assert.Equal(3, code);
            Assert.Contains("Vulkan", stderr);
            Assert.Contains("mesa-vulkan-drivers", stderr);
            Assert.False(File.Exists(tmp.File("x.png")));
        }
    }
}