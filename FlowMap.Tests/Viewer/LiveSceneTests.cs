using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using FlowMap.Session;
using FlowMap.Viewer.Scenes;
using Xunit;

namespace FlowMap.Tests.Viewer
{
    /// <summary>The live scene: fed by a session's events, keeps the latest state, never holds up the pipeline.</summary>
    public sealed class LiveSceneTests
    {
        private static FrameUpdate Update(int i, bool keyframe)
        {
            var pose = CameraPose.FromQuaternion(0, 0, 0, 1, 0.1 * i, 0, 0.2 * i);
            return new FrameUpdate
            {
                FrameIndex = i, Pose = pose, IsKeyframe = keyframe, Intrinsics = Intrinsics.Centered(32, 24, 30 + i),
                Depth = keyframe ? new FloatImage(32, 24) : null,
                NewPoints = keyframe ? new PointCloud(new float[] { i, 0, 1, i, 1, 1 }, new byte[] { 1, 2, 3, 4, 5, 6 }) : null,
                StageMilliseconds = new Dictionary<string, double> { ["flow"] = i },
            };
        }

        [Fact]
        public void Snapshot_holds_trajectory_keyframes_points_and_the_latest_inset()
        {
            var scene = new LiveScene();
            Assert.Equal(0, scene.Snapshot().Trajectory.Count);
            for (int i = 0; i < 10; i++) scene.Post(Update(i, keyframe: i % 3 == 0));
            var s = scene.Snapshot();
            Assert.Equal(10, s.Trajectory.Count);
            Assert.Equal(new[] { 0, 3, 6, 9 }, s.Keyframes);
            Assert.Equal(4, s.PointChunks.Count);
            Assert.Equal(8, s.PointCount);
            Assert.Equal(9, s.CurrentFrame);
            Assert.Equal(39, s.Intrinsics!.Fx);
            Assert.Equal(9.0, s.StageMilliseconds["flow"]);
            Assert.NotNull(s.Depth);
            Assert.Same(s, scene.Snapshot()); // unchanged state: the same snapshot, nothing copied
            long inset = s.InsetVersion;
            scene.Post(Update(10, keyframe: false));
            var s2 = scene.Snapshot();
            Assert.NotSame(s, s2);
            Assert.Equal(inset, s2.InsetVersion); // no new depth, image or flow
            Assert.Equal(10, s.Trajectory.Count); // earlier snapshots are not modified
        }

        [Fact]
        public void Refined_and_final_poses_replace_the_live_ones_and_the_last_points_are_added()
        {
            var scene = new LiveScene();
            foreach (int i in new[] { 0, 1, 3, 4 }) scene.Post(Update(i, keyframe: i % 3 == 0)); // frame 2 was dropped
            var moved = CameraPose.FromQuaternion(0, 0, 0, 1, 5, 6, 7);
            scene.Refine(new[] { new FramePose(3, 0.1, moved, true), new FramePose(2, 0.07, moved, false) });
            var s = scene.Snapshot();
            Assert.Equal(4, s.Trajectory.Count);                    // a pose for a frame never received is ignored
            Assert.Equal(5.0, s.Trajectory[2].T(0));                // frame 3 sits in the third slot
            Assert.Equal(0.1, s.Trajectory[1].T(0), 12);            // the others keep their live poses
            int chunks = s.PointChunks.Count;
            var last = new PointCloud(new float[] { 9, 9, 9 }, new byte[] { 1, 1, 1 });
            var final = CameraPose.FromQuaternion(0, 0, 0, 1, -1, 0, 0);
            scene.Finish(new SessionResult { Poses = new[] { new FramePose(4, 0.13, final, false) }, NewPoints = last });
            var f = scene.Snapshot();
            Assert.Equal(-1.0, f.Trajectory[3].T(0));
            Assert.Equal(chunks + 1, f.PointChunks.Count);
            Assert.Same(last, f.PointChunks[^1]);
            Assert.Equal("finished", f.Status);
        }

        [Fact]
        public void Session_events_feed_the_scene_while_a_slow_reader_takes_snapshots()
        {
            using var session = new ReconstructionSession(new CountingProcessor());
            using var scene = new LiveScene(session);
            var stop = false;
            var reader = new Thread(() =>
            {
                while (!Volatile.Read(ref stop)) { var s = scene.Snapshot(); Thread.Sleep(s.Trajectory.Count % 2); }
            });
            reader.Start();
            var img = new byte[8 * 6 * 3];
            for (int i = 0; i < 50; i++)
            {
                session.PushFrame(img, 8, 6, 24, PixelFormat.Rgb24, i / 30.0);
                Thread.Sleep(1);
            }
            session.Complete();
            Assert.True(session.Completion.Wait(TimeSpan.FromSeconds(20)));
            Volatile.Write(ref stop, true);
            reader.Join();
            var snap = scene.Snapshot();
            Assert.Equal(session.Stats.Processed, snap.Trajectory.Count);
            Assert.True(snap.Trajectory.Count > 0);
            Assert.Equal(snap.Trajectory.Count, snap.PointCount); // one point per processed frame
        }

