using System;
using FlowMap.Fusion;
using Xunit;

namespace FlowMap.Tests.Fusion
{
    public sealed class PointCloudFusionTests
    {
        private static (FloatImage Depth, FloatImage Conf, RgbImage Img) Plane(int w, int h, float z, float conf = 1f, byte red = 200)
        {
            var d = new FloatImage(w, h); var c = new FloatImage(w, h); var img = new RgbImage(w, h);
            Array.Fill(d.Data, z); Array.Fill(c.Data, conf);
            for (int i = 0; i < w * h; i++) { img.Pixels[3 * i] = red; img.Pixels[3 * i + 1] = 10; img.Pixels[3 * i + 2] = 20; }
            return (d, c, img);
        }

        [Fact]
        public void Back_projected_plane_lies_at_its_depth_and_keeps_its_colour()
        {
            var (d, c, img) = Plane(31, 17, 2f);
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 0.25 }); // pixels are 0.1 apart at z = 2, f = 20
            var k = Intrinsics.Centered(31, 17, 20);
            var frame = fusion.Integrate(d, c, img, k, CameraPose.Identity);
            Assert.Equal(31 * 17, frame.Count);
            var cloud = fusion.ToPointCloud();
            Assert.True(cloud.Count > 0 && cloud.Count < 31 * 17, $"voxels {cloud.Count}");
            for (int i = 0; i < cloud.Count; i++)
            {
                Assert.Equal(2f, cloud.Positions[3 * i + 2], 4);
                Assert.Equal(200, cloud.Colors[3 * i]);
            }
            // The centre pixel (15, 8) back-projects to (0, 0, 2).
            int centre = 8 * 31 + 15;
            Assert.Equal(0f, frame.Positions[3 * centre], 5);
            Assert.Equal(0f, frame.Positions[3 * centre + 1], 5);
        }

        [Fact]
        public void Pose_moves_points_into_the_world_frame()
        {
            var (d, c, img) = Plane(9, 9, 1f);
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 1e-4 });
            var pose = new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[] { 5, 0, 0 });
            var frame = fusion.Integrate(d, c, img, Intrinsics.Centered(9, 9, 10), pose);
            int centre = 4 * 9 + 4;
            Assert.Equal(5f, frame.Positions[3 * centre], 5);
            Assert.Equal(1f, frame.Positions[3 * centre + 2], 5);
        }

        [Fact]
        public void Voxel_mean_is_confidence_weighted()
        {
            var k = Intrinsics.Centered(1, 1, 1);
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 10, MinConfidence = 0 });
            var a = Plane(1, 1, 1f, 0.75f, 100); var b = Plane(1, 1, 3f, 0.25f, 200);
            fusion.Integrate(a.Depth, a.Conf, a.Img, k, CameraPose.Identity);
            fusion.Integrate(b.Depth, b.Conf, b.Img, k, CameraPose.Identity);
            var cloud = fusion.ToPointCloud();
            Assert.Equal(1, cloud.Count);
            Assert.Equal(0.75 * 1 + 0.25 * 3, cloud.Positions[2], 5);
            Assert.Equal(125, cloud.Colors[0]);
        }

        [Fact]
        public void Low_confidence_invalid_depth_and_depth_edges_are_skipped()
        {
            var (d, c, img) = Plane(10, 10, 1f);
            c[0, 0] = 0.1f;          // below MinConfidence
            d[9, 9] = float.NaN;     // invalid
            d[5, 5] = 3f;            // a flying pixel and its 4 neighbours sit on a depth edge
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 1e-4 });
            var frame = fusion.Integrate(d, c, img, Intrinsics.Centered(10, 10, 10), CameraPose.Identity);
            // 100 - 1 (conf) - 1 (NaN) - 5 (the edge pixel and its 4 neighbours); neighbours of NaN are not edges (NaN compares false).
            Assert.Equal(93, frame.Count);
            foreach (var p in frame.Positions) Assert.True(float.IsFinite(p));
        }

        [Fact]
        public void Memory_stays_bounded_by_coarsening_the_grid()
        {
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 1e-3, MaxVoxels = 500 });
            var k = Intrinsics.Centered(40, 30, 30);
            for (int f = 0; f < 5; f++)
            {
                var (d, c, img) = Plane(40, 30, 1f + f);
                fusion.Integrate(d, c, img, k, CameraPose.Identity);
                Assert.True(fusion.Count < 500, $"voxels {fusion.Count}");
            }
            Assert.True(fusion.VoxelSize > 1e-3);
            Assert.Equal(5, fusion.Frames);
        }

        [Fact]
        public void Bytes_are_the_accumulators_and_the_index_at_their_lengths()
        {
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 0.01, MaxVoxels = 2_000 });
            const long accumulator = 7 * sizeof(double), perVoxel = accumulator + PointCloudFusion.IndexEntryBytes;
            Assert.Equal(fusion.Capacity * accumulator, fusion.Bytes); // empty: the first 1,024 voxels' room, no index yet
            for (int f = 0; f < 3; f++)
            {
                var (d, c, img) = Plane(60, 45, 1f + 0.5f * f); // one voxel per pixel at the start: 2,700 voxels, over the bound
                fusion.Integrate(d, c, img, Intrinsics.Centered(60, 45, 50), CameraPose.Identity);
                int n = fusion.Count;
                Assert.Equal(fusion.Bytes - fusion.Capacity * accumulator, (fusion.Bytes - fusion.Capacity * accumulator) / PointCloudFusion.IndexEntryBytes * PointCloudFusion.IndexEntryBytes);
                // At least one accumulator and one index entry per voxel; at most the room of doubling (accumulators, from
                // 1,024) and of the index's growth to the next prime past twice its size.
                Assert.True(fusion.Bytes >= n * perVoxel, $"{fusion.Bytes} bytes for {n} voxels");
                Assert.True(fusion.Bytes <= Math.Max(1024, 2 * n) * accumulator + (3L * n + 8) * PointCloudFusion.IndexEntryBytes, $"{fusion.Bytes} bytes for {n} voxels");
            }
            Assert.True(fusion.VoxelSize > 0.01, "the grid was never coarsened");
        }

        [Fact]
        public void Fusion_is_deterministic()
        {
            PointCloud Run()
            {
                var fusion = new PointCloudFusion();
                var (d, c, img) = Plane(20, 20, 2f);
                for (int i = 0; i < 400; i++) d.Data[i] = 2f + 0.001f * (i % 7);
                fusion.Integrate(d, c, img, Intrinsics.Centered(20, 20, 15), CameraPose.Identity);
                return fusion.ToPointCloud();
            }
            var a = Run(); var b = Run();
            Assert.Equal(a.Positions, b.Positions);
            Assert.Equal(a.Colors, b.Colors);
        }

        /// <summary>
        /// A tilted plane Z = 2 + 0.5 X seen by a barrel-distorted camera (k1 = -0.2): its z-depth per pixel is exact along
        /// each pixel's undistorted ray, so the fused points must lie on the plane (within float storage, 1e-5), whereas
        /// lifting the same depth through the pinhole bends the plane by centimetres at the corners.
        /// </summary>
        [Fact]
        public void Distorted_camera_gives_a_straight_plane()
        {
            const int w = 41, h = 31;
            var k = Intrinsics.Centered(w, h, 33) with { K1 = -0.2 };
            var (d, c, img) = Plane(w, h, 1f);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    d[x, y] = (float)(2 / (1 - 0.5 * k.Unproject(x, y, 1).X)); // (x_u z, y_u z, z) on Z = 2 + 0.5 X
            double Worst(Intrinsics kk)
            {
                var frame = new PointCloudFusion(new FusionOptions { VoxelSize = 1e-4, MaxRelativeDepthJump = 1 }).Integrate(d, c, img, kk, CameraPose.Identity);
                Assert.Equal(w * h, frame.Count);
                double worst = 0;
                for (int i = 0; i < frame.Count; i++)
                    worst = Math.Max(worst, Math.Abs(frame.Positions[3 * i + 2] - 2 - 0.5 * frame.Positions[3 * i]));
                return worst;
            }
            double straight = Worst(k), bent = Worst(k with { K1 = 0 });
            Assert.True(straight < 1e-5, $"points leave the plane by {straight}");
            Assert.True(bent > 1e-2, $"the pinhole lift only bends the plane by {bent}");
        }

        [Fact]
        public void Mismatched_sizes_are_refused()
        {
            var (d, c, img) = Plane(10, 10, 1f);
            var fusion = new PointCloudFusion();
            Assert.Throws<ArgumentException>(() => fusion.Integrate(d, c, img, Intrinsics.Centered(11, 10, 10), CameraPose.Identity));
        }
    }
}
