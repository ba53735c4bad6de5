using System;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using FlowMap.Export;
using FlowMap.Gpu;
using FlowMap.Synthetic;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap synth`: writes a synthetic sequence with exact truth (EVALUATION.md): color/NNNNNN.png, depth/NNNNNN.npy,
    /// trajectory.txt (TUM, camera-to-world), intrinsics.json, and for each pair (N, N+1) flow/NNNNNN.flo and
    /// occlusion/NNNNNN.png (255 = occluded in frame N+1).
    /// </summary>
    public sealed class SynthCommand : ICliCommand
    {
        public int Order => 30;

        public Command Build()
        {
            var cmd = new Command("synth", "Render a synthetic sequence with exact ground truth (images, depth, poses, intrinsics, flow, occlusion).");
            var scene = new Option<string>("--scene") { Description = $"Scene: {string.Join(", ", SyntheticScene.Names)}.", DefaultValueFactory = _ => "room" };
            var path = new Option<string>("--path") { Description = $"Camera path: {string.Join(", ", SyntheticSequence.PathNames)}.", DefaultValueFactory = _ => "walk" };
            var frames = new Option<int>("--frames") { Description = "Number of frames.", DefaultValueFactory = _ => 30 };
            var size = new Option<string>("--size") { Description = "Image size WxH.", DefaultValueFactory = _ => "320x240" };
            var seed = new Option<int>("--seed") { Description = "Seed of the scene and the camera path.", DefaultValueFactory = _ => 0 };
            var focal = new Option<double?>("--focal") { Description = "Focal length in pixels (default 0.8 x width)." };
            var k1 = new Option<double>("--k1") { Description = "Radial distortion k1 (COLMAP SIMPLE_RADIAL, on focal-normalised coordinates; negative = barrel; default 0 = pinhole).", DefaultValueFactory = _ => 0.0 };
            var motion = new Option<double>("--motion") { Description = "Motion scale per frame (1: flow of a few px to ~20 px at 320x240; 3: large motion).", DefaultValueFactory = _ => 1.0 };
            var samples = new Option<int>("--samples") { Description = "Anti-aliasing rays per pixel per axis (1..8).", DefaultValueFactory = _ => 2 };
            var cpu = new Option<bool>("--cpu") { Description = "Render with the CPU reference instead of the Vulkan device (slow)." };
            var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
            var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --out folder, only if an earlier `synth` wrote it." };
            foreach (var o in new Option[] { scene, path, frames, size, seed, focal, k1, motion, samples, cpu, output, overwrite }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                var (w, h) = Sizes.Parse(r.GetValue(size)!);
                if (w < MinSide || h < MinSide || w > MaxSide || h > MaxSide)
                    throw new CliException($"--size {w}x{h}: each side from {MinSide} to {MaxSide} pixels.");
                if (r.GetValue(frames) < 1 || r.GetValue(frames) > 100_000) throw new CliException($"--frames {r.GetValue(frames)}: from 1 to 100000.");
                if (r.GetValue(focal) is double fpx && !(fpx > 0 && double.IsFinite(fpx))) throw new CliException($"--focal must be a positive number of pixels, got {fpx}.");
                if (!(r.GetValue(motion) >= 0 && double.IsFinite(r.GetValue(motion)))) throw new CliException($"--motion must be a finite number >= 0, got {r.GetValue(motion)}.");
                var options = new SyntheticSequenceOptions
                {
                    Path = r.GetValue(path)!, Frames = r.GetValue(frames), Width = w, Height = h, Seed = r.GetValue(seed),
                    Focal = r.GetValue(focal), K1 = r.GetValue(k1), Motion = r.GetValue(motion), Samples = r.GetValue(samples), UseGpu = !r.GetValue(cpu),
                };
                return Run(r.GetValue(scene)!, options, r.GetValue(output)!, r.GetValue(overwrite));
            });
            return cmd;
        }

        /// <summary>Smallest side: 8 pixels (the flow and the reconstruct pipeline need a few pixels of texture; 1x1 images
        /// only make every later command fail).</summary>
        internal const int MinSide = 8;
        /// <summary>Largest side: 8192 pixels (RGB and float buffers stay far inside 32-bit sizes).</summary>
        internal const int MaxSide = 8192;

        private static int Run(string sceneName, SyntheticSequenceOptions options, string target, bool overwrite)
        {
            SyntheticScene scene;
            SyntheticSequence seq;
            try
            {
                scene = SyntheticScene.Create(sceneName, options.Seed);
                seq = SyntheticSequence.Create(scene, options);
            }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            catch (GpuUnavailableException e) { throw new CliException(e.Message + " (or use --cpu)", 3); }
            try
            {
            using (seq)
            using (var interrupt = new Interrupt())
            using (var staged = StagedOutput.Begin(target, overwrite, "synth"))
            {
                string outDir = staged.Path;
                string colorDir = Prepare(outDir, "color", "*.png"), depthDir = Prepare(outDir, "depth", "*.npy");
                string flowDir = Prepare(outDir, "flow", "*.flo"), occDir = Prepare(outDir, "occlusion", "*.png");
                TumTrajectory.Write(Path.Combine(outDir, "trajectory.txt"), seq.Poses);
                IntrinsicsJson.Write(Path.Combine(outDir, "intrinsics.json"), seq.Intrinsics);
                var total = Stopwatch.StartNew();
                var render = new Stopwatch();
                var flow = new Stopwatch();
                for (int i = 0; i < seq.Count; i++)
                {
                    if (interrupt.Requested) throw new CliException($"interrupted; nothing was written to '{target}'.", ExitCodes.Interrupted);
                    render.Start();
                    var image = seq.Frame(i);
                    var depth = seq.Depth(i);
                    render.Stop();
                    string name = i.ToString("D6", CultureInfo.InvariantCulture);
                    PngImage.WriteRgb(Path.Combine(colorDir, name + ".png"), image);
                    Npy.Write(Path.Combine(depthDir, name + ".npy"), depth);
                    if (i + 1 < seq.Count)
                    {
                        flow.Start();
                        var f = seq.Flow(i, i + 1);
                        var occ = seq.Occlusion(i, i + 1);
                        flow.Stop();
                        FloFile.Write(Path.Combine(flowDir, name + ".flo"), f);
                        var mask = new bool[occ.Data.Length];
                        for (int k = 0; k < mask.Length; k++) mask[k] = occ.Data[k] > 0.5f;
                        PngImage.WriteMask(Path.Combine(occDir, name + ".png"), mask, occ.Width, occ.Height);
                    }
                    Console.Error.Write($"\rframe {i + 1}/{seq.Count}");
                }
                Console.Error.WriteLine();
                staged.Commit();
                var k0 = seq.Intrinsics;
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "Wrote {0} frames of '{1}' / '{2}' at {3}x{4} (focal {5:F1} px, k1 {13}, seed {6}, motion {7}) to {8} in {9:F2} s: render {10:F1} ms/frame, flow {11:F1} ms/pair ({12}).",
                    seq.Count, scene.Name, seq.PathName, k0.Width, k0.Height, k0.Fx, options.Seed, options.Motion, target, total.Elapsed.TotalSeconds,
                    render.Elapsed.TotalMilliseconds / seq.Count, seq.Count > 1 ? flow.Elapsed.TotalMilliseconds / (seq.Count - 1) : 0,
                    seq.OnGpu ? "GPU" : "CPU reference", k0.K1));
            }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CliException($"writing '{target}' failed: {e.Message}", ExitCodes.Failed, e);
            }
            return 0;
        }

        /// <summary>Creates DIR/sub and removes files of an earlier run there, so the folder never mixes two sequences.</summary>
        private static string Prepare(string outDir, string sub, string pattern)
        {
            string d = Path.Combine(outDir, sub);
            try
            {
                Directory.CreateDirectory(d);
                foreach (var f in Directory.GetFiles(d, pattern)) File.Delete(f);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CliException($"Cannot write to {d}: {e.Message}", 4);
            }
            return d;
        }
    }
}
