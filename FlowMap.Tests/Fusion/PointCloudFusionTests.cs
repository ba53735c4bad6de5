using System;
using System.Collections.Generic;
using System.Linq;
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
                Assert.Equal(fusion.ToPointCloud().Count, fusion.PointCount); // the points across merges (one view each: all shown only after frame 1)
            }
            Assert.True(fusion.VoxelSize > 1e-3);
            Assert.Equal(5, fusion.Frames);
        }

        [Fact]
        public void Bytes_are_the_blocks_and_the_index_at_their_lengths()
        {
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 0.005, MaxVoxels = 40_000, MinViews = 1 }); // blocks and index (the cells: the confirmation test)
            Assert.Equal(1024L * PointCloudFusion.SlotBytes, fusion.Bytes); // empty: no block, the smallest index
            for (int f = 0; f < 4; f++)
            {
                var (d, c, img) = Plane(120, 90, 1f + 0.5f * f); // one voxel per pixel at the start: 10,800 voxels a frame
                fusion.Integrate(d, c, img, Intrinsics.Centered(120, 90, 200), CameraPose.Identity);
                int n = fusion.Count;
                Assert.Equal((long)fusion.Capacity * PointCloudFusion.VoxelBytes + (long)fusion.IndexSlots * PointCloudFusion.SlotBytes + (long)fusion.Cells * PointCloudFusion.CellBytes, fusion.Bytes);
                // The blocks hold the voxels with less than a block to spare; the index is a power of two at most three quarters
                // full (at least a third full once past its smallest length: it doubles when three quarters are passed).
                Assert.InRange(fusion.Capacity - n, 0, PointCloudFusion.BlockVoxels - 1);
                Assert.Equal(0, fusion.IndexSlots & (fusion.IndexSlots - 1));
                Assert.InRange(4L * n, 0, 3L * fusion.IndexSlots);
                if (fusion.IndexSlots > 1024) Assert.True(8L * n > 3L * fusion.IndexSlots - 8, $"{n} voxels in {fusion.IndexSlots} slots");
            }
            Assert.True(fusion.VoxelSize > 0.005, "the grid was never coarsened");
            // At the end about 40 bytes a voxel, where double sums in a doubling array and a Dictionary index took 84 to 168.
            Assert.True(fusion.Bytes < 2L * PointCloudFusion.BlockVoxels * PointCloudFusion.VoxelBytes + 8L * fusion.Count * PointCloudFusion.SlotBytes / 3 + 4096);
        }

        /// <summary>
        /// The map against a plain reference (double sums per voxel in a Dictionary, first-seen order) over several blocks and
        /// index growths: the same voxels in the same order, positions within the float rounding of running means (2e-6 for a
        /// scene 2 m across: a few ulps), colours within one level, confidences within 1e-6. Merged to a coarser grid, the
        /// map keeps the summed confidence and the weighted centroids of position and colour (a voxel's float mean may round
        /// across a cell boundary, so the merged voxels are compared in total, not one by one).
        /// </summary>
        [Fact]
        public void The_map_is_the_reference_voxel_mean_over_blocks_index_growth_and_a_merge()
        {
            const int w = 157, h = 111; // odd sizes
            const double size = 0.004;
            var k = Intrinsics.Centered(w, h, 150);
            var frames = new List<(FloatImage D, FloatImage C, RgbImage I, CameraPose P)>();
            for (int f = 0; f < 5; f++)
            {
                var d = new FloatImage(w, h); var c = new FloatImage(w, h); var img = new RgbImage(w, h);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        d[x, y] = (float)(1.5 + 0.3 * Math.Sin(0.05 * x + f) + 0.002 * y); // smooth: no depth edges
                        c[x, y] = (float)(0.4 + 0.6 * ((x * 7 + y * 13 + f) % 11) / 10.0);
                        int o = 3 * (y * w + x);
                        img.Pixels[o] = (byte)(x + f); img.Pixels[o + 1] = (byte)(2 * y); img.Pixels[o + 2] = (byte)(x * y);
                    }
                frames.Add((d, c, img, new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[] { 0.01 * f, -0.003 * f, 0.02 * f })));
            }
            var reference = ReferenceVoxels(frames.Select(fr => Integrated(fr, k)), size);

            // Every voxel kept (MinViews 1): the means alone (their confirmation: the test below).
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = size, MinViews = 1 });
            foreach (var fr in frames) fusion.Integrate(fr.D, fr.C, fr.I, k, fr.P);
            Assert.True(fusion.Count > 2 * PointCloudFusion.BlockVoxels, $"{fusion.Count} voxels: fewer than three blocks");
            var cloud = fusion.ToPointCloud();
            Assert.Equal(reference.Count, cloud.Count);
            for (int v = 0; v < reference.Count; v++)
            {
                var s = reference[v];
                for (int a = 0; a < 3; a++) Assert.True(Math.Abs(cloud.Positions[3 * v + a] - s[1 + a] / s[0]) < 2e-6, $"voxel {v} axis {a}: {cloud.Positions[3 * v + a]} against {s[1 + a] / s[0]}");
                for (int a = 0; a < 3; a++) Assert.InRange(cloud.Colors[3 * v + a], Math.Round(s[4 + a] / s[0]) - 1, Math.Round(s[4 + a] / s[0]) + 1);
                // Within 1e-6 (the float sum's rounding), not "to 5 decimal places": rounding both can split values 1e-8 apart.
                Assert.True(Math.Abs(1 - Math.Exp(-s[0]) - cloud.Confidence![v]) < 1e-6, $"voxel {v}: confidence {cloud.Confidence![v]} against {1 - Math.Exp(-s[0])}");
            }

            var merged = new PointCloudFusion(new FusionOptions { VoxelSize = size, MaxVoxels = 30_000, MinViews = 1 });
            foreach (var fr in frames) merged.Integrate(fr.D, fr.C, fr.I, k, fr.P);
            Assert.True(merged.VoxelSize > size, "the grid was never coarsened");
            Assert.InRange(merged.Count, 1, 29_999);
            var all = merged.ToPointCloud();
            Assert.Equal(all.Count, merged.PointCount);
            double total = reference.Sum(s => s[0]);
            var centroid = new double[6];
            var weights = merged.SummedConfidence().Select(x => (double)x).ToArray();
            for (int v = 0; v < all.Count; v++)
                for (int a = 0; a < 3; a++) { centroid[a] += weights[v] * all.Positions[3 * v + a]; centroid[3 + a] += weights[v] * all.Colors[3 * v + a]; }
            Assert.Equal(1, weights.Sum() / total, 3);
            for (int a = 0; a < 3; a++)
            {
                Assert.Equal(reference.Sum(s => s[1 + a]) / total, centroid[a] / weights.Sum(), 3);
                Assert.Equal(reference.Sum(s => s[4 + a]) / total, centroid[3 + a] / weights.Sum(), 0); // colours rounded to levels
            }
        }

        // The points a frame adds (position, colour, weight), as Integrate accepts them (no depth edges in these frames).
        private static IEnumerable<double[]> Integrated((FloatImage D, FloatImage C, RgbImage I, CameraPose P) fr, Intrinsics k)
        {
            for (int y = 0; y < fr.D.Height; y++)
                for (int x = 0; x < fr.D.Width; x++)
                {
                    var (cx, cy, cz) = k.Unproject(x, y, fr.D[x, y]);
                    var (wx, wy, wz) = fr.P.Transform(cx, cy, cz);
                    int o = 3 * (y * fr.D.Width + x);
                    yield return new double[] { fr.C[x, y], wx, wy, wz, fr.I.Pixels[o], fr.I.Pixels[o + 1], fr.I.Pixels[o + 2] };
                }
        }

        private static long RefKey(double x, double y, double z, double size) =>
            ((long)Math.Floor(x / size) & 0x1FFFFF) | (((long)Math.Floor(y / size) & 0x1FFFFF) << 21) | (((long)Math.Floor(z / size) & 0x1FFFFF) << 42);

        // Weighted sums per voxel (weight, weight x position, weight x colour), in first-seen order.
        private static List<double[]> ReferenceVoxels(IEnumerable<IEnumerable<double[]>> frames, double size)
        {
            var sums = new List<double[]>(); var index = new Dictionary<long, int>();
            foreach (var frame in frames)
                foreach (var p in frame)
                {
                    long key = RefKey(p[1], p[2], p[3], size);
                    if (!index.TryGetValue(key, out int i)) { i = sums.Count; index[key] = i; sums.Add(new double[7]); }
                    sums[i][0] += p[0];
                    for (int a = 1; a < 7; a++) sums[i][a] += p[0] * p[a];
                }
            return sums;
        }

        /// <summary>
        /// Confirmation against a plain reference: voxels as above, each with the fused frames that added to it and the last
        /// one; after every <see cref="FusionOptions.UnconfirmedFrames"/>-th frame the unconfirmed voxels untouched for that
        /// many frames are removed (the rest in order, new voxels after them), and the cloud is the confirmed voxels. A surface
        /// that moves from frame to frame leaves voxels one frame saw; over 13 frames (two removals, new voxels reusing the
        /// freed room in the blocks) the map must match the reference voxel for voxel, keep no block more than it needs, and
        /// hold every voxel a frame in the last window added to. Views are counted per cell of <paramref name="cell"/>^3 voxels
        /// (<see cref="FusionOptions.ConfirmCell"/>; 1: per voxel), and a voxel goes or stays with its cell.
        /// </summary>
        [Theory]
        [InlineData(1)]
        [InlineData(3)]
        public void Unconfirmed_voxels_are_removed_as_the_reference_removes_them(int cell)
        {
            const int w = 97, h = 73, minViews = 2, window = 4;
            const double size = 0.01;
            var k = Intrinsics.Centered(w, h, 90);
            var frames = new List<(FloatImage D, FloatImage C, RgbImage I, CameraPose P)>();
            for (int f = 0; f < 13; f++)
            {
                var d = new FloatImage(w, h); var c = new FloatImage(w, h); var img = new RgbImage(w, h);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        d[x, y] = (float)(1.5 + 0.2 * Math.Sin(0.07 * x + 0.9 * f) + 0.003 * y); // moves by up to 18 voxels a frame
                        c[x, y] = (float)(0.4 + 0.6 * ((x * 5 + y * 11 + f) % 7) / 6.0);
                        int o = 3 * (y * w + x);
                        img.Pixels[o] = (byte)(3 * x + f); img.Pixels[o + 1] = (byte)(y + 7 * f); img.Pixels[o + 2] = (byte)(x ^ y);
                    }
                frames.Add((d, c, img, new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[] { 0.004 * f, 0, -0.002 * f })));
            }
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = size, MinViews = minViews, UnconfirmedFrames = window, ConfirmCell = cell });
            // Reference: sums as in ReferenceVoxels, each voxel's cell; per cell the views and the last frame.
            var sums = new List<double[]>(); var keys = new List<long>(); var cellOf = new List<long>();
            var cellKeys = new Dictionary<long, (int Views, int Last)>();
            long CellKey(double x, double y, double z)
            {
                long A(double v) => (long)Math.Floor(Math.Floor(v / size) / cell) & 0x1FFFFF;
                return A(x) | (A(y) << 21) | (A(z) << 42);
            }
            int removals = 0, removed = 0;
            for (int f = 1; f <= frames.Count; f++)
            {
                var fr = frames[f - 1];
                fusion.Integrate(fr.D, fr.C, fr.I, k, fr.P);
                var index = new Dictionary<long, int>();
                for (int i = 0; i < keys.Count; i++) index[keys[i]] = i;
                foreach (var p in Integrated(fr, k))
                {
                    long key = RefKey(p[1], p[2], p[3], size), ck = CellKey(p[1], p[2], p[3]);
                    if (!index.TryGetValue(key, out int i)) { i = sums.Count; index[key] = i; sums.Add(new double[7]); keys.Add(key); cellOf.Add(ck); }
                    sums[i][0] += p[0];
                    for (int a = 1; a < 7; a++) sums[i][a] += p[0] * p[a];
                    var cv = cellKeys.TryGetValue(ck, out var got) ? got : (Views: 0, Last: 0);
                    if (cv.Last != f) cellKeys[ck] = (cv.Views + 1, f);
                }
                if (f % window == 0)
                {
                    var stale = cellKeys.Where(kv => kv.Value.Views < minViews && f - kv.Value.Last >= window).Select(kv => kv.Key).ToHashSet();
                    foreach (var ck in stale) cellKeys.Remove(ck);
                    var keep = Enumerable.Range(0, sums.Count).Where(i => !stale.Contains(cellOf[i])).ToList();
                    if (keep.Count < sums.Count) { removals++; removed += sums.Count - keep.Count; }
                    (sums, keys, cellOf) = (keep.Select(i => sums[i]).ToList(), keep.Select(i => keys[i]).ToList(), keep.Select(i => cellOf[i]).ToList());
                }
                var views = cellOf.Select(ck => cellKeys[ck].Views).ToList();
                Assert.Equal(sums.Count, fusion.Count);
                Assert.Equal(views, fusion.Views());
                Assert.Equal(f < minViews ? sums.Count : views.Count(v => v >= minViews), fusion.PointCount);
                Assert.InRange(fusion.Capacity - fusion.Count, 0, PointCloudFusion.BlockVoxels - 1);
                // Confirming, the map also holds its cells.
                Assert.Equal(cellKeys.Count, fusion.Cells);
                Assert.Equal((long)fusion.Capacity * PointCloudFusion.VoxelBytes + (long)fusion.IndexSlots * PointCloudFusion.SlotBytes + (long)fusion.Cells * PointCloudFusion.CellBytes, fusion.Bytes);
            }
            Assert.Equal(2, removals); // after frames 8 and 12 (after frame 4 nothing is 4 frames old yet)
            Assert.True(removed > fusion.Count / 20 && fusion.Count > 2 * PointCloudFusion.BlockVoxels / 3, $"{removed} voxels removed, {fusion.Count} left: the test must remove many and keep many");
            var confirmed = Enumerable.Range(0, sums.Count).Where(i => cellKeys[cellOf[i]].Views >= minViews).ToList();
            Assert.True(confirmed.Count < sums.Count, "every voxel left is confirmed: the cloud's filter is not exercised");
            var cloud = fusion.ToPointCloud();
            Assert.Equal(confirmed.Count, cloud.Count);
            Assert.Equal(cloud.Count, fusion.PointCount);
            for (int j = 0; j < confirmed.Count; j++)
            {
                var s = sums[confirmed[j]];
                for (int a = 0; a < 3; a++) Assert.True(Math.Abs(cloud.Positions[3 * j + a] - s[1 + a] / s[0]) < 2e-6, $"point {j} axis {a}: {cloud.Positions[3 * j + a]} against {s[1 + a] / s[0]}");
                for (int a = 0; a < 3; a++) Assert.InRange(cloud.Colors[3 * j + a], Math.Round(s[4 + a] / s[0]) - 1, Math.Round(s[4 + a] / s[0]) + 1);
                Assert.True(Math.Abs(1 - Math.Exp(-s[0]) - cloud.Confidence![j]) < 1e-6, $"point {j}: confidence {cloud.Confidence![j]} against {1 - Math.Exp(-s[0])}");
            }
        }

        [Fact]
        public void A_surface_two_frames_saw_stays_and_one_only_one_frame_saw_goes()
        {
            // Frame 1 sees planes at z = 1 (left half) and z = 1.2 (right half); frame 2 the left one again; frames 3-8 a
            // plane at z = 3. With MinViews 2 and a window of 3: at the removal after frame 6 the right half (one view, last
            // added to by frame 1) goes, the left half (two views) stays for good.
            const int w = 40, h = 30;
            var k = Intrinsics.Centered(w, h, 30);
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 0.02, MinViews = 2, UnconfirmedFrames = 3, MaxRelativeDepthJump = 1 });
            var (d1, c, img) = Plane(w, h, 1f);
            for (int y = 0; y < h; y++) for (int x = w / 2; x < w; x++) d1[x, y] = 1.2f;
            fusion.Integrate(d1, c, img, k, CameraPose.Identity);
            Assert.Equal(fusion.Count, fusion.ToPointCloud().Count); // one frame fused: nothing could be confirmed, all shown
            var (left, _, _) = Plane(w, h, 1f);
            for (int y = 0; y < h; y++) for (int x = w / 2; x < w; x++) left[x, y] = float.NaN;
            fusion.Integrate(left, c, img, k, CameraPose.Identity);
            int bothHalves = fusion.Count;
            var far = Plane(w, h, 3f);
            double[] Depths() { var p = fusion.ToPointCloud(); return Enumerable.Range(0, p.Count).Select(i => (double)p.Positions[3 * i + 2]).ToArray(); }
            for (int f = 3; f <= 8; f++)
            {
                fusion.Integrate(far.Depth, far.Conf, far.Img, k, CameraPose.Identity);
                var z = Depths();
                Assert.Contains(z, v => Math.Abs(v - 1) < 1e-4);                   // confirmed: always in the cloud
                Assert.DoesNotContain(z, v => Math.Abs(v - 1.2) < 1e-4);           // one view: never in the cloud once frames were fused
                Assert.DoesNotContain(z, v => Math.Abs(v - 3) < 1e-4 && f == 3);   // the far plane: confirmed from its second frame on
                if (f < 6) Assert.True(fusion.Count >= bothHalves, $"frame {f}: the map lost voxels before the window passed");
            }
            Assert.Contains(Depths(), v => Math.Abs(v - 3) < 1e-4);
            int nearLeft = fusion.ToPointCloud().Count - Depths().Count(v => Math.Abs(v - 3) < 1e-4);
            // After frame 6's removal the map holds the left half and the far plane only.
            Assert.Equal(nearLeft + Depths().Count(v => Math.Abs(v - 3) < 1e-4), fusion.Count);
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
