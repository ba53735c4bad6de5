using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Tests.Support;
using FlowMap.Viewer.Cli;
using Xunit;

namespace FlowMap.Tests.Cli
{
    /// <summary>
    /// `bench live`'s drift of a long run (<see cref="BenchLive.Drift"/>): poses that are the truth up to one similarity show
    /// none; a scale that drifts block by block shows it, growing with the first block's alignment, while each block
    /// aligned by itself stays small.
    /// </summary>
    public sealed class BenchLiveDriftTests
    {
        private const int Clip = 50, Frames = 3000;

        private static (int[] Shown, List<CameraPose> Truth) Clip50()
        {
            // A walk along x with a little sway, shown back and forth as the memory run does.
            var truth = Enumerable.Range(0, Clip).Select(i => new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { 0.1 * i, 0.2 * Math.Sin(0.3 * i), 0.05 * i })).ToList();
            var shown = new int[Frames];
            for (int i = 0; i < Frames; i++) { int k = i % (2 * Clip - 2); shown[i] = k < Clip ? k : 2 * Clip - 2 - k; }
            return (shown, truth);
        }

        private static CameraPose Similar(CameraPose p, double scale)
        {
            // A similarity of the world: rotation about z by 0.4 rad, the scale, a shift.
            double c = Math.Cos(0.4), s = Math.Sin(0.4);
            var (x, y, z) = p.Center;
            return new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { scale * (c * x - s * y) + 3, scale * (s * x + c * y) - 1, scale * z + 2 });
        }

        [Fact]
        public void Poses_true_up_to_a_similarity_show_no_drift()
        {
            var (shown, truth) = Clip50();
            var poses = Enumerable.Range(0, Frames).ToDictionary(i => i, i => Similar(truth[shown[i]], 2.5));
            var d = BenchLive.Drift(poses, shown, truth)!;
            Assert.Equal(3, d.Count);
            Assert.All(d, v => Assert.True(v!.GetValue<double>() <= 0.01, $"{v}"));
        }

        [Fact]
        public void A_drifting_scale_grows_block_by_block_and_stays_small_within_a_block()
        {
            var (shown, truth) = Clip50();
            // The scale grows 20 % per 1,000 frames, smoothly (as a monocular window chain's scale drifts).
            var poses = Enumerable.Range(0, Frames).ToDictionary(i => i, i => Similar(truth[shown[i]], 2.5 * (1 + 0.2 * i / 1000.0)));
            var first = BenchLive.Drift(poses, shown, truth)!.Select(v => v!.GetValue<double>()).ToArray();
            var own = BenchLive.Drift(poses, shown, truth, ownAlignment: true)!.Select(v => v!.GetValue<double>()).ToArray();
            Assert.True(first[1] > 2 * first[0] && first[2] > first[1], string.Join(", ", first));
            Assert.True(own[2] < first[2] / 2, $"own {string.Join(", ", own)}, first {string.Join(", ", first)}");
        }

        [Fact]
        public void An_unrelated_trajectory_scores_the_truths_own_spread()
        {
            var (shown, truth) = Clip50();
            // Every camera at a random place: the best similarity shrinks them towards a point, leaving the truth's spread.
            var rng = Rng.Fresh(out int seed);
            var poses = Enumerable.Range(0, Frames).ToDictionary(i => i, i => new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { rng.NextDouble(), rng.NextDouble(), rng.NextDouble() }));
            var own = BenchLive.Drift(poses, shown, truth, ownAlignment: true)!.Select(v => v!.GetValue<double>()).ToArray();
            var spread = BenchLive.Spread(shown, truth).Select(v => v!.GetValue<double>()).ToArray();
            for (int b = 0; b < 3; b++)
                Assert.True(own[b] <= spread[b] + 1e-9 && own[b] > 0.9 * spread[b], $"block {b}: {own[b]} against the spread {spread[b]} (seed {seed})");
        }

        /// <summary>
        /// `bench live`'s error within each pass (<see cref="BenchLive.PassErrors"/>): every pass aligned by itself, so a scale
        /// that changes from pass to pass costs nothing; a pass whose shape is wrong shows in the block's largest figure and
        /// not in its median; a block whose passes all have non-finite poses has no figure.
        /// </summary>
        [Fact]
        public void Each_pass_is_scored_by_its_own_alignment()
        {
            var (shown, truth) = Clip50();
            int pass = Clip - 1;
            // Pass by pass a different scale (0.5, 1.0, 1.5, ...): right within each pass.
            var poses = Enumerable.Range(0, Frames).ToDictionary(i => i, i => Similar(truth[shown[i]], 0.5 * (1 + i / pass % 4)));
            // In block 1 one pass (frames 1,029-1,077) folded onto itself: its second half back along the first.
            for (int i = 1053; i < 1078; i++) poses[i] = poses[2 * 1053 - i];
            // In block 2 every pose non-finite.
            for (int i = 2000; i < Frames; i++) poses[i] = new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { double.NaN, 0, 0 });
            var med = BenchLive.PassErrors(poses, shown, truth, pass, median: true);
            var max = BenchLive.PassErrors(poses, shown, truth, pass, median: false);
            Assert.Equal(3, med.Count);
            // Exact poses up to a similarity: the figures round to 0.00 (2 decimals of a percentage).
            Assert.Equal(0.0, med[0]!.GetValue<double>());
            Assert.Equal(0.0, max[0]!.GetValue<double>());
            Assert.Equal(0.0, med[1]!.GetValue<double>());
            Assert.True(max[1]!.GetValue<double>() > 1, $"the folded pass scored {max[1]}");
            // The pass that starts at frame 1,960 has its 40 frames before 2,000 (finite): block 2's passes start at 2,009.
            Assert.Null(med[2]);
            Assert.Null(max[2]);
        }

        [Fact]
        public void Too_few_poses_give_no_figure()
        {
            var (shown, truth) = Clip50();
            Assert.Null(BenchLive.Drift(new Dictionary<int, CameraPose> { [0] = truth[0], [1] = truth[1] }, shown, truth));
        }
    }
}
