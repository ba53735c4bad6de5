using System;
using System.Linq;
using FlowMap.Solve;
using Xunit;

namespace FlowMap.Tests.Solve
{
    /// <summary>
    /// The CPU reference solver on analytic scenes with TRUE flow. Bounds (issue 5): rotation error below 0.5 degrees per
    /// pair, focal within 2 %, depth AbsRel below 0.05 after one median scale per frame.
    /// </summary>
    public sealed class CpuSolverTests
    {
        internal static (SolverResult Result, AnalyticScene Scene) Run(string motion, SolverBackend backend, int steps = 600, bool fixedFocal = false,
            int w = 64, int h = 48, int frames = 4, Action<SolverTuning>? tune = null, int boards = 0)
        {
            var scene = new AnalyticScene(w, h, frames, 0.95 * Math.Sqrt(w * h), motion, seed: 2, boards: boards);
            var window = fixedFocal ? new SolverWindow(scene.Window.Images, scene.Window.Pairs, null, scene.Focal) : scene.Window;
            using var solver = WindowSolver.Create(backend);
            if (tune != null && solver is CpuWindowSolver cpu) tune(cpu.Tuning);
            var result = solver.Solve(window, new SolverOptions { Steps = steps });
            return (result, scene);
        }

        /// <summary>A wall and a floor (smooth depth), 4 frames at 64x48, 600 steps.</summary>
        [Fact]
        public void Walk_with_true_flow_recovers_rotation_focal_and_depth()
        {
            var (r, scene) = Run("walk", SolverBackend.Cpu);
            double rot = scene.WorstPairRotationErrorDeg(r.Poses);
            double focalErr = Math.Abs(r.Focal / scene.Focal - 1);
            double absRel = scene.DepthAbsRel(r.Depth);
            Assert.True(rot < 0.5, $"rotation error {rot:F3} deg (bound 0.5)");
            Assert.True(focalErr < 0.02, $"focal {r.Focal:F2} vs {scene.Focal:F2}: {focalErr:P2} (bound 2 %)");
            Assert.True(absRel < 0.05, $"depth AbsRel {absRel:F4} (bound 0.05)");
            Assert.True(r.Confidence.Length == 4 && r.Depth.Length == 4 && r.Poses.Length == 4);
        }
        /// <summary>The variant choice (METHOD.md): the stop-gradient through the poses must be the less accurate one.</summary>
        [Fact]
        public void Gradient_through_Procrustes_beats_a_stop_gradient_through_the_poses()
        {
            var scene = new AnalyticScene(64, 48, 4, 0.95 * Math.Sqrt(64 * 48), "walk", seed: 2, boards: 0);
            using var solver = WindowSolver.Create(SolverBackend.Cpu);
            var through = solver.Solve(scene.Window, new SolverOptions { Steps = 300 });
            var stop = solver.Solve(scene.Window, new SolverOptions { Steps = 300, GradientThroughPoses = false });
            double rt = scene.WorstPairRotationErrorDeg(through.Poses), rs = scene.WorstPairRotationErrorDeg(stop.Poses);
            double at = scene.DepthAbsRel(through.Depth), as_ = scene.DepthAbsRel(stop.Depth);
            Assert.True(rt < rs && at < as_, $"through Procrustes: rotation {rt:F3} deg, AbsRel {at:F4}; stop-gradient: rotation {rs:F3} deg, AbsRel {as_:F4}");
        }

        /// <summary>A warm start at the truth stays there (the warm-start rate is a tenth: Adam's first steps must not throw it out).</summary>
        [Fact]
        public void A_warm_start_at_the_truth_stays_accurate()
        {
            var scene = new AnalyticScene(64, 48, 4, 0.95 * Math.Sqrt(64 * 48), "walk", seed: 2, boards: 0);
            var warm = new SolverWarmStart
            {
                InitialDepth = scene.Depth.Select(d => (FloatImage?)new FloatImage(64, 48, d)).ToList(),
                Focal = scene.Focal,
            };
            using var solver = new CpuWindowSolver();
            var r = solver.Solve(scene.Window, new SolverOptions { Steps = 60 }, warm);
            double rot = scene.WorstPairRotationErrorDeg(r.Poses), focalErr = Math.Abs(r.Focal / scene.Focal - 1), absRel = scene.DepthAbsRel(r.Depth);
            Assert.True(rot < 0.2 && focalErr < 0.02 && absRel < 0.03, $"rotation {rot:F3} deg, focal error {focalErr:P2}, AbsRel {absRel:F4}");
            // Against the full rate: the reduced warm rate must keep the focal closer to the truth.
            solver.Tuning.WarmRateFactor = 1;
            var full = solver.Solve(scene.Window, new SolverOptions { Steps = 60 }, warm);
            double fullErr = Math.Abs(full.Focal / scene.Focal - 1);
            Assert.True(focalErr < fullErr, $"warm rate: focal error {focalErr:P2}; full rate: {fullErr:P2}");
        }

        [Fact]
        public void Same_input_gives_an_identical_result()
        {
            var a = Run("walk", SolverBackend.Cpu, steps: 20).Result;
            var b = Run("walk", SolverBackend.Cpu, steps: 20).Result;
            Assert.Equal(a.Focal, b.Focal);
            Assert.Equal(a.FinalLoss, b.FinalLoss);
            for (int f = 0; f < a.Depth.Length; f++) Assert.Equal(a.Depth[f].Data, b.Depth[f].Data);
        }

        [Fact]
        public void A_known_focal_is_kept_and_frozen_frames_keep_their_warm_depth()
        {
            var scene = new AnalyticScene(40, 30, 3, 35, "walk", seed: 4, boards: 0);
            var window = new SolverWindow(scene.Window.Images, scene.Window.Pairs, null, 35);
            var warm = new SolverWarmStart { InitialDepth = new FloatImage?[] { new FloatImage(40, 30, scene.Depth[0]), null, null }, FrozenFrames = 1 };
            using var solver = WindowSolver.Create(SolverBackend.Cpu);
            var r = solver.Solve(window, new SolverOptions { Steps = 30 }, warm);
            Assert.Equal(35, r.Focal);
            // The frozen frame's depth is the warm start sampled on the grid nodes (exact there).
            Assert.True(Math.Abs(r.Depth[0][0, 0] - scene.Depth[0][0]) < 1e-4 * scene.Depth[0][0]);
        }

        [Fact]
        public void Bad_input_is_rejected_with_a_clear_error()
        {
            var scene = new AnalyticScene(20, 15, 2, 20, "walk", boards: 0);
            var pair = scene.Window.Pairs[0];
            pair.Forward.Data[7] = float.NaN;
            using var solver = WindowSolver.Create(SolverBackend.Cpu);
            var e = Assert.Throws<ArgumentException>(() => solver.Solve(scene.Window, new SolverOptions()));
            Assert.Contains("non-finite", e.Message);
            pair.Forward.Data[7] = 0;
            Assert.Throws<ArgumentOutOfRangeException>(() => solver.Solve(scene.Window, new SolverOptions { LearningRate = double.NaN }));
            var badPrior = new SolverWindow(scene.Window.Images, scene.Window.Pairs, new[] { new FloatImage(20, 15), new FloatImage(20, 15) });
            Assert.Throws<ArgumentException>(() => solver.Solve(badPrior, new SolverOptions()));
        }
    }
}
