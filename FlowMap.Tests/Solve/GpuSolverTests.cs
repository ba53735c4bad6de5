using System;
using FlowMap.Solve;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve
{
    /// <summary>
    /// The GPU solver end to end on the analytic walk with TRUE flow, same bounds as the CPU reference (issue 5): rotation
    /// error below 0.5 degrees per pair, focal within 2 %, depth AbsRel below 0.05 after one median scale per frame;
    /// and bit-identical results for identical input.
    /// </summary>
    public sealed class GpuSolverTests : GpuTest
    {
        public GpuSolverTests(GpuFixture f) : base(f) { }

        private (SolverResult, AnalyticScene) Run(int steps, int boards = 0)
        {
            var scene = new AnalyticScene(64, 48, 4, 0.95 * Math.Sqrt(64 * 48), "walk", seed: 2, boards: boards);
            using var solver = new GpuWindowSolver(Ctx);
            return (solver.Solve(scene.Window, new SolverOptions { Steps = steps }), scene);
        }

        [Fact]
        public void Walk_with_true_flow_recovers_rotation_focal_and_depth()
        {
            var (r, scene) = Run(600);
            double rot = scene.WorstPairRotationErrorDeg(r.Poses);
            double focalErr = Math.Abs(r.Focal / scene.Focal - 1);
            double absRel = scene.DepthAbsRel(r.Depth);
            Assert.True(rot < 0.5, $"rotation error {rot:F3} deg (bound 0.5)");
            Assert.True(focalErr < 0.02, $"focal {r.Focal:F2} vs {scene.Focal:F2}: {focalErr:P2} (bound 2 %)");
            Assert.True(absRel < 0.05, $"depth AbsRel {absRel:F4} (bound 0.05)");
            Assert.True(double.IsFinite(r.FinalLoss) && r.FinalLoss >= 0);
        }

        [Fact]
        public void Same_input_gives_an_identical_result()
        {
            var (a, _) = Run(15, boards: 2);
            var (b, _) = Run(15, boards: 2);
            Assert.Equal(a.Focal, b.Focal);
            Assert.Equal(a.FinalLoss, b.FinalLoss);
            for (int f = 0; f < a.Depth.Length; f++) Assert.Equal(a.Depth[f].Data, b.Depth[f].Data);
            for (int f = 0; f < a.Poses.Length; f++) Assert.Equal(a.Poses[f].Rotation, b.Poses[f].Rotation);
        }
    }
}
