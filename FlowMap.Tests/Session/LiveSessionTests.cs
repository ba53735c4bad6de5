using System;
using System.Collections.Concurrent;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Session;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Session
{
    /// <summary>The public session on the real pipeline (Vulkan flow and solver), fed like an engine feeds it.</summary>
    [Collection("cli-heavy")]
    public sealed class LiveSessionTests : GpuTest
    {
        public LiveSessionTests(GpuFixture f) : base(f) { }

        [Fact]
        public void An_engine_pushing_rgba_frames_gets_a_pose_per_frame_keyframe_depth_points_and_stage_timings()
        {
            _ = Ctx; // skips visibly without a Vulkan device (fails when FLOWMAP_REQUIRE_GPU=1)
            const int n = 16;
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 5),
                new SyntheticSequenceOptions { Path = "walk", Frames = n, Width = 96, Height = 72, Seed = 5 });
            var updates = new ConcurrentQueue<FrameUpdate>();
            using var session = ReconstructionSession.Create(new SessionOptions { DropFrames = false, ProcessingWidth = 96, ProcessingHeight = 72, Validation = true });
            session.FrameProcessed += updates.Enqueue;
            var refined = new ConcurrentQueue<FramePose>();
            session.KeyframesRefined += k => { foreach (var p in k) refined.Enqueue(p); };
            for (int i = 0; i < n; i++)
            {
                // RGBA with a padded stride, as a texture read-back would give.
                var rgb = seq.Frame(i).Pixels;
                int stride = 96 * 4 + 16;
                var rgba = new byte[stride * 72];
                for (int y = 0; y < 72; y++)
                    for (int x = 0; x < 96; x++)
                    {
                        int s = 3 * (y * 96 + x), d = y * stride + 4 * x;
                        rgba[d] = rgb[s]; rgba[d + 1] = rgb[s + 1]; rgba[d + 2] = rgb[s + 2]; rgba[d + 3] = 255;
                    }
                session.PushFrame(rgba, 96, 72, stride, PixelFormat.Rgba32, i / 30.0);
            }
            session.Complete();
            Assert.True(session.Completion.Wait(TimeSpan.FromMinutes(5)));
            var list = updates.ToList();
            Assert.Equal(Enumerable.Range(0, n), list.Select(u => u.FrameIndex));
            Assert.Contains(list, u => u.IsKeyframe && u.Depth != null && u.Confidence != null);
            Assert.True(list.Sum(u => u.NewPoints?.Count ?? 0) > 100);
            Assert.All(list, u => Assert.True(u.StageMilliseconds.Count > 0));
            // Keyframes carry the flow from the previous keyframe; the other frames are tracked by points (no dense flow).
            Assert.All(list.Skip(1).Where(u => u.IsKeyframe), u => Assert.True(u.Flow != null && u.Flow.Width == 96 && u.Flow.Height == 72, $"keyframe {u.FrameIndex} has no flow"));
            var st = session.Stats;
            Assert.Equal(n, st.Processed);
            Assert.Equal(0, st.Dropped);
            Assert.True(st.StageMedianMilliseconds.ContainsKey("flow"));
            // The live poses follow the true path: a loose bound on the camera centres after Sim(3) alignment.
            var acc = TrajectoryMetrics.Evaluate(list.Select(u => u.Pose).ToList(), seq.Poses.ToList());
            Assert.True(acc.AtePercent < 25, $"live ATE {acc.AtePercent:F1} % of the path");
            // Completing the session finalised it: every frame's final pose, the last keyframes' points, finite refined poses.
            var result = session.Result;
            Assert.NotNull(result);
            Assert.Equal(Enumerable.Range(0, n), result!.Poses.Select(p => p.FrameIndex));
            Assert.True(result.NewPoints.Count > 0, "no points fused on completion");
            // The map's points as the stats report them are the cloud's; it holds at least that many voxels (the rest wait for
            // a second keyframe to confirm them).
            Assert.Equal(result.Points.Count, session.Stats.MapPoints);
            Assert.InRange(session.Stats.MapVoxels, session.Stats.MapPoints, long.MaxValue);
            // And its memory (what a long session's grows with): at least a voxel's storage and an index slot per voxel.
            Assert.True(session.Stats.MapBytes >= session.Stats.MapVoxels * (long)(FlowMap.Fusion.PointCloudFusion.VoxelBytes + FlowMap.Fusion.PointCloudFusion.SlotBytes),
                $"map {session.Stats.MapBytes} bytes for {session.Stats.MapVoxels} voxels");
            Assert.All(refined, p => Assert.True(p.Pose.Rotation.Concat(p.Pose.Translation).All(double.IsFinite), $"keyframe {p.FrameIndex}: pose not finite"));
            var final = TrajectoryMetrics.Evaluate(result.Poses.Select(p => p.Pose).ToList(), seq.Poses.ToList());
            Assert.True(final.AtePercent < 25, $"final ATE {final.AtePercent:F1} % of the path");
            // The session's stage totals hold all of mapping's work, completion's solves included: at least what the frames
            // reported (solves applied while streaming), and a solve and a refinement ran.
            foreach (var stage in new[] { "solve", "refine", "track" })
            {
                Assert.True(result.StageTotalMilliseconds.TryGetValue(stage, out var total) && total > 0, $"no total for {stage}");
                double reported = list.Sum(u => u.StageMilliseconds.TryGetValue(stage, out var v) ? v : 0);
                // The same values summed in another order: equal up to double rounding (relative 1e-12 for a few hundred terms).
                Assert.True(total >= reported * (1 - 1e-12), $"{stage}: total {total} ms below the {reported} ms the frames reported");
            }
        }

        [Fact]
        public void Tracking_and_mapping_run_concurrently_on_the_gpu_under_the_validation_layer()
        {
            _ = Ctx; // skips visibly without a Vulkan device (fails when FLOWMAP_REQUIRE_GPU=1)
            const int n = 16;
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 5),
                new SyntheticSequenceOptions { Path = "walk", Frames = n, Width = 96, Height = 72, Seed = 5 });
            // A live session's pipeline (mapping on its own thread, its own flow estimator, one device and queue), with
            // every frame processed so the check does not depend on which frames a paced run would drop.
            var options = new SessionOptions { ProcessingWidth = 96, ProcessingHeight = 72, Validation = true };
            var o = FlowMap.Reconstruction.ReconstructionComponents.LiveOptions(options, mappingThread: true);
            Assert.True(o.MappingThread);
            var pipeline = FlowMap.Reconstruction.ReconstructionComponents.CreatePipeline(o, validation: true);
            var updates = new ConcurrentQueue<FrameUpdate>();
            bool overlapped = false;
            using (var session = new ReconstructionSession(new FlowMap.Reconstruction.PipelineFrameProcessor(pipeline), queueCapacity: 2, dropFrames: false))
            {
                session.FrameProcessed += u => { updates.Enqueue(u); overlapped |= pipeline.MappingBusy; };
                for (int i = 0; i < n; i++) session.PushFrame(new Frame(i, i / 30.0, seq.Frame(i), $"{i:D6}.png"));
                session.Complete();
                Assert.True(session.Completion.Wait(TimeSpan.FromMinutes(5))); // a validation error fails the pipeline, and this
                var r = session.Result!;
                Assert.Equal(Enumerable.Range(0, n), r.Poses.Select(p => p.FrameIndex));
                Assert.All(r.Poses, p => Assert.True(p.Pose.Rotation.Concat(p.Pose.Translation).All(double.IsFinite), $"frame {p.FrameIndex}: pose not finite"));
                Assert.True(r.Points.Count > 100);
                // No accuracy bound here: with mapping on its own thread the keyframes depend on when each solve finishes
                // (no new keyframe while one runs), so the path depends on timing and a bound would make the verdict depend
                // on the machine's load (a 25 % bound failed once in CI at 30.4 % under load). The accuracy of the threaded
                // path is measured by `bench live` (ATE of live and final poses); the deterministic accuracy checks are the
                // lossless session above and SessionCompletionTests.
            }
            Assert.Equal(Enumerable.Range(0, n), updates.Select(u => u.FrameIndex));
            Assert.True(overlapped, "no frame was delivered while a mapping solve ran");
        }
    }
}
