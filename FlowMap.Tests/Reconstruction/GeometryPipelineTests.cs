using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Reconstruction;
using FlowMap.Solve;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>
    /// The mapper end to end (issue 11): self-calibration, geometric start, descent on the GPU and the multi-view refinement,
    /// on rendered scenes with EXACT flow (Evaluation.TruthFlow from the true depth and poses), so every error left is the
    /// method's own. The bounds are the issue's offline targets (focal within 1 %, ATE within 0.5 % of the path, AbsRel
    /// 0.10, k1 within 0.02); the unit tests of each stage (Solve/Geometry, Solve/Refine) hold far tighter bounds on exact
    /// data, so a pipeline that loses them to its wiring (scales, gauges, resolutions, conventions) fails here.
    /// </summary>
    public sealed class GeometryPipelineTests : GpuTest
    {
        public GeometryPipelineTests(GpuFixture f) : base(f) { }

        private sealed class Outcome
        {
            public ReconstructionResult Result = null!;
            public List<FrameEstimate> Frames = new List<FrameEstimate>();
            public SyntheticSequence Sequence = null!;
        }

        private Outcome Run(string path, double k1, int frames, double? givenFocal = null, bool refineK1 = true, ReconstructionMode mode = ReconstructionMode.Offline)
        {
            var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 3), new SyntheticSequenceOptions
            {
                Path = path, Frames = frames, Width = 192, Height = 144, Seed = 3, K1 = k1, Motion = 1.5,
            });
            var k = seq.Intrinsics;
            var depth = Enumerable.Range(0, seq.Count).Select(seq.Depth).ToList();
            var flow = new TruthFlowEstimator((a, b) => TruthFlowWithDistortion(depth[a], seq.Poses[a], depth[b], seq.Poses[b], k));
            var images = Enumerable.Range(0, seq.Count).Select(seq.Frame).ToList();
            for (int i = 0; i < images.Count; i++) flow.Register(i, images[i]);
            var o = new ReconstructionOptions
            {
                Mode = mode, ProcessingSize = (192, 144), OfflineSteps = 60, OfflineGeometrySteps = 60, FocalPixels = givenFocal,
                RefineK1 = refineK1,
            };
            var outcome = new Outcome { Sequence = seq };
            using var pipeline = new ReconstructionPipeline(o, flow, new GpuWindowSolver(Ctx), null, ownsComponents: true);
            pipeline.FrameFinalized += outcome.Frames.Add;
            for (int i = 0; i < images.Count; i++) pipeline.Process(new Frame(i, i / 30.0, images[i], $"{i:D6}.png"));
            outcome.Result = pipeline.Finish();
            return outcome;
        }

        /// <summary>True flow through the distorted camera: unproject with k1, move, project with k1 (TruthFlow is pinhole-only
        /// unless the intrinsics carry k1, which they do: Intrinsics.Project/Unproject apply it).</summary>
        private static FlowMap.Flow.FlowResult TruthFlowWithDistortion(FloatImage da, CameraPose pa, FloatImage db, CameraPose pb, Intrinsics k) =>
            FlowMap.Evaluation.TruthFlow.Between(da, pa, db, pb, k);

        private static double AtePercent(Outcome o)
        {
            var est = o.Result.Poses.Select(p => p.Pose).ToList();
            var gt = o.Result.Poses.Select(p => o.Sequence.Poses[p.Index]).ToList();
            return TrajectoryMetrics.Evaluate(est, gt).AtePercent;
        }

        private static double AbsRel(Outcome o)
        {
            double sum = 0; int n = 0;
            foreach (var f in o.Frames.Where(f => f.IsKeyframe))
            {
                var a = DepthFlowMetrics.DepthMedianScaled(f.Depth, o.Sequence.Depth(f.Index));
                if (a.Pixels == 0) continue;
                sum += a.AbsRel; n++;
            }
            return sum / n;
        }

        [Theory]
        [InlineData("walk", 0.0)]
        [InlineData("walk", -0.2)]
        public void Offline_recovers_focal_k1_path_and_depth_from_exact_flow(string path, double k1)
        {
            var o = Run(path, k1, 24);
            double focalErr = o.Result.Processing.Fx / o.Sequence.Intrinsics.Fx - 1;
            double ate = AtePercent(o), absRel = AbsRel(o);
            string what = $"{path} k1 {k1}: focal {100 * focalErr:F2} %, k1 {o.Result.K1:F4}, ATE {ate:F3} % of path, AbsRel {absRel:F4}, " +
                          $"focal rel std {o.Result.FocalRelStd:F4}, warnings: {string.Join("; ", o.Result.Warnings)}";
            Assert.True(Math.Abs(focalErr) < 0.01, what);
            Assert.True(Math.Abs(o.Result.K1 - k1) < 0.02, what);
            Assert.True(ate < 0.5, what);
            Assert.True(absRel < 0.10, what);
            Assert.NotNull(o.Result.FocalRelStd);
            Assert.Equal(24, o.Result.Poses.Count);
            TestContext.Current.TestOutputHelper?.WriteLine(what);
        }

        /// <summary>
        /// With k1 held at 0 (the default), a distorting lens is not silently absorbed into the focal: the distortion check
        /// refines again with k1 free and tells what k1 it finds and how far the focal moves (pinhole focal on this k1 = -0.2
        /// walk: tens of per cent off), and says nothing for a pinhole camera.
        /// </summary>
        [Theory]
        [InlineData(-0.2, true)]
        [InlineData(0.0, false)]
        public void With_k1_held_a_distorting_lens_is_named_in_a_warning(double k1, bool hinted)
        {
            var o = Run("walk", k1, 16, refineK1: false);
            string what = $"k1 {k1}: focal {o.Result.Processing.Fx / o.Sequence.Intrinsics.Fx - 1:P2}, warnings: {string.Join("; ", o.Result.Warnings)}";
            Assert.Equal(0, o.Result.K1);
            var hint = o.Result.Warnings.FirstOrDefault(w => w.StartsWith("radial distortion", StringComparison.Ordinal));
            if (!hinted) { Assert.True(hint == null, what); return; }
            Assert.True(hint != null && hint.Contains("--estimate-k1"), what);
            var m = System.Text.RegularExpressions.Regex.Match(hint!, @"k1 = (-?[0-9.]+)");
            Assert.True(m.Success, what);
            Assert.InRange(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), k1 - 0.02, k1 + 0.02);
        }

        /// <summary>Online windows hold k1 at 0; asking for k1 online says so instead of doing nothing silently.</summary>
        [Fact]
        public void Asking_for_k1_online_says_that_only_the_offline_solve_estimates_it()
        {
            var o = Run("walk", -0.2, 12, refineK1: true, mode: ReconstructionMode.Online);
            Assert.Equal(0, o.Result.K1);
            Assert.Single(o.Result.Warnings, w => w.Contains("k1 is estimated only by the offline solve"));
        }

        [Fact]
        public void Forward_only_motion_warns_that_the_focal_is_not_determined()
        {
            var o = Run("forward", 0, 16);
            Assert.Contains(o.Result.Warnings, w => w.Contains("--focal"));
            Assert.Equal(16, o.Result.Poses.Count);
        }

        [Fact]
        public void A_given_focal_is_kept_and_reported_without_uncertainty()
        {
            var seqFocal = 0.8 * 192;
            var o = Run("walk", 0, 16, givenFocal: seqFocal);
            Assert.Equal(seqFocal, o.Result.Processing.Fx, 9);
            Assert.Null(o.Result.FocalRelStd);
        }
    }
}
