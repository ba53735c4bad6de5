using System;
using System.Linq;
using System.Threading;
using FlowMap.Reconstruction;
using FlowMap.Solve;
using FlowMap.Synthetic;
using FlowMap.Tests.Reconstruction;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found reading issue 12's long memory run frame by frame (`./flowmap bench live --skip-paced`, the synthetic walk
    /// back and forth at 30 fps): its trajectory was lost from the first turn on, and nothing said so. The first window
    /// solve ended with 44 keyframes waiting (the clip asks for a keyframe every second frame, mapping takes about nine in
    /// five seconds), the backlog reached its cap (<see cref="KeyframeMapper.MaxWaiting"/>, 48) at frame 104, and tracking
    /// then chose no keyframe until frame 255: frames 104-166 were posed against keyframe 103 with a median motion of up to
    /// 214 px, and from frame 167 on, its tracked points lost, against a dense flow that could not span the motion. The
    /// session now says so: the frames that ask for a keyframe at the cap are counted (<see cref="FlowMap.Session.MappingBacklog"/>,
    /// printed by `bench live`), and a warning reaches the engine with the frame's update. Here: the first window solve is
    /// held while 60 frames are pushed (a keyframe asked for at nearly every frame), exact flow, the true focal; without a
    /// mapping thread nothing waits and nothing is said.
    /// </summary>
    public sealed class TrackingAtTheBacklogCapWasSilent : GpuTest
    {
        public TrackingAtTheBacklogCapWasSilent(GpuFixture f) : base(f) { }

        private static SyntheticSequence Walk(FlowMap.Gpu.GpuContext ctx, int frames) =>
            SyntheticSequence.Create(SyntheticScene.Create("room", 3), new SyntheticSequenceOptions
            {
                Path = "walk", Frames = frames, Width = 128, Height = 96, Seed = 3, Motion = 1.0,
            }, ctx, ownsContext: false);

        private static ReconstructionOptions Options(SyntheticSequence seq, bool thread) => new ReconstructionOptions
        {
            Mode = ReconstructionMode.Online, ProcessingSize = (128, 96), MappingThread = thread, BootstrapTracking = true,
            WindowKeyframes = 3, ActiveKeyframes = 2, FocalPixels = seq.Intrinsics.Fx,
        };

        [Fact]
        public void Frames_that_ask_for_a_keyframe_at_the_cap_are_counted_and_the_engine_is_warned()
        {
            const int frames = 64, heldUntil = 60;
            using var seq = Walk(Ctx, frames);
            var o = Options(seq, thread: true);
            int cap = KeyframeMapper.MaxWaiting(o);
            string warning = ReconstructionState.MappingBehindWarning(cap);
            var solver = new BootstrapTrackingTests.HeldFirstSolve(new GpuWindowSolver(Ctx));
            var warnedAt = new System.Collections.Generic.List<int>();
            ReconstructionResult result;
            using (var pipeline = new ReconstructionPipeline(o, BootstrapTrackingTests.ExactFlow(seq), solver, null, ownsComponents: true))
            {
                for (int i = 0; i < frames; i++)
                {
                    if (i == heldUntil)
                    {
                        Assert.True(solver.WaitUntilEntered(), "the first window solve never started");
                        solver.Gate.Set();
                    }
                    var u = pipeline.Process(new Frame(i, i / 30.0, seq.Frame(i), $"{i:D6}.png"), TestContext.Current.CancellationToken)!;
                    if (u.Warnings.Contains(warning)) warnedAt.Add(i);
                }
                result = pipeline.Finish(TestContext.Current.CancellationToken);
            }
            var b = result.Backlog;
            // The premise: the held solve let the backlog fill to its cap.
            Assert.Equal(cap, b.Cap);
            Assert.Equal(cap, b.MaxKeyframesAwaiting);
            // Counted from the first frame that asked at the cap (the first frame needs none; cap keyframes need cap frames).
            Assert.True(b.FramesAtCap >= 1, "no frame counted at the cap");
            Assert.InRange(b.FirstFrameAtCap, cap, heldUntil - 1);
            Assert.True(b.FramesAtCap <= frames - b.FirstFrameAtCap, $"{b.FramesAtCap} frames counted from frame {b.FirstFrameAtCap} of {frames}");
            // The engine hears it once, with the update of that frame, and the result keeps it.
            Assert.Equal(new[] { b.FirstFrameAtCap }, warnedAt);
            Assert.Contains(warning, result.Warnings);
        }

        [Fact]
        public void Mapping_on_the_pipelines_thread_never_leaves_keyframes_waiting_and_says_nothing()
        {
            const int frames = 16;
            using var seq = Walk(Ctx, frames);
            var o = Options(seq, thread: false);
            ReconstructionResult result;
            using (var pipeline = new ReconstructionPipeline(o, BootstrapTrackingTests.ExactFlow(seq), new GpuWindowSolver(Ctx), null, ownsComponents: true))
            {
                for (int i = 0; i < frames; i++) pipeline.Process(new Frame(i, i / 30.0, seq.Frame(i), $"{i:D6}.png"), TestContext.Current.CancellationToken);
                result = pipeline.Finish(TestContext.Current.CancellationToken);
            }
            Assert.True(result.Keyframes >= 4, $"only {result.Keyframes} keyframes: the premise (keyframes asked for) fails");
            Assert.Equal(0L, result.Backlog.FramesAtCap);
            Assert.Equal(-1, result.Backlog.FirstFrameAtCap);
            Assert.DoesNotContain(result.Warnings, w => w.StartsWith("mapping is behind tracking", StringComparison.Ordinal));
        }
    }
}