        /// <summary>
        /// A long live session's chunks (every fused keyframe's points) are bounded: past the budget the scene replaces them
        /// with the session's map, which the renderer re-uploads (a new points generation); without it the scene grew by
        /// every keyframe's points for as long as the session ran.
        /// </summary>
        [Fact]
        public void Past_the_point_budget_the_chunks_become_the_sessions_map()
        {
            var processor = new MappingProcessor(distinct: 4);
            using var session = new ReconstructionSession(processor, queueCapacity: 1, dropFrames: false);
            using var scene = new LiveScene(session) { PointBudget = 10 };
            long generation = 0;
            int maxPoints = 0;
            session.FrameProcessed += _ =>
            {
                // Raised after the scene's handler: the scene as the renderer would see it after each frame.
                var s = scene.Snapshot();
                maxPoints = Math.Max(maxPoints, s.PointCount);
                Assert.True(s.PointsGeneration >= generation);
                generation = s.PointsGeneration;
            };
            var img = new byte[8 * 6 * 3];
            for (int i = 0; i < 60; i++) session.PushFrame(img, 8, 6, 24, PixelFormat.Rgb24, i / 30.0);
            session.Complete();
            Assert.True(session.Completion.Wait(TimeSpan.FromSeconds(20)));
            var snap = scene.Snapshot();
            Assert.Equal(60, snap.Trajectory.Count);
            // 2 points a frame, 120 received, at most 12 held at the end: each compaction (more than 10 held, so 12) leaves the
            // 4-point map, removing 8, so at least (120 - 12) / 8 of them.
            Assert.True(scene.Compactions >= (120 - 12) / 8, $"{scene.Compactions} compactions");
            Assert.Equal(scene.Compactions, snap.PointsGeneration);
            Assert.True(maxPoints <= 10 + 2, $"{maxPoints} points held (budget 10, 2 a frame)");
            Assert.True(processor.MapReads >= scene.Compactions);
        }

        /// <summary>Past the budget with nothing confirmed in the map yet, the scene keeps its chunks (it would show nothing).</summary>
        [Fact]
        public void An_empty_map_does_not_replace_the_chunks()
        {
            var processor = new MappingProcessor(distinct: 4, emptyMap: true);
            using var session = new ReconstructionSession(processor, queueCapacity: 1, dropFrames: false);
            using var scene = new LiveScene(session) { PointBudget = 10 };
            var img = new byte[8 * 6 * 3];
            for (int i = 0; i < 20; i++) session.PushFrame(img, 8, 6, 24, PixelFormat.Rgb24, i / 30.0);
            session.Complete();
            Assert.True(session.Completion.Wait(TimeSpan.FromSeconds(20)));
            var snap = scene.Snapshot();
            Assert.Equal(0, scene.Compactions);
            Assert.Equal(40, snap.PointCount);
            Assert.True(processor.MapReads > 0, "the map was never read");
        }

        /// <summary>Two points a frame, and a map of at most <c>distinct</c> points (those frames' points, deduplicated).</summary>
        private sealed class MappingProcessor : IFrameProcessor
        {
            private readonly int _distinct;
            private readonly bool _emptyMap;
            public MappingProcessor(int distinct, bool emptyMap = false) { _distinct = distinct; _emptyMap = emptyMap; }
            public int MapReads;

            public FrameUpdate Process(Frame frame, CancellationToken token) => new FrameUpdate
            {
                FrameIndex = frame.Index, Pose = CameraPose.Identity, IsKeyframe = true,
                NewPoints = new PointCloud(new float[] { frame.Index % _distinct, 0, 1, frame.Index % _distinct, 0, 1 }, new byte[] { 9, 9, 9, 9, 9, 9 }), Image = frame.Image,
            };

            public PointCloud Map()
            {
                Interlocked.Increment(ref MapReads);
                if (_emptyMap) return PointCloud.Empty;
                var pos = new float[3 * _distinct];
                for (int i = 0; i < _distinct; i++) { pos[3 * i] = i; pos[3 * i + 2] = 1; }
                return new PointCloud(pos, new byte[3 * _distinct]);
            }

            public void Dispose() { }
        }

        private sealed class CountingProcessor : IFrameProcessor
        {
            public FrameUpdate Process(Frame frame, CancellationToken token) => new FrameUpdate
            {
                FrameIndex = frame.Index, Pose = CameraPose.Identity, IsKeyframe = true,
                NewPoints = new PointCloud(new float[] { frame.Index, 0, 1 }, new byte[] { 9, 9, 9 }), Image = frame.Image,
            };

            public void Dispose() { }
        }
    }
}
