using System;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Solve;
using FlowMap.Reconstruction;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>
    /// A frame between two keyframes takes each pixel's depth from the keyframe that sees it
    /// (<see cref="DepthTransfer.MoreConfident"/>, as <see cref="Mapper"/> finalises followers): on an orbit, the frame sees
    /// on one side what the first keyframe does not and on the other what the second does not.
    /// </summary>
    public sealed class TwoKeyframeDepthTests : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public TwoKeyframeDepthTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        [Fact]
        public void Pixels_the_first_keyframe_does_not_see_take_their_depth_from_the_second()
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 3),
                new SyntheticSequenceOptions { Path = "orbit", Frames = 13, Width = 96, Height = 72, Seed = 3 }, Ctx, ownsContext: false);
            var k = seq.Intrinsics;
            const int a = 0, frame = 6, b = 12;
            var ones = new FloatImage(k.Width, k.Height, Enumerable.Repeat(1f, k.Width * k.Height).ToArray());
            (FloatImage Depth, FloatImage Confidence) From(int key)
            {
                // Exact flow keyframe <-> frame (its backward direction: frame -> keyframe, confidence 0 where the keyframe does
                // not see the pixel), the keyframe's true depth, its true pose relative to the frame.
                var f = FlowMap.Evaluation.TruthFlow.Between(seq.Depth(key), seq.Poses[key], seq.Depth(frame), seq.Poses[frame], k);
                var keyToFrame = seq.Poses[frame].Inverse().Compose(seq.Poses[key]);
                return DepthTransfer.FromKeyframe(f.Backward, f.BackwardConfidence, seq.Depth(key), ones, k, keyToFrame);
            }
            var fromA = From(a);
            var fromB = From(b);
            var both = DepthTransfer.MoreConfident(fromA, fromB);
            var truth = seq.Depth(frame);
            double Err((FloatImage Depth, FloatImage Confidence) t) =>
                Enumerable.Range(0, truth.Data.Length).Where(i => truth.Data[i] > 0).Average(i => Math.Abs(t.Depth.Data[i] - truth.Data[i]) / truth.Data[i]);
            int unseenByA = fromA.Confidence.Data.Count(c => c == 0), seenByBOnly = Enumerable.Range(0, truth.Data.Length).Count(i => fromA.Confidence.Data[i] == 0 && fromB.Confidence.Data[i] > 0);
            _out.WriteLine($"mean relative depth error: from the first keyframe {Err(fromA):F4}, the second {Err(fromB):F4}, both {Err(both):F4}; " +
                $"{unseenByA} pixels not seen by the first, {seenByBOnly} of them by the second");
            Assert.True(seenByBOnly > 0.02 * truth.Data.Length, $"the orbit should show the frame pixels only the second keyframe sees ({seenByBOnly})");
            // Where one keyframe sees a pixel, its exact transfer is right up to bilinear lookup: the merge is better than either.
            Assert.True(Err(both) < Err(fromA) && Err(both) < Err(fromB), $"both {Err(both):F4} against {Err(fromA):F4} and {Err(fromB):F4}");
            // Every pixel either keyframe sees keeps a confidence.
            for (int i = 0; i < truth.Data.Length; i++)
                Assert.Equal(Math.Max(fromA.Confidence.Data[i], fromB.Confidence.Data[i]), both.Confidence.Data[i]);
        }

        /// <summary>
        /// The pipeline's use of it (<see cref="Mapper"/> finalising followers, the next keyframe's pose relative to the frame):
        /// offline with the exact flow on an orbit, a frame between keyframes is carried from keyframes that are themselves
        /// solved, and with the pixels each keyframe misses taken from the other its depth is about as good as theirs
        /// (bench orbit at 320x240: 0.030 against 0.033). From one keyframe it was 2.5x worse there (0.081), the occluder's
        /// depth where that keyframe does not see: at most 1.25x the keyframes' error here. Here: 0.0834 against 0.0818;
        /// with the next keyframe's transfer switched off, 0.1155 (1.41x: fails).
        /// </summary>
        [Fact]
        public void Offline_frames_between_keyframes_are_as_accurate_as_the_keyframes()
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 3),
                new SyntheticSequenceOptions { Path = "orbit", Frames = 25, Width = 128, Height = 96, Seed = 3 }, Ctx, ownsContext: false);
            var k = seq.Intrinsics;
            var flow = new TruthFlowEstimator((a, b) => FlowMap.Evaluation.TruthFlow.Between(seq.Depth(a), seq.Poses[a], seq.Depth(b), seq.Poses[b], k));
            for (int i = 0; i < seq.Count; i++) flow.Register(i, seq.Frame(i));
            var o = new ReconstructionOptions { Mode = ReconstructionMode.Offline, ProcessingSize = (128, 96), OfflineSteps = 60, OfflineGeometrySteps = 60 };
            var frames = new System.Collections.Generic.List<FrameEstimate>();
            using (var pipeline = new ReconstructionPipeline(o, flow, new GpuWindowSolver(Ctx), null, ownsComponents: true))
            {
                pipeline.FrameFinalized += frames.Add;
                for (int i = 0; i < seq.Count; i++) pipeline.Process(new Frame(i, i / 30.0, seq.Frame(i), $"{i:D6}.png"));
                pipeline.Finish();
            }
            double Mean(bool keyframes) => frames.Where(f => f.IsKeyframe == keyframes)
                .Select(f => DepthFlowMetrics.DepthMedianScaled(f.Depth, seq.Depth(f.Index))).Where(a => a.Pixels > 0).Average(a => a.AbsRel);
            int between = frames.Count(f => !f.IsKeyframe);
            _out.WriteLine($"{frames.Count - between} keyframes, {between} frames between; AbsRel keyframes {Mean(true):F4}, frames between {Mean(false):F4}");
            Assert.True(between >= 5, $"only {between} frames between keyframes");
            Assert.True(Mean(false) <= 1.25 * Mean(true), $"frames between keyframes AbsRel {Mean(false):F4} against the keyframes' {Mean(true):F4}");
        }
    }
}
