using System;
using System.Collections.Generic;
using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found by the long live run with mapping culling waiting keyframes (`./flowmap bench live --skip-paced --long-motion
    /// 0.3 --long-frames 3000 --backlog-culling`, culling then off by default): the frames of culled keyframes came out of their final PnP with wrong
    /// poses, up to 1e11 out, and the run's passes from frame 2,000 on were 9.4 % of the path off (median; 28 % the largest).
    /// A culled keyframe K becomes a frame of its predecessor P, and its frames' motion from P is composed through K from
    /// tracking's poses, which can be far off (a keyframe posed against a bootstrap carried over dozens of waiting
    /// keyframes); each frame's final PnP started from that alone. Printed frame by frame: from the composed start the PnP of
    /// K itself settled 0.3-0.5 of the keyframe baseline off the path at an RMS of 1.1-4.7 px, where the previous frame's
    /// pose as the start gave 0.37-0.88 px on the path, and K's frames then followed K. From a start with every point
    /// behind the camera Gauss-Newton has nothing to fit and the start itself stood as the final pose. Now the final PnP also
    /// starts from the frame before (the keyframe itself for the first) and keeps the lower robust cost
    /// (<see cref="FramePoseEstimator.Solve(KeyframeMatches, FloatImage, Intrinsics, IReadOnlyList{CameraPose}, int, FloatImage?, float)"/>,
    /// <see cref="KeyframeTracker.PoseFollower"/>): the same run's passes, 0.16 / 0.17 / 0.17 % (median per 1,000 frames).
    /// </summary>
    public sealed class CulledKeyframesFramesPosedFromTheComposedMotion
    {
        private const int W = 80, H = 60;

        // The frame moved a little from the keyframe.
        private static readonly CameraPose Truth = new CameraPose(FramePoseEstimator.Rodrigues(0.02, -0.04, 0.01), new[] { 0.15, -0.03, 0.05 });

        // The keyframe's bumpy surface about 3 units away, matches projecting the truth (FramePoseEstimatorTests' scene).
        private static (KeyframeMatches M, FloatImage Depth, Intrinsics K) Scene() => FlowMap.Tests.Reconstruction.FramePoseEstimatorTests.Scene(Truth, W, H);

        // A composed motion gone wrong: turned half a turn, every keyframe point behind the frame's camera.
        private static readonly CameraPose Broken = new CameraPose(FramePoseEstimator.Rodrigues(0, Math.PI, 0), new[] { 0.4, 0.0, -2.0 });

        // The frame before's final motion from the same keyframe: a frame's worth of motion short of this one's.
        private static readonly CameraPose Previous = new CameraPose(FramePoseEstimator.Rodrigues(0.015, -0.03, 0.008), new[] { 0.11, -0.02, 0.04 });

        private static double Error(CameraPose p) =>
            Truth.Inverse().Compose(p).RotationAngle() * 180 / Math.PI
            + Math.Sqrt(Math.Pow(p.T(0) - Truth.T(0), 2) + Math.Pow(p.T(1) - Truth.T(1), 2) + Math.Pow(p.T(2) - Truth.T(2), 2));

        [Fact]
        public void The_final_pnp_keeps_the_start_that_fits_not_the_first()
        {
            var (m, d, k) = Scene();
            // From the broken start alone there is nothing to fit: no pose.
            Assert.Null(FramePoseEstimator.Solve(m, d, k, Broken));
            // From both, in either order: the motion, to the float precision of the matches (1e-5 px over a 70 px focal).
            foreach (var starts in new[] { new[] { Broken, Previous }, new[] { Previous, Broken } })
            {
                var r = FramePoseEstimator.Solve(m, d, k, starts);
                Assert.NotNull(r);
                Assert.True(Error(r!.Value.KeyToFrame) < 1e-5, $"off by {Error(r.Value.KeyToFrame)} (deg + units)");
            }
        }

        [Fact]
        public void A_frame_whose_own_start_is_broken_is_posed_from_the_frame_before()
        {
            var (m, d, k) = Scene();
            var state = new ReconstructionState(new ReconstructionOptions { ProcessingSize = (W, H) }, new StageClock(), null, _ => { }, () => false);
            state.Prepare(new Frame(0, 0, new RgbImage(W, H), "0"));
            state.Focal = k.Fx;
            var conf = new FloatImage(W, H);
            Array.Fill(conf.Data, 0.8f);
            var key = new Keyframe { Frame = new Frame(0, 0, new RgbImage(W, H), "0"), Image = new RgbImage(W, H), Depth = d, Confidence = conf };
            Follower Culled() => new Follower { Frame = FrameRef.Of(key.Frame), Matches = m, KeyToFrame = Broken };

            // Before: the start alone, and the broken start stood as the final pose.
            var alone = Culled();
            KeyframeTracker.PoseFollower(state, key, alone, confirmedDepthOnly: true);
            Assert.True(Error(alone.KeyToFrame) > 1, $"the broken start alone came out {Error(alone.KeyToFrame)} off");

            // Now: the frame before as the second start.
            var posed = Culled();
            KeyframeTracker.PoseFollower(state, key, posed, confirmedDepthOnly: true, alsoFrom: Previous);
            Assert.True(Error(posed.KeyToFrame) < 1e-5, $"off by {Error(posed.KeyToFrame)} (deg + units)");
        }
    }
}
