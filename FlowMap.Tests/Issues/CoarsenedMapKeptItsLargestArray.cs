using System;
using FlowMap.Fusion;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found measuring issue 12's memory target (`./flowmap bench live --skip-paced --trim`, 10,000 frames): RSS 669 MB at
    /// frame 1,000 and 738 MB at frame 10,000 with the fused map at 196,628 and 254,246 voxels, about the same size. Between
    /// the two the map had grown to 955,221 voxels and been merged to a coarser grid (<see cref="FusionOptions.MaxVoxels"/>),
    /// and the merge allocated its accumulators at the old map's length: 7.3 M doubles (59 MB) kept for a map of a quarter
    /// of a million voxels, four times the room growing to that size gives. After a merge the map now has the room growing to
    /// the merged size gives (its blocks and index; the accumulators then were a power of two of at least 1,024 voxels).
    /// </summary>
    public sealed class CoarsenedMapKeptItsLargestArray
    {
        [Fact]
        public void After_merging_to_a_coarser_grid_the_map_keeps_only_the_room_its_size_needs()
        {
            // A fronto-parallel plane, one voxel per pixel at the start (pixels 1/f = 0.01 apart at z = 1): 200 x 150 pixels
            // are 30,000 voxels, over the bound of 20,000; doubling the edge merges about four pixels into one.
            const int w = 200, h = 150;
            var d = new FloatImage(w, h); var c = new FloatImage(w, h); var img = new RgbImage(w, h);
            Array.Fill(d.Data, 1f); Array.Fill(c.Data, 1f);
            var k = Intrinsics.Centered(w, h, 100);
            var fusion = new PointCloudFusion(new FusionOptions { VoxelSize = 0.01, MaxVoxels = 20_000 });
            fusion.Integrate(d, c, img, k, CameraPose.Identity);
            Assert.True(fusion.VoxelSize > 0.01, "the grid was never coarsened");
            Assert.InRange(fusion.Count, 1, 19_999);
            // Growing one voxel at a time to Count gives the blocks that hold it and an index of the smallest power of two of
            // at least 1,024 slots that is at most three quarters full (before the merge: two blocks, 32,768 slots).
            int blocks = (fusion.Count + PointCloudFusion.BlockVoxels - 1) / PointCloudFusion.BlockVoxels;
            int slots = 1024;
            while (4L * fusion.Count > 3L * slots) slots *= 2;
            Assert.True(fusion.Capacity == blocks * PointCloudFusion.BlockVoxels, $"{fusion.Count} voxels in room for {fusion.Capacity} (growing to that size gives {blocks} blocks)");
            Assert.True(fusion.IndexSlots == slots, $"{fusion.Count} voxels in {fusion.IndexSlots} index slots (growing to that size gives {slots})");
        }
    }
}
