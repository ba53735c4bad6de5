using System;
using System.Linq;
using System.Threading;
using FlowMap.Reconstruction;
using FlowMap.Solve;
using FlowMap.Tests.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found while developing the held online windows: a window solve that came back non-finite (there: a diverging
    /// experiment; in general NaN from a solver, a depth prior or a degenerate window) was chained into the trajectory
    /// as it was, so a keyframe's pose became NaN and `reconstruct` stopped at writing the trajectory with an internal
    /// error ("Pose at stamp 24 is not finite"), `bench reconstruct` in its evaluation. Now the mapper applies no such
    /// solve: the keyframes keep the estimates they had, every frame still gets a finite pose, and a warning says so.
    /// </summary>
    public sealed class NonFiniteWindowSolveReachedThePoses
    {
        /// <summary>The truth, except one solve whose newest keyframe comes back with a NaN translation.</summary>
        private sealed class NaNOnceSolver : IWindowSolver
        {
            private readonly TruthSolver _truth;
            private readonly int _bad;
            private int _calls;
            public NaNOnceSolver(PlaneScene s, int bad) { _truth = new TruthSolver(s, varyScale: false); _bad = bad; }
            public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default)
            {
                var r = _truth.Solve(window, options, warmStart, token);
                if (_calls++ == _bad) r.Poses[^1] = new CameraPose(r.Poses[^1].Rotation, new[] { double.NaN, 0, 0 });
                return r;
            }
            public void Dispose() { }
        }

        [Theory]
        [InlineData(0)] // the first window
        [InlineData(2)] // a later one
        public void A_non_finite_solve_leaves_the_previous_estimates_and_warns(int bad)
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 30);
            var o = new ReconstructionOptions { Mode = ReconstructionMode.Online, ProcessingSize = (64, 48), WindowKeyframes = 4, ActiveKeyframes = 2, Refine = false };
            using var p = new ReconstructionPipeline(o, new TruthFlow(s), new NaNOnceSolver(s, bad));
            for (int i = 0; i < s.Frames; i++) p.Process(s.Frame(i));
            var r = p.Finish();
            Assert.Equal(Enumerable.Range(0, s.Frames), r.Poses.Select(x => x.Index));
            Assert.All(r.Poses, x => Assert.True(KeyframeSolver.Finite(x.Pose), $"frame {x.Index}: pose not finite"));
            Assert.Contains(r.Warnings, w => w.Contains("non-finite", StringComparison.Ordinal));
        }
    }
}
