using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Reconstruction;
using FlowMap.Session;
using FlowMap.Tests.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Session
{
    /// <summary>
    /// The engine contract of a session on the real pipeline code with exact doubles (truth flow and solver on a textured
    /// plane, <see cref="PlaneScene"/>; no GPU): completing a session finishes the reconstruction and delivers what the
    /// live updates could not (the last keyframes' points and every frame's final pose), refined keyframe poses reach
    /// the engine while it runs, and the pipeline's warnings reach <see cref="FrameUpdate.Warnings"/>.
    /// </summary>
    public sealed class SessionCompletionTests
    {
        private sealed class Run
        {
            public readonly List<FrameUpdate> Updates = new List<FrameUpdate>();
            public readonly List<(int AfterUpdates, IReadOnlyList<FramePose> Poses)> Refined = new List<(int, IReadOnlyList<FramePose>)>();
            public SessionResult? Finished;
            public SessionResult? Result;
            public PlaneScene Scene = null!;
        }

        /// <summary>30 frames of a plane at z = 4 passing sideways (0.625 px of flow per frame: a keyframe about every 3 frames), no frame dropped.</summary>
        private static Run Reconstruct(int frames = 30)
        {
            var run = new Run { Scene = new PlaneScene(64, 48, 50, 4, 0.05, frames) };
            var o = new ReconstructionOptions { Mode = ReconstructionMode.Online, ProcessingSize = (64, 48), WindowKeyframes = 4, ActiveKeyframes = 2, Refine = false };
            var pipeline = new ReconstructionPipeline(o, new TruthFlow(run.Scene), new TruthSolver(run.Scene));
            using var session = new ReconstructionSession(new PipelineFrameProcessor(pipeline), queueCapacity: 2, dropFrames: false);
            // Handlers run on the pipeline thread one after another; the lists are read after Completion.
            session.FrameProcessed += run.Updates.Add;
            session.KeyframesRefined += k => run.Refined.Add((run.Updates.Count, k));
            session.Finished += r => run.Finished = r;
            for (int i = 0; i < frames; i++) session.PushFrame(run.Scene.Frame(i));
            session.Complete();
            Assert.True(session.Completion.Wait(TimeSpan.FromMinutes(2)));
            run.Result = session.Result;
            return run;
        }

        private static void AssertPose(CameraPose expected, CameraPose actual, double tol, string what)
        {
            for (int i = 0; i < 3; i++)
                Assert.True(Math.Abs(expected.T(i) - actual.T(i)) < tol, $"{what}: T{i} expected {expected.T(i):F5}, got {actual.T(i):F5}");
            Assert.True(expected.Inverse().Compose(actual).RotationAngle() < 1e-3, $"{what}: rotation differs");
        }

        private static bool Finite(CameraPose p) => p.Rotation.All(double.IsFinite) && p.Translation.All(double.IsFinite);

        [Fact]
        public void Complete_delivers_the_last_keyframes_points_and_every_frames_final_pose()
        {
            var run = Reconstruct();
            var r = run.Result;
            Assert.NotNull(r);
            Assert.Same(r, run.Finished);
            Assert.Equal(30, run.Updates.Count);
            // Every frame's final pose, in order, on the true path in the first window's gauge (the doubles are exact; 2e-3 in
            // the truth's units as the pipeline's own test: the windows are chained at one scale from depth medians in float).
            Assert.Equal(Enumerable.Range(0, 30), r!.Poses.Select(p => p.FrameIndex));
            double unit = run.Scene.Unit(r.Poses.Where(p => p.IsKeyframe).Select(p => p.FrameIndex));
            foreach (var p in r.Poses) AssertPose(run.Scene.Pose(p.FrameIndex), PlaneScene.InTruthUnits(p.Pose, unit), 2e-3, $"frame {p.FrameIndex}");
            Assert.Equal(run.Updates.Where(u => u.IsKeyframe).Select(u => u.FrameIndex), r.Poses.Where(p => p.IsKeyframe).Select(p => p.FrameIndex));
            Assert.Equal(run.Updates.Select(u => u.TimestampSeconds), r.Poses.Select(p => p.TimestampSeconds));
            // The last keyframes (the active part of the window when the stream ended) were fused only on completion: their
            // points come with the result, not with any live update, and lie on the plane (z = 4 in the truth's units).
            Assert.True(r.NewPoints.Count > 100, $"{r.NewPoints.Count} points fused on completion");
            for (int i = 0; i < r.NewPoints.Count; i++) Assert.Equal(4.0, r.NewPoints.Positions[3 * i + 2] * unit, 2);
            int live = run.Updates.Sum(u => u.NewPoints?.Count ?? 0);
            Assert.True(live > 0, "no points in the live updates");
            // The camera walks along +x, so the last keyframes see the plane further right than any keyframe fused live: a
            // keyframe at frame k sees x up to 0.05 k + 31.5 * 4 / 50, and it is at least one frame (0.05) later; half a
            // step of margin for float positions (all in the truth's units).
            double MaxX(IEnumerable<PointCloud> clouds) => clouds.SelectMany(c => Enumerable.Range(0, c.Count).Select(i => c.Positions[3 * i] * unit)).Max();
            Assert.True(MaxX(new[] { r.NewPoints }) > MaxX(run.Updates.Where(u => u.NewPoints != null).Select(u => u.NewPoints!)) + 0.025,
                "the points fused on completion are not the last keyframes'");
            // The whole cloud merges the points of overlapping keyframes per voxel: never more than the points delivered.
            Assert.InRange(r.Points.Count, 1, live + r.NewPoints.Count);
            Assert.Equal(50, r.Intrinsics.Fx, 6);
            Assert.Equal(64, r.Intrinsics.Width);
        }

        [Fact]
        public void Refined_keyframe_poses_reach_the_engine_and_end_at_the_final_poses()
        {
            var run = Reconstruct();
            var r = run.Result!;
            // Keyframes posed before the first window solve were delivered at the first keyframe's pose (identity); the solve
            // moves them, so the event fires while the session runs (before the last frame's update).
            Assert.NotEmpty(run.Refined);
            Assert.True(run.Refined[0].AfterUpdates < run.Updates.Count, "no refinement while the session ran");
            var keyframes = run.Updates.Where(u => u.IsKeyframe).Select(u => u.FrameIndex).ToHashSet();
            foreach (var (after, poses) in run.Refined)
                foreach (var p in poses)
                {
                    Assert.True(Finite(p.Pose), $"keyframe {p.FrameIndex}: pose not finite");
                    Assert.True(p.IsKeyframe);
                    Assert.Contains(p.FrameIndex, keyframes);
                    // Only keyframes already delivered are refined (a keyframe's first pose comes with its own update, raised
                    // after this event when the refinement ran while that frame was processed).
                    int current = after < run.Updates.Count ? run.Updates[after].FrameIndex : int.MaxValue;
                    Assert.True(p.FrameIndex < current, $"keyframe {p.FrameIndex} refined before it was delivered");
                }
            // The contract an engine relies on: a keyframe's pose as last delivered (its update, then each refinement in
            // order) is its final pose, exactly: no pose change is left unreported.
            var delivered = run.Updates.Where(u => u.IsKeyframe).ToDictionary(u => u.FrameIndex, u => u.Pose);
            foreach (var (_, poses) in run.Refined) foreach (var p in poses) delivered[p.FrameIndex] = p.Pose;
            foreach (var f in r.Poses.Where(p => p.IsKeyframe))
            {
                Assert.Equal(f.Pose.Rotation, delivered[f.FrameIndex].Rotation);
                Assert.Equal(f.Pose.Translation, delivered[f.FrameIndex].Translation);
            }
        }

        [Fact]
        public void A_warning_the_pipeline_raises_reaches_the_frame_update_once()
        {
            // A fronto-parallel plane translating sideways does not determine the focal (flow = f t / Z): the first window
            // solve warns, and that frame's update carries the warning.
            var run = Reconstruct();
            var raised = run.Updates.Where(u => u.Warnings.Any(w => w.StartsWith("The focal length is not determined", StringComparison.Ordinal))).ToList();
            Assert.NotEmpty(raised);
            Assert.Contains("--focal", raised[0].Warnings.First(w => w.StartsWith("The focal length", StringComparison.Ordinal)));
            // Raised when new, not repeated with every later frame.
            Assert.True(raised.Count < run.Updates.Count(u => u.FrameIndex >= raised[0].FrameIndex), "the warning is repeated with every frame");
            Assert.Contains(run.Result!.Warnings, w => w.StartsWith("The focal length is not determined", StringComparison.Ordinal));
        }

        [Fact]
        public void A_session_completed_without_frames_completes_without_a_result()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 1);
            var pipeline = new ReconstructionPipeline(new ReconstructionOptions { ProcessingSize = (64, 48) }, new TruthFlow(s), new TruthSolver(s));
            using var session = new ReconstructionSession(new PipelineFrameProcessor(pipeline));
            bool finished = false;
            session.Finished += _ => finished = true;
            session.Complete();
            Assert.True(session.Completion.Wait(TimeSpan.FromSeconds(30)));
            Assert.False(finished);
            Assert.Null(session.Result);
        }

        [Fact]
        public void Without_a_listener_for_final_estimates_the_poses_are_the_same_and_no_frame_depth_is_carried()
        {
            // A live session does not receive the final per-frame estimates, so the depth of frames that are not keyframes
            // (carried from their keyframe along the flow, the "depth_transfer" stage) is skipped: the poses must not change.
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 30);
            ReconstructionPipeline Make() => new ReconstructionPipeline(new ReconstructionOptions { Mode = ReconstructionMode.Online, ProcessingSize = (64, 48),
                WindowKeyframes = 4, ActiveKeyframes = 2, Refine = false }, new TruthFlow(s), new TruthSolver(s));
            var frames = new List<FrameEstimate>();
            using var listened = Make();
            listened.FrameFinalized += frames.Add;
            using var quiet = Make();
            for (int i = 0; i < s.Frames; i++) { listened.Process(s.Frame(i)); quiet.Process(s.Frame(i)); }
            var a = listened.Finish();
            var b = quiet.Finish();
            Assert.Equal(a.Poses.Select(p => p.Pose.Translation), b.Poses.Select(p => p.Pose.Translation));
            Assert.Equal(a.Poses.Select(p => p.Pose.Rotation), b.Poses.Select(p => p.Pose.Rotation));
            Assert.All(frames, f => Assert.NotNull(f.Depth));
            Assert.All(frames, f => Assert.NotNull(f.Confidence));
        }
    }
}
