using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FlowMap.Datasets;
using FlowMap.Export;
using FlowMap.Flow;
using FlowMap.Reconstruction;
using FlowMap.Solve.Geometry;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve.Geometry
{
    /// <summary>
    /// Self-calibration from the project's Vulkan flow: a synthetic walk (exact truth) and real cameras (ICL-NUIM
    /// livingroom1, the phone video), measured and printed. Real-data tests skip visibly when ../shared/data is absent.
    /// Nothing here is tuned to these sequences: the bounds follow from the estimate's own uncertainty.
    /// </summary>
    public sealed class EstimatedFlowFocalTests : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public EstimatedFlowFocalTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        private FocalEstimate Run(string what, IReadOnlyList<RgbImage> frames, IReadOnlyList<(int A, int B)> pairs, double truth)
        {
            int w = frames[0].Width, h = frames[0].Height;
            using var est = new VulkanFlowEstimator(Ctx);
            var sw = Stopwatch.StartNew();
            var corr = pairs.Select(p => Correspondences.FromFlow(est.Estimate(frames[p.A], frames[p.B]))).ToList();
            double flowSeconds = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var e = SelfCalibration.Estimate(corr, w, h);
            double calSeconds = sw.Elapsed.TotalSeconds;
            _out.WriteLine($"{what} ({w}x{h}, {pairs.Count} pairs, {corr.Sum(c => c.Count)} matches): focal {e.Focal:F2} px, reference {truth:F2}, error {100 * (e.Focal / truth - 1):+0.00;-0.00} %, rel std {100 * e.RelStd:F2} %, determined {e.Determined}, pairs used {e.PairsUsed}; flow {flowSeconds:F1} s, self-calibration {calSeconds:F2} s");
            if (e.Warning != null) _out.WriteLine("  warning: " + e.Warning);
            foreach (var p in e.Pairs) _out.WriteLine("  " + p);
            return e;
        }

        /// <summary>
        /// The verdict on a real or estimated-flow sequence: a determined focal must lie within 4 of its own standard
        /// deviations of the reference plus the reference's own uncertainty (COLMAP's per-image spread 0.6 %, ICL's exact),
        /// and within 10 % (a focal that far off bends the start more than flat depth would); an undetermined one must say so.
        /// </summary>
        private static void AssertConsistent(FocalEstimate e, double truth, double referenceRelStd)
        {
            if (!e.Determined)
            {
                Assert.NotNull(e.Warning);
                Assert.Contains("--focal", e.Warning);
                return;
            }
            double err = Math.Abs(Math.Log(e.Focal / truth));
            Assert.True(err <= 4 * Math.Sqrt(e.RelStd * e.RelStd + referenceRelStd * referenceRelStd), $"focal {e.Focal:F2} vs {truth:F2}: error {100 * err:F2} % beyond 4 x rel std {100 * e.RelStd:F2} %");
            Assert.True(err < 0.10, $"focal {e.Focal:F2} vs {truth:F2}: error {100 * err:F2} %");
        }

        [Fact]
        public void Synthetic_walk_with_the_vulkan_flow()
        {
            using var s = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = "walk", Frames = 41, Width = 320, Height = 240, Seed = 1 }, Ctx, ownsContext: false);
            var frames = Enumerable.Range(0, s.Count).Select(s.Frame).ToList();
            var pairs = Enumerable.Range(0, 10).Select(k => (4 * k, 4 * k + 4)).ToList();
            var e = Run("synthetic walk, Vulkan flow", frames, pairs, s.Intrinsics.Fx);
            AssertConsistent(e, s.Intrinsics.Fx, 0);
        }

        [Fact]
        public void Icl_nuim_livingroom1()
        {
            var dir = Repo.SharedData("icl_nuim_livingroom1");
            if (dir == null) Assert.Skip("../shared/data/icl_nuim_livingroom1 is absent.");
            var icl = IclNuim.Open(dir);
            const int w = 320, h = 240;
            var k = icl.Intrinsics.Resized(w, h);
            // Keyframe pairs 6 frames apart (about 10 cm of the 3.7 m path), every 12 frames over the sequence.
            var pairs = new List<(int, int)>();
            var used = new SortedSet<int>();
            for (int i = 0; i + 6 < icl.Count && pairs.Count < 16; i += 12) { pairs.Add((i, i + 6)); used.Add(i); used.Add(i + 6); }
            var frames = new RgbImage[icl.Count];
            foreach (int i in used) frames[i] = ImageResampler.Resize(PngImage.ReadRgb(icl.ColorFiles[i]), w, h);
            var e = Run("ICL-NUIM livingroom1", frames, pairs, k.Fx);
            AssertConsistent(e, k.Fx, 0);
        }

        [Fact]
        public void Phone_juicebox()
        {
            var dir = Repo.SharedData("phone_juicebox");
            if (dir == null) Assert.Skip("../shared/data/phone_juicebox is absent.");
            double focalFull = double.Parse(File.ReadAllText(Path.Combine(dir, "focal.txt")).Split(new[] { ' ', '\n', '\t', '\r' }, StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
            const int w = 320, h = 180;
            double truth = new Intrinsics(1920, 1080, focalFull, focalFull, 959.5, 539.5).Resized(w, h).Fx;
            // Frames in capture order (file names are not zero-padded); pairs 3 frames apart (3-12 degrees), every 4 frames.
            var pairs = new List<(int, int)>();
            var used = new SortedSet<int>();
            for (int i = 0; i + 3 < 64; i += 4) { pairs.Add((i, i + 3)); used.Add(i); used.Add(i + 3); }
            var frames = new RgbImage[64];
            foreach (int i in used) frames[i] = ImageResampler.Resize(PngImage.ReadRgb(Path.Combine(dir, "images", $"IMG_4831_{i}.jpg")), w, h);
            var e = Run("phone_juicebox", frames, pairs, truth);
            AssertConsistent(e, truth, 0.006);
        }
    }
}
