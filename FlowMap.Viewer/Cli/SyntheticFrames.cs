using System.Collections.Generic;
using System.IO;
using FlowMap.Export;
using FlowMap.Synthetic;

namespace FlowMap.Viewer.Cli
{
    /// <summary>Synthetic walk frames (the built-in room scene) for benchmarks that need input without ../shared/data.</summary>
    internal static class SyntheticFrames
    {
        public static IReadOnlyList<RgbImage> Render(int frames, int width, int height, int seed = 1)
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", seed),
                new SyntheticSequenceOptions { Path = "walk", Frames = frames, Width = width, Height = height, Seed = seed });
            var list = new List<RgbImage>(frames);
            for (int i = 0; i < frames; i++) list.Add(seq.Frame(i));
            return list;
        }

        /// <summary>As <see cref="Render"/>, with each frame's true camera-to-world pose.</summary>
        public static (IReadOnlyList<RgbImage> Frames, IReadOnlyList<CameraPose> Poses) RenderWithPoses(int frames, int width, int height, int seed = 1, double motion = 1)
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", seed),
                new SyntheticSequenceOptions { Path = "walk", Frames = frames, Width = width, Height = height, Seed = seed, Motion = motion });
            var list = new List<RgbImage>(frames);
            var poses = new List<CameraPose>(frames);
            for (int i = 0; i < frames; i++) { list.Add(seq.Frame(i)); poses.Add(seq.Pose(i)); }
            return (list, poses);
        }

        /// <summary>Writes NNNNNN.png frames into <paramref name="folder"/>.</summary>
        public static void Write(string folder, int frames, int width, int height, int seed = 1)
        {
            Directory.CreateDirectory(folder);
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", seed),
                new SyntheticSequenceOptions { Path = "walk", Frames = frames, Width = width, Height = height, Seed = seed });
            for (int i = 0; i < frames; i++) PngImage.WriteRgb(Path.Combine(folder, $"{i:D6}.png"), seq.Frame(i));
        }
    }
}
