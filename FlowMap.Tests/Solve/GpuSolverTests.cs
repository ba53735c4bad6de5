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

        /// <summary>
        /// Issue 12 item 6 (memory flat over a long session): keyframe after keyframe the solver creates and frees its
        /// buffers, command pools, fences and descriptor pools; after the first solve (which compiles and caches the
        /// pipelines) further solves, fresh and warm-started, batched and one step per submission, leave no Vulkan object
        /// and no buffer byte behind.
        /// </summary>
        [Fact]
        public void Repeated_solves_leave_no_vulkan_objects_or_buffer_memory_behind()
        {
            var scene = new AnalyticScene(37, 29, 4, 0.9 * Math.Sqrt(37 * 29), "walk", seed: 4, boards: 2);
            using var solver = new GpuWindowSolver(Ctx);
            var first = solver.Solve(scene.Window, new SolverOptions { Steps = 12 });
            int handles = Ctx.LiveHandles;
            long bytes = Ctx.BufferBytes;
            var warm = new SolverWarmStart { InitialDepth = first.Depth, Focal = first.Focal, FrozenFrames = 1 };
            for (int i = 0; i < 4; i++)
            {
                solver.Solve(scene.Window, new SolverOptions { Steps = 12, StepsPerSubmission = i % 2 == 0 ? 25 : 1 }, i < 2 ? null : warm);
                Assert.Equal(handles, Ctx.LiveHandles);
                Assert.Equal(bytes, Ctx.BufferBytes);
            }
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
