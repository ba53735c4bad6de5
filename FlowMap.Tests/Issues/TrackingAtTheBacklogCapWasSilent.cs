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
    /// mapping thread nothing waits and nothing is said. The fix that followed (<see cref="ReconstructionOptions.CullBacklog"/>,
    /// the default): mapping culls the most redundant waiting keyframe so tracking goes on choosing keyframes; the cap's
    /// rule itself is tested here with culling off.
    /// </summary>
    public sealed class TrackingAtTheBacklogCapWasSilent : GpuTest
    {
        public TrackingAtTheBacklogCapWasSilent(GpuFixture f) : base(f) { }

        private static SyntheticSequence Walk(FlowMap.Gpu.GpuContext ctx, int frames) =>
            SyntheticSequence.Create(SyntheticScene.Create("room", 3), new SyntheticSequenceOptions
            {
                Path = "walk", Frames = frames, Width = 128, Height = 96, Seed = 3, Motion = 1.0,
            }, ctx, ownsContext: false);

        private static ReconstructionOptions Options(SyntheticSequence seq, bool thread, bool cull = false) => new ReconstructionOptions
        {
            Mode = ReconstructionMode.Online, ProcessingSize = (128, 96), MappingThread = thread, BootstrapTracking = true,
            WindowKeyframes = 3, ActiveKeyframes = 2, FocalPixels = seq.Intrinsics.Fx, CullBacklog = cull,
        };

        private const int Frames = 64, HeldUntil = 60;

        private sealed record HeldRun(ReconstructionResult Result, System.Collections.Generic.List<int> WarnedAt, System.Collections.Generic.List<int> KeyframesChosen, int HeldMax, ReconstructionOptions Options,
            System.Collections.Generic.List<FlowMap.Session.FramePose> Refined);

        /// <summary>
        /// The walk with the first window solve held until frame <see cref="HeldUntil"/>: until then nothing of mapping runs
        /// but that held solve, so what tracking and the pipeline thread decide before it (keyframes, culls, the cap) does not
        /// depend on the machine's timing.
        /// </summary>
        private HeldRun RunHeld(bool cull)
        {
            using var seq = Walk(Ctx, Frames);
            var o = Options(seq, thread: true, cull: cull);
            string warning = ReconstructionState.MappingBehindWarning(KeyframeMapper.MaxWaiting(o));
            var solver = new BootstrapTrackingTests.HeldFirstSolve(new GpuWindowSolver(Ctx));
            var warnedAt = new System.Collections.Generic.List<int>();
            var chosen = new System.Collections.Generic.List<int>();
            int heldMax = 0;
            var refined = new System.Collections.Generic.List<FlowMap.Session.FramePose>();
            using var pipeline = new ReconstructionPipeline(o, BootstrapTrackingTests.ExactFlow(seq), solver, null, ownsComponents: true);
            for (int i = 0; i < Frames; i++)
            {
                if (i == HeldUntil)
                {
                    Assert.True(solver.WaitUntilEntered(), "the first window solve never started");
                    solver.Gate.Set();
                }
                var u = pipeline.Process(new Frame(i, i / 30.0, seq.Frame(i), $"{i:D6}.png"), TestContext.Current.CancellationToken)!;
                if (u.Warnings.Contains(warning)) warnedAt.Add(i);
                if (u.IsKeyframe) chosen.Add(i);
                refined.AddRange(u.RefinedKeyframes);
                heldMax = Math.Max(heldMax, pipeline.KeyframesHeld);
            }
            var result = pipeline.Finish(TestContext.Current.CancellationToken);
            refined.AddRange(pipeline.TakeRefinedKeyframes());
            return new HeldRun(result, warnedAt, chosen, heldMax, o, refined);
        }

        [Fact]
        public void Frames_that_ask_for_a_keyframe_at_the_cap_are_counted_and_the_engine_is_warned()
        {
            var run = RunHeld(cull: false);
            var result = run.Result;
            int cap = KeyframeMapper.MaxWaiting(run.Options);
            var b = result.Backlog;
            // The premise: the held solve let the backlog fill to its cap.
            Assert.Equal(cap, b.Cap);
            Assert.Equal(cap, b.MaxKeyframesAwaiting);
            // Counted from the first frame that asked at the cap (the first frame needs none; cap keyframes need cap frames).
            Assert.True(b.FramesAtCap >= 1, "no frame counted at the cap");
            Assert.InRange(b.FirstFrameAtCap, cap, HeldUntil - 1);
            Assert.True(b.FramesAtCap <= Frames - b.FirstFrameAtCap, $"{b.FramesAtCap} frames counted from frame {b.FirstFrameAtCap} of {Frames}");
            // The engine hears it once, with the update of that frame, and the result keeps it.
            Assert.Equal(new[] { b.FirstFrameAtCap }, run.WarnedAt);
            Assert.Contains(ReconstructionState.MappingBehindWarning(cap), result.Warnings);
            // Tracking chose no keyframe from then on while the solve was held.
            Assert.DoesNotContain(run.KeyframesChosen, i => i >= b.FirstFrameAtCap && i < HeldUntil);
        }

        [Fact]
        public void With_culling_tracking_goes_on_choosing_keyframes_longer_and_every_frame_is_posed_in_order()
        {
            var refused = RunHeld(cull: false).Result.Backlog;
            var run = RunHeld(cull: true);
            var result = run.Result;
            int cap = KeyframeMapper.MaxWaiting(run.Options);
            var b = result.Backlog;
            // Culled while the solve was held, the memory bounded as before (never more than the cap waiting).
            Assert.True(b.KeyframesCulled >= 1, "nothing culled: the premise (a backlog at the cap while the solve is held) fails");
            Assert.InRange(b.FirstFrameCulled, 1, HeldUntil - 1);
            Assert.True(b.MaxKeyframesAwaiting <= cap, $"{b.MaxKeyframesAwaiting} keyframes waited (cap {cap})");
            Assert.True(run.HeldMax <= run.Options.WindowKeyframes + cap, $"{run.HeldMax} keyframes held (bound {run.Options.WindowKeyframes + cap})");
            // Tracking went on choosing keyframes past the frame where the cap's rule stopped it, until culling found no
            // keyframe whose neighbours are close enough (KeyframeMapper.MaxCullGap), if it did before the solve was released.
            Assert.Contains(run.KeyframesChosen, i => i >= refused.FirstFrameAtCap && i < HeldUntil);
            Assert.True(b.FirstFrameAtCap < 0 || b.FirstFrameAtCap > refused.FirstFrameAtCap,
                $"at the cap from frame {b.FirstFrameAtCap} with culling, {refused.FirstFrameAtCap} without");
            // Every frame is finalised once, in order, with a finite pose; a culled keyframe is a frame of its predecessor.
            Assert.Equal(Enumerable.Range(0, Frames), result.Poses.Select(p => p.Index));
            Assert.All(result.Poses, p => Assert.True(KeyframeSolver.Finite(p.Pose), $"frame {p.Index}: non-finite pose"));
            Assert.Equal(run.KeyframesChosen.Count - b.KeyframesCulled, result.Keyframes);
            // Each culled keyframe, delivered live as a keyframe, is delivered once more as a frame with its final pose (an
            // engine that anchored to it follows; it was never heard of again).
            var asFrames = run.Refined.Where(p => !p.IsKeyframe).ToList();
            Assert.Equal(b.KeyframesCulled, asFrames.Count);
            Assert.Equal(asFrames.Count, asFrames.Select(p => p.FrameIndex).Distinct().Count());
            var final = result.Poses.ToDictionary(p => p.Index, p => p.Pose);
            foreach (var p in asFrames)
            {
                Assert.Contains(p.FrameIndex, run.KeyframesChosen);
                Assert.Equal(final[p.FrameIndex].Translation, p.Pose.Translation);
                Assert.Equal(final[p.FrameIndex].Rotation, p.Pose.Rotation);
            }
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
