using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    public sealed class ReconstructionPipelineTests
    {
        private static (ReconstructionResult Result, List<FrameEstimate> Frames, TruthSolver Solver, List<FlowMap.Session.FrameUpdate> Live) Run(PlaneScene s, ReconstructionOptions o, bool varyScale = true)
        {
            var solver = new TruthSolver(s, varyScale);
            // The solver double returns the truth of a plane, where the focal is not observable: these tests are about the
            // pipeline's mechanics (windows, scale chaining, finalising), so the multi-view refinement (which would free the
            // focal) is off; GeometryPipelineTests runs the whole mapper on a scene with depth.
            o.Refine = false;
            using var p = new ReconstructionPipeline(o, new TruthFlow(s), solver);
            var frames = new List<FrameEstimate>();
            var live = new List<FlowMap.Session.FrameUpdate>();
            p.FrameFinalized += frames.Add;
            for (int i = 0; i < s.Frames; i++) { var u = p.Process(s.Frame(i)); if (u != null) live.Add(u); }
            var r = p.Finish();
            return (r, frames, solver, live);
        }

        private static void AssertPose(CameraPose expected, CameraPose actual, double tol, string what)
        {
            for (int i = 0; i < 3; i++)
                Assert.True(Math.Abs(expected.T(i) - actual.T(i)) < tol, $"{what}: T{i} expected {expected.T(i):F5}, got {actual.T(i):F5}");
            Assert.True(expected.Inverse().Compose(actual).RotationAngle() < 1e-3, $"{what}: rotation differs");
        }

        [Fact]
        public void Online_chains_windows_at_one_scale_and_poses_every_frame()
        {
            // 64x48, f = 50, plane at z = 4, 0.05 per frame: 0.625 px of flow per frame; a keyframe about every 3 frames.
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 30);
            var o = new ReconstructionOptions { Mode = ReconstructionMode.Online, ProcessingSize = (64, 48), WindowKeyframes = 4, ActiveKeyframes = 2 };
            var (r, frames, solver, live) = Run(s, o);

            Assert.Equal(30, r.Poses.Count);
            Assert.Equal(Enumerable.Range(0, 30), frames.Select(f => f.Index));            // every frame finalised once, in order
            Assert.Equal(Enumerable.Range(0, 30), r.Poses.Select(p => p.Index));
            Assert.True(solver.Calls.Count >= 5, $"solves {solver.Calls.Count}");
            Assert.True(r.Keyframes >= 6 && r.Keyframes <= 15, $"keyframes {r.Keyframes}");
            // Each solve had its own scale (1, 1.5, 2, ...): the chained trajectory must still be the truth in the first
            // window's gauge (its first two keyframes one unit apart; 2e-3 in the truth's units).
            double unit = s.Unit(frames.Where(f => f.IsKeyframe).Select(f => f.Index));
            foreach (var (index, _, pose) in r.Poses) AssertPose(s.Pose(index), PlaneScene.InTruthUnits(pose, unit), 2e-3, $"frame {index}");
            // Depth of every frame at the same scale (z = 4 in the truth's units), including frames carried over from their keyframe.
            foreach (var f in frames)
            {
                Assert.Equal(64, f.Depth.Width);
                Assert.Equal(4.0, f.Depth[32, 24] * unit, 2);
            }
            // Windows are bounded and warm-started after the first.
            Assert.All(solver.Calls, c => Assert.True(c.Frames.Length <= 4));
            Assert.Null(solver.Calls[0].Warm);
            Assert.All(solver.Calls.Skip(1), c => Assert.NotNull(c.Warm));
            Assert.Equal(o.FirstWindowSteps, solver.Calls[0].Steps);
            Assert.Equal(o.KeyframeSteps, solver.Calls[1].Steps);
            // A live update for every frame, and a point cloud at the plane's depth.
            Assert.Equal(30, live.Count);
            Assert.True(r.Points.Count > 100);
            for (int i = 0; i < r.Points.Count; i++) Assert.Equal(4.0, r.Points.Positions[3 * i + 2] * unit, 2);
            Assert.Equal(50, r.Processing.Fx, 6);
            Assert.Contains("solve", r.StageMedianMilliseconds.Keys);
            Assert.Contains("flow", r.StageMedianMilliseconds.Keys);
            Assert.DoesNotContain(r.Warnings, w => w.StartsWith("static"));
        }

        [Fact]
        public void Offline_solves_all_keyframes_in_one_window_and_poses_every_frame()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 24);
            var (r, frames, solver, live) = Run(s, new ReconstructionOptions { Mode = ReconstructionMode.Offline, ProcessingSize = (64, 48) });
            Assert.Empty(live);
            // One solve over every keyframe, started from geometry (no sliding-window solves first).
            var call = Assert.Single(solver.Calls);
            Assert.Equal(r.Keyframes, call.Frames.Length);
            Assert.True(call.Frames.Length >= 7, $"keyframes {call.Frames.Length}");
            Assert.Equal(0, call.Frames[0]);
            Assert.Equal(new ReconstructionOptions().OfflineSteps, call.Steps);
            // A fronto-parallel plane translating sideways does not determine the focal (flow = f t / Z): said in a warning,
            // and the solve starts from flat depth with FlowMap's own focal (softmin), not from geometry.
            Assert.Null(call.Warm);
            Assert.Contains(r.Warnings, w => w.Contains("--focal"));
            Assert.Equal(Enumerable.Range(0, 24), frames.Select(f => f.Index));
            foreach (var (index, _, pose) in r.Poses) AssertPose(s.Pose(index), pose, 2e-3, $"frame {index}");
        }

        [Fact]
        public void Offline_with_every_frame_in_the_window()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 12);
            var (r, frames, solver, live) = Run(s, new ReconstructionOptions { Mode = ReconstructionMode.Offline, ProcessingSize = (64, 48), OfflineKeyframesOnly = false });
            Assert.Empty(live);
            var call = Assert.Single(solver.Calls);
            Assert.Equal(Enumerable.Range(0, 12), call.Frames);
            Assert.Equal(12, frames.Count);
            foreach (var (index, _, pose) in r.Poses) AssertPose(s.Pose(index), pose, 1e-6, $"frame {index}");
        }

        [Fact]
        public void Depth_prior_reaches_every_solve_and_runs_for_keyframes_only()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 20);
            var solver = new TruthSolver(s);
            var prior = new ConstantPrior();
            using (var p = new ReconstructionPipeline(new ReconstructionOptions { ProcessingSize = (64, 48) }, new TruthFlow(s), solver, prior))
            {
                for (int i = 0; i < s.Frames; i++) p.Process(s.Frame(i));
                var r = p.Finish();
                Assert.Equal(20, r.Poses.Count);
                Assert.Equal("constant", r.Components["depth_prior"]);
                // Keyframes always get a prior; speculative runs for likely keyframes may add a few, but far fewer than frames.
                Assert.InRange(prior.Calls, r.Keyframes, r.Keyframes + 8);
            }
            Assert.All(solver.Calls.Zip(solver.PriorsSeen), c => Assert.Equal(c.First.Frames.Length, c.Second));
        }

        [Fact]
        public void Static_camera_holds_still_and_warns()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.0, 20);
            foreach (var mode in new[] { ReconstructionMode.Online, ReconstructionMode.Offline })
            {
                var (r, frames, solver, _) = Run(s, new ReconstructionOptions { Mode = mode, ProcessingSize = (64, 48) });
                Assert.Empty(solver.Calls);
                Assert.Equal(20, frames.Count);
                Assert.All(r.Poses, p => AssertPose(CameraPose.Identity, p.Pose, 1e-12, mode.ToString()));
                Assert.Contains(r.Warnings, w => w.StartsWith("static camera"));
                Assert.All(frames, f => Assert.All(f.Confidence.Data, c => Assert.Equal(0f, c)));
            }
        }

        [Fact]
        public void Same_input_gives_the_same_output()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 15);
            var o = new ReconstructionOptions { ProcessingSize = (64, 48) };
            var a = Run(s, o); var b = Run(s, o);
            Assert.Equal(a.Result.Poses.Select(p => p.Pose.Translation[0]), b.Result.Poses.Select(p => p.Pose.Translation[0]));
            Assert.Equal(a.Result.Points.Positions, b.Result.Points.Positions);
        }

        [Fact]
        public void Default_processing_size_keeps_the_aspect_near_320x240()
        {
            Assert.Equal((320, 240), ImageResampler.DefaultProcessingSize(640, 480));
            var (w, h) = ImageResampler.DefaultProcessingSize(1920, 1080);
            Assert.InRange(w / (double)h, 1.77 - 0.01, 1.78 + 0.01);
            Assert.InRange(w * h, 76800 * 0.98, 76800 * 1.02);
            Assert.Equal((100, 80), ImageResampler.DefaultProcessingSize(100, 80));
        }

        [Fact]
        public void Area_resize_averages_blocks()
        {
            var img = new RgbImage(4, 2);
            for (int i = 0; i < 8; i++) img.Pixels[3 * i] = (byte)(i % 2 == 0 ? 0 : 200);
            var half = ImageResampler.Resize(img, 2, 1);
            Assert.Equal(100, half.Pixels[0]);
            Assert.Equal(100, half.Pixels[3]);
        }

        [Fact]
        public void Bad_options_are_refused()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 2);
            Assert.Throws<ArgumentException>(() => new ReconstructionPipeline(new ReconstructionOptions { ActiveKeyframes = 9 }, new TruthFlow(s), new TruthSolver(s)));
            Assert.Throws<ArgumentException>(() => new ReconstructionPipeline(new ReconstructionOptions { FocalPixels = -3 }, new TruthFlow(s), new TruthSolver(s)));
            using var p = new ReconstructionPipeline(new ReconstructionOptions(), new TruthFlow(s), new TruthSolver(s));
            Assert.Throws<InvalidOperationException>(() => p.Finish());
        }
    }
}
