using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FlowMap.Evaluation;
using FlowMap.Reconstruction;
using FlowMap.Solve;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found measuring issue 12's accuracy target with `bench live` (ICL-NUIM as a paced 30 fps video; the live session's
    /// final poses against an online reconstruction of exactly the frames it processed): once mapping took in the keyframes
    /// chosen while it was busy, the live trajectory still ended 1.5-3x the online one's ATE (0.77 / 1.07 / 0.81 % against
    /// 0.33 / 0.37 / 0.27 %). The window after the first solve held nine keyframes that had no warm start (chosen before
    /// any depth existed), and descent began them at a flat depth of 1 (the solver's default for a missing initial depth)
    /// with the warm start's tenth of the learning rate, for the 40 steps of a warm window. They now take the geometric
    /// start's depth (triangulated from the flow and the essential-matrix poses) at the warm keyframes' scale; four runs
    /// then gave 0.32 / 0.32 / 3.24 / 0.33 % against 0.31 / 0.31 / 6.33 / 0.46 % online on the same frames.
    /// Here: a window of the synthetic room with exact flow, the focal given, the first two keyframes warm-started with their
    /// true depth and the last two without; the descent must receive a depth for every keyframe, and the filled ones must be
    /// the true depth (the geometric start is exact up to its scale, which the warm keyframes fix).
    /// </summary>
    public sealed class BacklogKeyframesStartedFlat : GpuTest
    {
        public BacklogKeyframesStartedFlat(GpuFixture f) : base(f) { }

        /// <summary>Records the warm start it is given and returns it as the solution (poses: the truth).</summary>
        private sealed class RecordingSolver : IWindowSolver
        {
            private readonly IReadOnlyList<CameraPose> _poses;
            public RecordingSolver(IReadOnlyList<CameraPose> poses) { _poses = poses; }
            public SolverWarmStart? Warm;
            public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default)
            {
                Warm = warmStart;
                var p0 = _poses[0].Inverse();
                return new SolverResult
                {
                    Poses = _poses.Select(p => p0.Compose(p)).ToArray(),
                    Depth = Enumerable.Range(0, window.Count).Select(j => warmStart!.InitialDepth![j] ?? new FloatImage(window.Width, window.Height)).ToArray(),
                    Confidence = Enumerable.Range(0, window.Count).Select(_ => new FloatImage(window.Width, window.Height)).ToArray(),
                    Focal = warmStart!.Focal ?? 1, Steps = options.Steps,
                };
            }
            public void Dispose() { }
        }

        private sealed class NoFlow : FlowMap.Flow.IFlowEstimator
        {
            public string Name => "none";
            public FlowMap.Flow.FlowResult Estimate(RgbImage a, RgbImage b, CancellationToken token = default) => throw new InvalidOperationException("the window's flows are given");
            public void Dispose() { }
        }

        [Fact]
        public void Keyframes_without_a_warm_start_start_from_the_geometry_at_the_windows_scale()
        {
            const int w = 160, h = 120;
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = "walk", Frames = 16, Width = w, Height = h, Seed = 1, Samples = 1 }, Ctx, ownsContext: false);
            var kf = new[] { 0, 4, 8, 12 };
            var k = seq.Intrinsics;
            var inputs = new List<KeyframeSolver.Input>();
            for (int j = 0; j < kf.Length; j++)
                inputs.Add(new KeyframeSolver.Input
                {
                    FrameIndex = kf[j], Image = seq.Frame(kf[j]),
                    FromPrevious = j == 0 ? null : TruthFlow.Between(seq.Depth(kf[j - 1]), seq.Pose(kf[j - 1]), seq.Depth(kf[j]), seq.Pose(kf[j]), k),
                });
            var solver = new RecordingSolver(kf.Select(seq.Pose).ToList());
            // PairSpan 1: the window's flows are the adjacent ones given; no refinement: what descent receives is the question;
            // descent at the processing size (no reduced solver resolution), so its input compares pixel for pixel.
            var o = new ReconstructionOptions { Refine = false, PairSpan = 1, OnlineSolverPixels = w * h };
            var mapper = new KeyframeSolver(new NoFlow(), solver, o, new StageClock(), null);
            // The warm keyframes at twice the true depth (the window's scale is whatever the earlier windows chose).
            var warm = new FloatImage?[] { KeyframeSolver.ScaledImage(seq.Depth(0), 2), KeyframeSolver.ScaledImage(seq.Depth(4), 2), null, null };
            mapper.SolveWindow(inputs, k.Fx, warm, k.Fx, frozen: 2, steps: 1, TestContext.Current.CancellationToken);
            var given = solver.Warm!.InitialDepth!;
            Assert.All(given, d => Assert.NotNull(d));
            for (int j = 2; j < 4; j++)
            {
                // Median relative error of the filled depth against 2 x the true depth, over pixels with true depth.
                var truth = seq.Depth(kf[j]);
                var rel = new List<double>();
                for (int i = 0; i < truth.Data.Length; i++)
                    if (truth.Data[i] > 0 && float.IsFinite(truth.Data[i])) rel.Add(Math.Abs(given[j]!.Data[i] / (2 * truth.Data[i]) - 1));
                rel.Sort();
                double median = rel[rel.Count / 2];
                TestContext.Current.TestOutputHelper?.WriteLine($"keyframe {j}: median relative depth error {median:F4}");
                // Exact flow and focal: triangulation is exact where parallax is; the geometric start fills the rest (low
                // parallax, no confident flow) from neighbours, so the median, not every pixel, is bounded: 5 %. A flat start
                // (the solver's default for a missing depth) is off by far more than that across the room's depth range.
                Assert.True(median < 0.05, $"keyframe {j}: median relative depth error {median:F4} against the true depth at the window's scale");
            }
        }
    }
}
