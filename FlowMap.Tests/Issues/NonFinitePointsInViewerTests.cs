using System.IO;
using FlowMap.Export;
using FlowMap.Tests.Support;
using FlowMap.Viewer.Scenes;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: NaN points in points.ply were drawn and counted by the viewer without a word. They are now left out,
    /// counted in a warning and in the scene's status line.
    /// </summary>
    public sealed class NonFinitePointsInViewerTests
    {
        [Fact]
        public void Non_finite_points_are_left_out_and_reported()
        {
            using var tmp = new TempDir();
            var dir = tmp.Sub("recon");
            var pos = new float[] { 0, 0, 1, float.NaN, 0, 1, 1, float.PositiveInfinity, 2, 0.5f, 0.5f, 3 };
            PlyFile.Write(Path.Combine(dir, "points.ply"), new PointCloud(pos, new byte[12]));
            TumTrajectory.Write(Path.Combine(dir, "trajectory.txt"), new[] { new TrajectoryEntry(0, CameraPose.Identity) });
            IntrinsicsJson.Write(Path.Combine(dir, "intrinsics.json"), new Intrinsics(32, 24, 30, 30, 15.5, 11.5));
            var scene = FolderScene.Load(dir);
            var snap = scene.Snapshot();
            Assert.Equal(2, snap.PointCount);
            var w = Assert.Single(scene.Warnings);
            Assert.Contains("2 of 4 points have non-finite coordinates", w);
            Assert.Contains("2 non-finite points", snap.Status);
        }
    }
}
