using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FlowMap.Reconstruction;
using FlowMap.Session;
using FlowMap.Tests.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Session
{
    /// <summary>
    /// <see cref="ReconstructionSession.GetMap"/>: the fused map as it stands, readable from any thread while the pipeline
    /// fuses, bounded (one point per confirmed voxel) where the live updates repeat every keyframe's pixels; on completion the
    /// result's cloud.
    /// </summary>
    public sealed class SessionMapTests
    {
        [Fact]
        public void The_map_is_read_while_keyframes_are_fused_and_ends_as_the_results_cloud()
        {
            const int n = 60;
            var s = new PlaneScene(64, 48, 50, 4, 0.05, n);
            var o = new ReconstructionOptions { Mode = ReconstructionMode.Online, ProcessingSize = (64, 48), WindowKeyframes = 4, ActiveKeyframes = 2, Refine = false };
            var pipeline = new ReconstructionPipeline(o, new TruthFlow(s), new TruthSolver(s));
            using var session = new ReconstructionSession(new PipelineFrameProcessor(pipeline), queueCapacity: 1, dropFrames: false);
            Assert.Equal(0, session.GetMap().Count);
            long streamed = 0;
            session.FrameProcessed += u => Interlocked.Add(ref streamed, u.NewPoints?.Count ?? 0);
            // A reader on its own thread, as an engine's worker would poll the map while the pipeline thread fuses.
            using var stop = new CancellationTokenSource();
            int reads = 0;
            var reader = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var m = session.GetMap();
                    Assert.Equal(3 * m.Count, m.Positions.Length);
                    Assert.Equal(3 * m.Count, m.Colors.Length);
                    Assert.All(m.Positions, v => Assert.True(float.IsFinite(v)));
                    reads++;
                }
            });
            for (int i = 0; i < n; i++) session.PushFrame(s.Frame(i));
            session.Complete();
            Assert.True(session.Completion.Wait(TimeSpan.FromMinutes(2)));
            stop.Cancel();
            reader.GetAwaiter().GetResult(); // rethrows a failed read
            Assert.True(reads > 0);
            var result = session.Result!;
            var map = session.GetMap();
            Assert.True(map.Count > 0, "nothing fused");
            Assert.Equal(result.Points.Positions, map.Positions);
            Assert.Equal(result.Points.Colors, map.Colors);
            Assert.Equal(session.Stats.MapPoints, map.Count);
            // The live updates hand over every fused keyframe's pixels: the plane again with each keyframe.
            Assert.True(streamed + result.NewPoints.Count > map.Count, $"{streamed} + {result.NewPoints.Count} points streamed, {map.Count} in the map");
            session.Dispose();
            Assert.Throws<ObjectDisposedException>(() => session.GetMap());
        }
    }
}
