using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using FlowMap.Flow;
using FlowMap.Solve.Geometry;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve.Geometry
{
    /// <summary>Focal from geometry on synthetic sequences with exact flow (and the Vulkan flow), and its degeneracies.</summary>
    public sealed class SelfCalibrationTests : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public SelfCalibrationTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        internal const int W = 192, H = 144;

        internal SyntheticSequence Sequence(string path, int frames, int seed, int w = W, int h = H) =>
            SyntheticSequence.Create(SyntheticScene.Create("room", seed),
                new SyntheticSequenceOptions { Path = path, Frames = frames, Width = w, Height = h, Seed = seed }, Ctx, ownsContext: false);

        /// <summary>The exact flow of a pair as a <see cref="FlowResult"/>: confidence 1 where visible in the other frame, 0 where occluded.</summary>
        internal static FlowResult TruthPair(SyntheticSequence s, int a, int b)
        {
            static FloatImage Visible(FloatImage occ)
            {
                var c = new FloatImage(occ.Width, occ.Height);
                for (int i = 0; i < c.Data.Length; i++) c.Data[i] = occ.Data[i] > 0 ? 0f : 1f;
                return c;
            }
            return new FlowResult(s.Flow(a, b), s.Flow(b, a), Visible(s.Occlusion(a, b)), Visible(s.Occlusion(b, a)));
        }

        /// <summary>Keyframe pairs (i, i + gap) for i = 0, step, 2 step, ... below frames - gap.</summary>
        internal static List<Correspondences> Pairs(SyntheticSequence s, int gap, int step)
        {
            var list = new List<Correspondences>();
            for (int i = 0; i + gap < s.Count; i += step) list.Add(Correspondences.FromFlow(TruthPair(s, i, i + gap)));
            return list;
        }

        private void Print(string what, FocalEstimate e, double truth, double seconds)
        {
            _out.WriteLine($"{what}: focal {e.Focal:F3} (truth {truth:F1}, error {100 * (e.Focal / truth - 1):+0.000;-0.000} %), rel std {100 * e.RelStd:F3} %, determined {e.Determined}, pairs used {e.PairsUsed}/{e.Pairs.Count}, {seconds:F2} s");
            if (e.Warning != null) _out.WriteLine("  warning: " + e.Warning);
            foreach (var p in e.Pairs) _out.WriteLine("  " + p);
        }

        [Theory]
        // path, seed: general motion with rotation recovers the focal from exact flow within 0.5 % (issue 11's target).
        [InlineData("walk", 1)]
        [InlineData("walk", 2)]
        [InlineData("orbit", 3)]
        public void Recovers_the_focal_from_exact_flow(string path, int seed)
        {
            using var s = Sequence(path, 41, seed);
            var pairs = Pairs(s, 4, 4);
            var sw = Stopwatch.StartNew();
            var e = SelfCalibration.Estimate(pairs, W, H);
            Print($"{path} seed {seed}", e, s.Intrinsics.Fx, sw.Elapsed.TotalSeconds);
            Assert.True(e.Determined, e.Warning);
            Assert.True(Math.Abs(e.Focal / s.Intrinsics.Fx - 1) < 0.005, $"focal {e.Focal} vs {s.Intrinsics.Fx}");
        }

        /// <summary>
        /// Online the recent pairs are combined again as new ones arrive: analyses kept for pairs at the position they had
        /// give the estimate a fresh analysis of every pair gives (to the bit), are taken (not redone) when the pair keeps its
        /// position, and are redone when it moved (its sampling's seed is its position).
        /// </summary>
        [Fact]
        public void Kept_pair_analyses_give_the_same_estimate_and_are_reused_only_at_their_position()
        {
            using var s = Sequence("walk", 33, 5);
            var pairs = Pairs(s, 4, 4);
            Assert.True(pairs.Count >= 6, $"{pairs.Count} pairs");
            var kept = new System.Runtime.CompilerServices.ConditionalWeakTable<Correspondences, AnalysedPair>();
            var first = SelfCalibration.Estimate(pairs.Take(4).ToList(), W, H, kept);
            Assert.True(kept.TryGetValue(pairs[0], out var pair0));
            // Appended: the first four keep their positions and their analyses.
            var appended = SelfCalibration.Estimate(pairs, W, H, kept);
            Assert.True(kept.TryGetValue(pairs[0], out var again) && ReferenceEquals(pair0, again), "the kept analysis was redone");
            AssertSame(SelfCalibration.Estimate(pairs, W, H), appended);
            AssertSame(SelfCalibration.Estimate(pairs.Take(4).ToList(), W, H), first);
            // The oldest left: every pair moved one position and is analysed again, as without kept analyses.
            var shifted = SelfCalibration.Estimate(pairs.Skip(1).ToList(), W, H, kept);
            Assert.True(kept.TryGetValue(pairs[1], out var moved) && moved.Seed == 0, "the moved pair kept the analysis of its old position");
            AssertSame(SelfCalibration.Estimate(pairs.Skip(1).ToList(), W, H), shifted);

            static void AssertSame(FocalEstimate expected, FocalEstimate actual)
            {
                Assert.Equal(expected.Focal, actual.Focal);
                Assert.Equal(expected.RelStd, actual.RelStd);
                Assert.Equal(expected.PairsUsed, actual.PairsUsed);
                Assert.Equal(expected.Pairs.Select(p => p.ToString()), actual.Pairs.Select(p => p.ToString()));
            }
        }

        [Fact]
        public void Forward_motion_is_not_determined_and_says_how_to_give_the_focal()
        {
            // The straight leg of the forward path: translation along the optical axis only (parallel optical axes: Sturm 2001).
            using var s = Sequence("forward", 21, 4);
            var pairs = Pairs(s, 4, 4);
            var e = SelfCalibration.Estimate(pairs, W, H);
            Print("forward", e, s.Intrinsics.Fx, 0);
            Assert.False(e.Determined);
            Assert.NotNull(e.Warning);
            Assert.Contains("--focal", e.Warning);
            Assert.Contains("forward", e.Warning);
        }

        [Fact]
        public void Pure_rotation_gives_the_focal_through_the_infinite_homography()
        {
            using var s = Sequence("rotation", 41, 5);
            var pairs = Pairs(s, 4, 4);
            var e = SelfCalibration.Estimate(pairs, W, H);
            Print("rotation", e, s.Intrinsics.Fx, 0);
            Assert.True(e.Pairs.Count(p => p.Kind == "rotation") >= pairs.Count / 2, "most pairs are recognised as rotations");
            Assert.True(e.Determined, e.Warning);
            Assert.True(Math.Abs(e.Focal / s.Intrinsics.Fx - 1) < 0.005, $"focal {e.Focal} vs {s.Intrinsics.Fx}");
        }
    }
}
