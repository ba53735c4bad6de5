using System;
using System.Collections.Generic;
using System.Threading;
using FlowMap.Reconstruction;
using FlowMap.Solve;
using FlowMap.Tests.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found measuring issue 11's online targets: each online window's refinement started the frozen keyframes (held fixed)
    /// at the poses descent re-derived from their frozen depth, not where the earlier windows had put them, so every window
    /// re-started the trajectory from a slightly different past and the chained path drifted (`bench reconstruct --modes
    /// online`: synthetic walk ATE 4.85 % of path, ICL-NUIM 1.48 %). Now the refinement holds them where the earlier windows
    /// put them; unless the data reject that past: a window whose held fit is not exact is refined a second time from the
    /// re-derived poses and the lower robust cost wins (an earlier wrong turn, held, would otherwise grow from window to
    /// window: measured on ICL-NUIM, where holding alone took the online ATE to 15 %).
    /// Exact flow of a textured plane, the focal given: every error is the solver's.
    /// </summary>
    public sealed class OnlineWindowsRederivedFrozenPoses
    {
        private const double Step = 0.1; // camera centre x between keyframes (two frames of 0.05)

        private static PlaneScene Scene() => new PlaneScene(64, 48, 50, 4, Step / 2, 40);

        /// <summary>True poses of window keyframes <paramref name="first"/>.. in the window's frame (its first at the identity).</summary>
        private static CameraPose Truth(PlaneScene s, int first, int j) => s.Pose(2 * first).Inverse().Compose(s.Pose(2 * (first + j)));

        private static CameraPose ShiftY(CameraPose p, double dy)
        {
            var t = p.Translation;
            return new CameraPose(p.Rotation, new[] { t[0], t[1] + dy, t[2] });
        }

        /// <summary>Descent as a double: the truth, except window keyframe 1 moved by <c>dy</c> in y (re-derived with an error).</summary>
        private sealed class RederivingSolver : IWindowSolver
        {
            private readonly TruthSolver _truth;
            private readonly double _dy;
            public RederivingSolver(PlaneScene s, double dy) { _truth = new TruthSolver(s, varyScale: false); _dy = dy; }
            public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default)
            {
                var r = _truth.Solve(window, options, warmStart, token);
                r.Poses[1] = ShiftY(r.Poses[1], _dy);
                return r;
            }
            public void Dispose() { }
        }

        private static FloatImage Plane(PlaneScene s)
        {
            var d = new FloatImage(s.W, s.H);
            Array.Fill(d.Data, (float)s.Z);
            return d;
        }

        private static void Near(CameraPose expected, CameraPose actual, double tol, string what)
        {
            var e = expected.Translation; var a = actual.Translation;
            for (int i = 0; i < 3; i++)
                Assert.True(Math.Abs(e[i] - a[i]) <= tol, $"{what}: t[{i}] {a[i]:G9} vs {e[i]:G9} (tolerance {tol})");
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    Assert.True(Math.Abs(expected.R(i, j) - actual.R(i, j)) <= tol, $"{what}: R[{i},{j}] {actual.R(i, j):G9} vs {expected.R(i, j):G9}");
        }

        [Fact]
        public void The_refinement_holds_the_frozen_keyframes_where_earlier_windows_put_them()
        {
            var s = Scene();
            var flow = new TruthFlow(s);
            // Descent re-derives frozen keyframe 1 a fifth of a step off; the earlier windows had it right.
            var solver = new KeyframeSolver(flow, new RederivingSolver(s, 0.2 * Step), new ReconstructionOptions(), new StageClock(), null);
            var win = s.KeyframeWindow(flow, 3, 4);
            var held = new[] { Truth(s, 3, 0), Truth(s, 3, 1) };
            var sol = solver.SolveWindow(win, s.F, new FloatImage?[] { Plane(s), Plane(s), null, null }, s.F, 2, 1, default, held);
            // Held exactly (fixed in the refinement), and the new keyframes refined against them from exact flow: Gauss-Newton
            // on noise-free data converges far below a thousandth of the step.
            for (int j = 0; j < 2; j++) Near(held[j], sol.Poses[j], 1e-12, $"frozen keyframe {j}");
            for (int j = 2; j < 4; j++) Near(Truth(s, 3, j), sol.Poses[j], 1e-3 * Step, $"new keyframe {j}");
            Assert.Equal(0, solver.WindowsReleased);
            // The window solve's record says so: the past kept, its fit's cost that of the solution.
            var record = Assert.Single(solver.WindowSolves);
            Assert.Equal(FlowMap.Session.HeldPast.Kept, record.Past);
            Assert.Equal(sol.RefineFinalMeanCost, record.HeldMeanCost);
        }

        [Fact]
        public void A_held_past_the_data_reject_gives_way_to_the_rederived_one()
        {
            var s = Scene();
            var flow = new TruthFlow(s);
            var solver = new KeyframeSolver(flow, new RederivingSolver(s, 0), new ReconstructionOptions(), new StageClock(), null);
            // A first window (nothing frozen) fits the exact flow.
            var first = solver.SolveWindow(s.KeyframeWindow(flow, 0, 4), s.F, null, null, 0, 1, default);
            Assert.True(first.RefineFinalMeanCost < KeyframeSolver.MinReleaseCost, $"first window cost {first.RefineFinalMeanCost} per observation (RMS {first.RefineFinalRms} px)");
            // Then a window whose held keyframe 1 is a whole step off in y (an earlier wrong turn): no pose of the new
            // keyframes fits both it and the flow, the re-derived past (here exact) does.
            var win = s.KeyframeWindow(flow, 3, 4);
            var held = new[] { Truth(s, 3, 0), ShiftY(Truth(s, 3, 1), Step) };
            var sol = solver.SolveWindow(win, s.F, new FloatImage?[] { Plane(s), Plane(s), null, null }, s.F, 2, 1, default, held);
            Assert.Equal(1, solver.WindowsReleased);
            for (int j = 0; j < 4; j++) Near(Truth(s, 3, j), sol.Poses[j], 1e-3 * Step, $"keyframe {j}");
            // The records: the first window held nothing; the second released its past, the re-derived fit the better one
            // and the solution's.
            Assert.Equal(2, solver.WindowSolves.Count);
            Assert.Equal(FlowMap.Session.HeldPast.None, solver.WindowSolves[0].Past);
            Assert.True(double.IsNaN(solver.WindowSolves[0].HeldMeanCost) && double.IsNaN(solver.WindowSolves[0].RederivedMeanCost));
            var second = solver.WindowSolves[1];
            Assert.Equal(FlowMap.Session.HeldPast.Released, second.Past);
            Assert.Equal(sol.RefineFinalMeanCost, second.RederivedMeanCost);
            Assert.True(second.RederivedMeanCost < second.HeldMeanCost, $"re-derived {second.RederivedMeanCost} vs held {second.HeldMeanCost}");
        }

        /// <summary>The poses brought to the truth's scale by the first baseline (a solution fixing only the gauge has descent's).</summary>
        private static CameraPose[] ToTruthScale(PlaneScene s, CameraPose[] poses)
        {
            double b = Math.Sqrt(poses[1].T(0) * poses[1].T(0) + poses[1].T(1) * poses[1].T(1) + poses[1].T(2) * poses[1].T(2));
            var t = Truth(s, 3, 1);
            double bt = Math.Sqrt(t.T(0) * t.T(0) + t.T(1) * t.T(1) + t.T(2) * t.T(2));
            var r = new CameraPose[poses.Length];
            for (int j = 0; j < poses.Length; j++) r[j] = KeyframeSolver.Scaled(poses[j], bt / b);
            return r;
        }

        [Fact]
        public void A_release_to_descents_frozen_poses_keeps_their_error_a_release_to_the_gauge_does_not()
        {
            // Found measuring the held chain (README, "Why the held past breaks"): the re-derived fit fixes every frozen
            // keyframe at descent's pose, so a release takes descent's relative pose of the frozen keyframes as given. Here the
            // held past is a whole step off (rejected) and descent re-derives frozen keyframe 1 a fifth of a step off; the
            // data (exact flow) say where it is.
            var s = Scene();
            var flow = new TruthFlow(s);
            var win = s.KeyframeWindow(flow, 3, 4);
            var held = new[] { Truth(s, 3, 0), ShiftY(Truth(s, 3, 1), Step) };
            var depth = new FloatImage?[] { Plane(s), Plane(s), null, null };

            // Every frozen keyframe fixed (before): released, with frozen keyframe 1 where descent put it (0.2 step off in y), the new keyframes fitted to it.
            var fixedAll = new KeyframeSolver(flow, new RederivingSolver(s, 0.2 * Step), new ReconstructionOptions { ReleaseToGauge = false }, new StageClock(), null);
            var a = fixedAll.SolveWindow(win, s.F, depth, s.F, 2, 1, default, held);
            Assert.Equal(1, fixedAll.WindowsReleased);
            Assert.True(Math.Abs(a.Poses[1].T(1) - Truth(s, 3, 1).T(1)) >= 0.19 * Step, $"frozen keyframe 1 y {a.Poses[1].T(1)} vs {Truth(s, 3, 1).T(1)}");

            // Fixing only the gauge (the default): released, and every keyframe where the data put it. The gauge's scale is descent's first
            // baseline (0.2 step off across it: 2 % longer), so the poses are compared at the truth's; Gauss-Newton on
            // noise-free data converges far below a thousandth of the step.
            var gaugeOnly = new KeyframeSolver(flow, new RederivingSolver(s, 0.2 * Step), new ReconstructionOptions(), new StageClock(), null);
            var win2 = s.KeyframeWindow(flow, 3, 4);
            var b = gaugeOnly.SolveWindow(win2, s.F, depth, s.F, 2, 1, default, held);
            Assert.Equal(1, gaugeOnly.WindowsReleased);
            var scaled = ToTruthScale(s, b.Poses);
            for (int j = 0; j < 4; j++) Near(Truth(s, 3, j), scaled[j], 1e-3 * Step, $"keyframe {j}");
            Assert.True(b.RefineFinalMeanCost < a.RefineFinalMeanCost, $"gauge only {b.RefineFinalMeanCost} vs every frozen keyframe fixed {a.RefineFinalMeanCost}");
        }
    }
}
