using System;
using System.Linq;
using FlowMap.Solve;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve
{
    /// <summary>
    /// Issue 12 item 3 (the solver's step cost): an online window holds its first keyframes' depth and the focal, so a pair of
    /// two frozen keyframes has a constant loss and no gradient; the GPU solver leaves those frames out of its steps
    /// (<see cref="GpuWindowSolver.FrozenPrefix"/>) and evaluates the whole window at the end. Normalised as the whole
    /// window (<see cref="SolverProblem.NormFrames"/>), the cut problem's gradient is the whole window's: the same in double
    /// precision on the reference, and the GPU solve gives the same result to the bit as with every pair in every step.
    /// </summary>
    public sealed class FrozenPrefixTests : GpuTest
    {
        public FrozenPrefixTests(GpuFixture f) : base(f) { }

        private static SolverWindow Window(AnalyticScene scene, int from = 0, bool prior = false) =>
            new SolverWindow(scene.Window.Images.Skip(from).ToList(), scene.Window.Pairs.Skip(from).ToList(),
                prior ? scene.Window.Images.Skip(from).Select((_, i) => Prior(scene, from + i)).ToList() : null, scene.Focal);

        private static FloatImage Prior(AnalyticScene scene, int frame)
        {
            var d = scene.Window.Images[frame];
            var p = new FloatImage(d.Width, d.Height);
            for (int y = 0; y < d.Height; y++) for (int x = 0; x < d.Width; x++) p[x, y] = 0.2f + 0.01f * ((x * 7 + y * 3 + frame) % 11);
            return p;
        }

        [Theory]
        [InlineData(37, 29, 2, false)]
        [InlineData(37, 29, 3, true)]
        [InlineData(31, 23, 4, false)]
        public void The_cut_problem_has_the_whole_windows_gradient(int w, int h, int cut, bool prior)
        {
            var scene = new AnalyticScene(w, h, 6, 0.9 * Math.Sqrt(w * h), "walk", seed: 5, boards: 2);
            var tuning = new SolverTuning { Cell = 5 };
            var p = new SolverProblem(Window(scene, 0, prior), tuning);
            var sp = new SolverProblem(Window(scene, cut, prior), tuning, normFrames: p.N);
            Assert.Equal(p.FlowTerms, sp.FlowTerms);
            Assert.Equal(p.SmoothnessWeight, sp.SmoothnessWeight);
            var rng = Rng.Fresh(out int seed);
            var prm = new double[p.ParamCount];
            for (int i = 0; i < p.N * p.Nodes; i++) prm[i] = -0.7 + 0.4 * (rng.NextDouble() - 0.5);
            if (prior) for (int fr = 0; fr < p.N; fr++) { prm[p.ScaleOffset(fr)] = 1.3 + 0.1 * fr; prm[p.ShiftOffset(fr)] = 0.03 * fr; }
            prm[p.FocalOffset] = Math.Log(scene.Focal);
            var sub = GpuWindowSolver.Cut(p, sp, prm, cut);
            foreach (bool through in new[] { false, true })
            {
                var whole = SolverReference.Evaluate(p, prm, scene.Focal, through);
                var part = SolverReference.Evaluate(sp, sub, scene.Focal, through);
                // Frames cut + 1 .. N - 1 (the ones descent changes; frame cut is the newest frozen one): the same gradient,
                // summed over the same pairs in the same order, so equal up to the rounding of double sums (1e-12 relative).
                double scale = 0;
                for (int fr = cut + 1; fr < p.N; fr++)
                    for (int i = 0; i < p.Nodes; i++) scale = Math.Max(scale, Math.Abs(whole.Grad[p.ThetaOffset(fr) + i]));
                Assert.True(scale > 0, $"no gradient to compare (seed {seed})");
                for (int fr = cut + 1; fr < p.N; fr++)
                {
                    for (int i = 0; i < p.Nodes; i++)
                    {
                        double a = whole.Grad[p.ThetaOffset(fr) + i], b = part.Grad[sp.ThetaOffset(fr - cut) + i];
                        Assert.True(Math.Abs(a - b) <= 1e-12 * scale, $"frame {fr} node {i}: {a} vs {b} (through poses {through}, seed {seed})");
                    }
                    if (prior)
                    {
                        Assert.True(Math.Abs(whole.Grad[p.ScaleOffset(fr)] - part.Grad[sp.ScaleOffset(fr - cut)]) <= 1e-12 * Math.Max(1, Math.Abs(whole.Grad[p.ScaleOffset(fr)])));
                        Assert.True(Math.Abs(whole.Grad[p.ShiftOffset(fr)] - part.Grad[sp.ShiftOffset(fr - cut)]) <= 1e-12 * Math.Max(1, Math.Abs(whole.Grad[p.ShiftOffset(fr)])));
                    }
                }
            }
        }

        [Theory]
        [InlineData(37, 29, 3)]
        [InlineData(31, 23, 5)]
        [InlineData(37, 29, 1)]
        public void Leaving_the_frozen_pairs_out_of_the_steps_gives_the_whole_windows_result_to_the_bit(int w, int h, int frozen)
        {
            var scene = new AnalyticScene(w, h, 6, 0.9 * Math.Sqrt(w * h), "walk", seed: 3, boards: 2);
            using var solver = new GpuWindowSolver(Ctx);
            var window = Window(scene);
            var first = solver.Solve(window, new SolverOptions { Steps = 10 });
            // The frozen keyframes warm (as an online window holds them), one more warm, the newest without a start.
            var warm = new SolverWarmStart { InitialDepth = first.Depth.Select((d, i) => i < window.Count - 1 ? d : null).ToList(), Focal = scene.Focal, FrozenFrames = frozen };
            var p = new SolverProblem(window, solver.Tuning);
            var options = new SolverOptions { Steps = 17, StepsPerSubmission = 5 };
            int cut = solver.FrozenPrefix(p, options, warm);
            Assert.Equal(Math.Max(0, frozen - 1), cut);
            var skipped = solver.Solve(window, options, warm);
            solver.SkipFrozenPairs = false;
            var every = solver.Solve(window, options, warm);
            Assert.Equal(0, solver.FrozenPrefix(p, options, warm));
            Assert.Equal(cut, skipped.StageMilliseconds.TryGetValue("frozen_prefix", out var c) ? (int)c : 0);
            Assert.True(double.IsFinite(every.FinalLoss), "non-finite solve");
            Assert.Equal(every.FinalLoss, skipped.FinalLoss);
            for (int f = 0; f < window.Count; f++)
            {
                Assert.Equal(every.Depth[f].Data, skipped.Depth[f].Data);
                Assert.Equal(every.Confidence[f].Data, skipped.Confidence[f].Data);
                Assert.Equal(every.Poses[f].Rotation, skipped.Poses[f].Rotation);
                Assert.Equal(every.Poses[f].Translation, skipped.Poses[f].Translation);
            }
            // The frames descent changed did change (the comparison is not between two copies of the warm start).
            Assert.NotEqual(warm.InitialDepth[window.Count - 2]!.Data, every.Depth[window.Count - 2].Data);
        }

        [Fact]
        public void Nothing_is_cut_where_a_frozen_pair_still_has_a_gradient()
        {
            var scene = new AnalyticScene(37, 29, 5, 0.9 * Math.Sqrt(37 * 29), "walk", seed: 3, boards: 2);
            using var solver = new GpuWindowSolver(Ctx);
            var held = Window(scene);
            var free = scene.Window; // the focal free: every pair's loss depends on it
            var depth = scene.Window.Images.Select(im => (FloatImage?)new FloatImage(im.Width, im.Height)).ToList();
            var warm = new SolverWarmStart { InitialDepth = depth, Focal = scene.Focal, FrozenFrames = 3 };
            var o = new SolverOptions { Steps = 5 };
            Assert.Equal(2, solver.FrozenPrefix(new SolverProblem(held, solver.Tuning), o, warm));
            Assert.Equal(0, solver.FrozenPrefix(new SolverProblem(free, solver.Tuning), o, warm));
            Assert.Equal(0, solver.FrozenPrefix(new SolverProblem(held, solver.Tuning), new SolverOptions { Steps = 0 }, warm));
            Assert.Equal(0, solver.FrozenPrefix(new SolverProblem(held, solver.Tuning), o, new SolverWarmStart { Focal = scene.Focal, FrozenFrames = 3 }));
            solver.OnLoss = (_, _, _) => { }; // the loss read during the steps is the whole window's
            Assert.Equal(0, solver.FrozenPrefix(new SolverProblem(held, solver.Tuning), o, warm));
        }
    }
}
