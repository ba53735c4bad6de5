using System;
using System.Linq;
using FlowMap.Evaluation;
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
    }
}
