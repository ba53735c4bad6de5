using System.Diagnostics;
using System.Globalization;
using System.IO;
using FlowMap.Export;
using FlowMap.Synthetic;
using Xunit;

namespace FlowMap.Tests.Support
{
    /// <summary>Small videos of the built-in synthetic walk, for tests of live inputs (record, replay, view).</summary>
    public static class TestVideos
    {
        /// <summary>
        /// Renders <paramref name="frames"/> frames of the room walk at <paramref name="width"/> x <paramref name="height"/> and
        /// encodes them losslessly (FFV1 in Matroska) at <paramref name="fps"/> into <paramref name="folder"/>/walk.mkv.
        /// </summary>
        public static string SyntheticWalk(string folder, int frames, double fps, int width = 128, int height = 96, int seed = 3)
        {
            var dir = Directory.CreateDirectory(Path.Combine(folder, "walk-frames")).FullName;
            using (var seq = SyntheticSequence.Create(SyntheticScene.Create("room", seed),
                       new SyntheticSequenceOptions { Path = "walk", Frames = frames, Width = width, Height = height, Seed = seed }))
                for (int i = 0; i < frames; i++) PngImage.WriteRgb(Path.Combine(dir, $"{i:D6}.png"), seq.Frame(i));
            var video = Path.Combine(folder, "walk.mkv");
            var psi = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in new[] { "-nostdin", "-y", "-loglevel", "error", "-framerate", fps.ToString(CultureInfo.InvariantCulture),
                         "-i", Path.Combine(dir, "%06d.png"), "-c:v", "ffv1", video })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, "ffmpeg: " + err);
            return video;
        }
    }
}
