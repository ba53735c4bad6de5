using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FlowMap.Evaluation;
using FlowMap.Reconstruction;
using FlowMap.Session;
using FlowMap.Solve;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>
    /// Live tracking before mapping has solved anything (<see cref="ReconstructionOptions.BootstrapTracking"/>): frames are
    /// posed against a two-view bootstrap, and keyframes still waiting for mapping are re-chained onto the solved trajectory
    /// when the first solve is applied. A rendered walk with EXACT flow (Evaluation.TruthFlow) and the first window solve held
    /// until the test releases it, so what is measured is the bootstrap, not a race with the solver.
    /// </summary>
    public sealed class BootstrapTrackingTests : GpuTest
    {
        public BootstrapTrackingTests(GpuFixture f) : base(f) { }

        /// <summary>The GPU solver, its first call held until <see cref="Gate"/> is set.</summary>
        internal sealed class HeldFirstSolve : IWindowSolver
        {
            private readonly IWindowSolver _inner;
            private readonly ManualResetEventSlim? _admit;
            private int _calls;
            public readonly ManualResetEventSlim Entered = new ManualResetEventSlim(), Gate = new ManualResetEventSlim();
            /// <param name="admit">When given, the first solve counts as entered only once it is set: a mapping thread that a
            /// loaded machine schedules late (Issues/HeldSolveCheckedBeforeTheMappingThreadRan).</param>
            public HeldFirstSolve(IWindowSolver inner, ManualResetEventSlim? admit = null) { _inner = inner; _admit = admit; }

            /// <summary>
            /// Waits for the mapping thread to enter the held solve. The window is handed to the mapping thread when its
            /// keyframes are chosen, but when that thread runs is the scheduler's choice: a test checks that the solve has
            /// started by waiting for it, never by looking once (the bound only keeps a failing test from hanging).
            /// </summary>
            public bool WaitUntilEntered() => Entered.Wait(TimeSpan.FromMinutes(2));

            public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default)
            {
                if (Interlocked.Increment(ref _calls) == 1)
                {
                    _admit?.Wait(TimeSpan.FromMinutes(2));
                    Entered.Set();
                    Gate.Wait(TimeSpan.FromMinutes(2)); // the bound only keeps a failing test from hanging
                }
                return _inner.Solve(window, options, warmStart, token);
            }
            public void Dispose() { _inner.Dispose(); Gate.Set(); }
        }

        /// <summary>The exact flow between any two frames of a rendered sequence (from its depth and poses).</summary>
        internal static TruthFlowEstimator ExactFlow(SyntheticSequence seq)
        {
            var k = seq.Intrinsics;
            var flow = new TruthFlowEstimator((a, b) => FlowMap.Evaluation.TruthFlow.Between(seq.Depth(a), seq.Pose(a), seq.Depth(b), seq.Pose(b), k));
            for (int i = 0; i < seq.Count; i++) flow.Register(i, seq.Frame(i));
            return flow;
        }

        private sealed class Run
        {
            public SyntheticSequence Seq = null!;
            public List<FrameUpdate> Held = new List<FrameUpdate>();   // delivered while the first solve was held
            public List<FrameUpdate> After = new List<FrameUpdate>();  // delivered after it was applied
            public ReconstructionResult Result = null!;
        }

        private const int Frames = 48, HeldUntil = 30;

        private Run Stream(bool bootstrap, double? focal)
        {
            var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 3), new SyntheticSequenceOptions
            {
                Path = "walk", Frames = Frames, Width = 128, Height = 96, Seed = 3, Motion = 1.0,
            });
            var flow = ExactFlow(seq);
            var o = new ReconstructionOptions
            {
                Mode = ReconstructionMode.Online, ProcessingSize = (128, 96), MappingThread = true, BootstrapTracking = bootstrap,
                FocalPixels = focal,
            };
            var solver = new HeldFirstSolve(new GpuWindowSolver(Ctx));
            var run = new Run { Seq = seq };
            using (var pipeline = new ReconstructionPipeline(o, flow, solver, null, ownsComponents: true))
            {
                for (int i = 0; i < Frames; i++)
                {
                    if (i == HeldUntil)
                    {
                        Assert.True(solver.WaitUntilEntered(), "the first window solve never started");
                        solver.Gate.Set();
                        SpinWait.SpinUntil(() => !pipeline.MappingBusy, TimeSpan.FromMinutes(2));
                    }
                    var u = pipeline.Process(new Frame(i, i / 30.0, seq.Frame(i), $"{i:D6}.png"))!;
                    (i < HeldUntil ? run.Held : run.After).Add(u);
                }
                run.Result = pipeline.Finish();
            }
            return run;
        }

        private static double Ate(IEnumerable<FrameUpdate> updates, SyntheticSequence seq)
        {
            var l = updates.ToList();
            return TrajectoryMetrics.Evaluate(l.Select(u => u.Pose).ToList(), l.Select(u => seq.Pose(u.FrameIndex)).ToList()).AtePercent;
        }

        [Fact]
        public void Frames_delivered_before_the_first_solve_follow_the_camera_and_continue_after_it()
        {
            _ = Ctx;
            // Measured (focal estimated, as a user runs it; the bootstrap at the guess sqrt(W H) = 111 px for 102.4): live ATE
            // while the first solve was held 1.6 % of the path (29.8 % without the bootstrap: every frame at the first
            // keyframe's pose), after it 0.5 % (30.4 % without), final 0.03 % (0.04 % without; 23 keyframes against 14,
            // since keyframes are chosen against the bootstrap while mapping is behind). Bounds about three times those; the
            // frames after the release race the mapping thread, so which solve is applied at which frame varies.
            var probe = Stream(bootstrap: false, focal: null);
            Assert.All(probe.Held, u => Assert.True(u.Pose.Translation.All(t => t == 0), $"frame {u.FrameIndex} moved without the bootstrap"));

            var run = Stream(bootstrap: true, focal: null);
            int second = run.Held.Where(u => u.IsKeyframe).Skip(1).First().FrameIndex;
            var posed = run.Held.Where(u => u.FrameIndex >= second).ToList();
            Assert.True(posed.Count >= 20, $"only {posed.Count} frames after the second keyframe (frame {second})");
            double held = Ate(posed, run.Seq);
            Assert.True(held < 5.0, $"live ATE while the first solve was held: {held:F2} % of the path");
            // After the first solve is applied, the keyframes chosen meanwhile were re-chained onto it: the live path goes on
            // from the solved trajectory.
            double after = Ate(run.After, run.Seq);
            Assert.True(after < 1.5, $"live ATE after the first solve: {after:F2} % of the path");
            double final = TrajectoryMetrics.Evaluate(run.Result.Poses.Select(p => p.Pose).ToList(), run.Result.Poses.Select(p => run.Seq.Pose(p.Index)).ToList()).AtePercent;
            Assert.True(final < 0.5, $"final ATE {final:F2} % of the path");
        }
    }
}
