using System;
using FlowMap.Fusion;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found reviewing the map's rewrite: fusion skipped non-finite depth and confidence but not a non-finite pose, so a NaN
    /// or infinite pose put points with NaN positions into the frame's output and keyed voxels from NaN (Math.Floor(NaN)
    /// cast to a long), one garbage voxel per such frame. Nothing in the pipeline checks the pose before fusing; fusion now
    /// skips points whose world position is not finite.
    /// </summary>
    public sealed class NonFinitePoseFusedNaNVoxels
    {
        [Theory]
        [InlineData(double.NaN)]
        [InlineData(double.PositiveInfinity)]
        public void A_non_finite_pose_fuses_nothing(double bad)
        {
            const int w = 9, h = 7;
            var d = new FloatImage(w, h); var c = new FloatImage(w, h); var img = new RgbImage(w, h);
            Array.Fill(d.Data, 1f); Array.Fill(c.Data, 1f);
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 0.01 });
            var k = Intrinsics.Centered(w, h, 10);
            Assert.Equal(0, fusion.Integrate(d, c, img, k, new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[] { bad, 0, 0 })).Count);
            Assert.Equal(0, fusion.Integrate(d, c, img, k, new CameraPose(new double[] { bad, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[] { 0, 0, 0 })).Count);
            Assert.Equal(0, fusion.Count);
            Assert.Equal(w * h, fusion.Integrate(d, c, img, k, CameraPose.Identity).Count);
        }
    }
}
