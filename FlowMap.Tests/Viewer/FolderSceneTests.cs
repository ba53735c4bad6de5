using System;
using System.IO;
using System.Linq;
using FlowMap.Tests.Support;
using FlowMap.Viewer.Scenes;
using Xunit;

namespace FlowMap.Tests.Viewer
{
    /// <summary>Loading output and synthetic folders into viewer scenes, and the errors for missing or damaged files.</summary>
    public sealed class FolderSceneTests
    {
        /// <summary>
        /// Every back-projected pixel lies on a room surface (1e-3: float depth); with a barrel-distorted camera
        /// (k1 = -0.2, written to intrinsics.json) too, so the walls come out straight.
        /// </summary>
        [Theory]
        [InlineData(0.0)]
        [InlineData(-0.2)]
        public void Synthetic_ground_truth_back_projects_onto_the_room_surfaces(double k1)
        {
            using var tmp = new TempDir();
            var (k, poses) = SyntheticFolders.WriteSynthetic(tmp.Path, frames: 5, k1: k1);
            Assert.Equal("synthetic", FolderScene.Kind(tmp.Path));
            var snap = FolderScene.Load(tmp.Path).Snapshot();
            Assert.Equal(5, snap.Trajectory.Count);
            Assert.Equal(5 * k.Width * k.Height, snap.PointCount); // small enough for every pixel
            Assert.NotNull(snap.Image);
            Assert.NotNull(snap.Depth);
            Assert.NotNull(snap.Flow);
            foreach (var chunk in snap.PointChunks)
                for (int i = 0; i < chunk.Count; i++)
                {
                    double x = chunk.Positions[3 * i], y = chunk.Positions[3 * i + 1], z = chunk.Positions[3 * i + 2];
                    double dist = SyntheticFolders.Planes.Min(p => Math.Abs((p.Axis == 0 ? x : p.Axis == 1 ? y : z) - p.Value));
                    Assert.True(dist < 1e-3, $"point ({x:F4}, {y:F4}, {z:F4}) is {dist:G3} from every room surface");
                }
        }

        [Fact]
        public void Point_budget_thins_the_ground_truth_with_a_pixel_stride()
        {
            using var tmp = new TempDir();
            var (k, _) = SyntheticFolders.WriteSynthetic(tmp.Path, frames: 4);
            var snap = FolderScene.Load(tmp.Path, pointBudget: 4 * k.Width * k.Height / 9).Snapshot();
            Assert.InRange(snap.PointCount, 4 * (k.Width / 3) * (k.Height / 3), 4 * ((k.Width + 2) / 3) * ((k.Height + 2) / 3));
        }

        [Fact]
        public void Reconstruction_folder_loads_points_trajectory_and_processing_intrinsics()
        {
            using var tmp = new TempDir();
            SyntheticFolders.WriteReconstruction(tmp.Path, frames: 6);
            Assert.Equal("reconstruction", FolderScene.Kind(tmp.Path));
            var snap = FolderScene.Load(tmp.Path).Snapshot();
            Assert.Equal(6, snap.Trajectory.Count);
            Assert.Equal(64, snap.Intrinsics!.Width); // the processing camera, which the depth maps and points belong to
            Assert.True(snap.PointCount > 1000);
            Assert.NotNull(snap.Depth);
        }

        [Theory]
        [InlineData("trajectory.txt")]
        [InlineData("intrinsics.json")]
        public void Missing_file_is_named(string file)
        {
            using var tmp = new TempDir();
            SyntheticFolders.WriteReconstruction(tmp.Path, frames: 3);
            File.Delete(tmp.File(file));
            var e = Assert.Throws<FileNotFoundException>(() => FolderScene.Load(tmp.Path));
            Assert.Contains(file, e.Message);
        }

        [Fact]
        public void Truncated_ply_and_damaged_depth_are_named()
        {
            using var tmp = new TempDir();
            SyntheticFolders.WriteReconstruction(tmp.Path, frames: 3);
            var ply = tmp.File("points.ply");
            var bytes = File.ReadAllBytes(ply);
            File.WriteAllBytes(ply, bytes.Take(bytes.Length / 2).ToArray());
            var e = Assert.Throws<InvalidDataException>(() => FolderScene.Load(tmp.Path));
            Assert.Contains("points.ply", e.Message);

            using var syn = new TempDir();
            SyntheticFolders.WriteSynthetic(syn.Path, frames: 3);
            File.WriteAllBytes(syn.File("depth", "000001.npy"), new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M' });
            var e2 = Assert.Throws<InvalidDataException>(() => FolderScene.Load(syn.Path));
            Assert.Contains("000001.npy", e2.Message);
        }

        [Fact]
        public void Synthetic_folder_without_an_image_for_a_depth_map_is_named()
        {
            using var tmp = new TempDir();
            SyntheticFolders.WriteSynthetic(tmp.Path, frames: 3);
            File.Delete(tmp.File("color", "000002.png"));
            var e = Assert.Throws<FileNotFoundException>(() => FolderScene.Load(tmp.Path));
            Assert.Contains("000002", e.Message);
        }

        [Fact]
        public void A_folder_of_neither_kind_is_refused()
        {
            using var tmp = new TempDir();
            File.WriteAllText(tmp.File("notes.txt"), "x");
            Assert.Null(FolderScene.Kind(tmp.Path));
            var e = Assert.Throws<FileNotFoundException>(() => FolderScene.Load(tmp.Path));
            Assert.Contains("points.ply", e.Message);
        }
    }
}
