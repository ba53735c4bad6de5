using System.Collections.Generic;
using System.Linq;
using FlowMap.Reconstruction;
using FlowMap.Solve.Geometry;
using FlowMap.Synthetic;
using FlowMap.Tests.Reconstruction;
using FlowMap.Tests.Solve.Geometry;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found measuring a live session's mapping (`bench live`: stage calibrate 171 ms per keyframe, ~1.2 s per estimate):
    /// each held keyframe pair's self-calibration analysis was kept under the seed of its position in the held pairs, and
    /// once the most recent <see cref="KeyframeSolver.MaxCalibrationPairs"/> were held, every new pair pushed the oldest out
    /// and moved every other one a position down: at each estimate all of them were analysed again. Each pair is now sampled
    /// with its ordinal in the session, which it keeps while it is held (the same seed as its position until a pair left).
    /// </summary>
    public sealed class HeldCalibrationPairsAnalysedAgain : GpuTest
    {
        public HeldCalibrationPairsAnalysedAgain(GpuFixture f) : base(f) { }

        [Fact]
        public void A_held_pair_is_analysed_once_however_many_pairs_left_before_it()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 80);
            var flow = new TruthFlow(s);
            var o = new ReconstructionOptions { Refine = false, PairSpan = 3 };
            var mapper = new KeyframeSolver(flow, new TruthSolver(s), o, new StageClock(), null) { MaxCalibrationPairs = 8 };
            var first = new Dictionary<Correspondences, AnalysedPair>();
            int keptAfterOthersLeft = 0;
            // A window of 4 keyframes sliding by one: 3 new pairs each time, the oldest leaving once 8 are held.
            for (int w = 0; w < 12; w++)
            {
                mapper.SolveWindow(s.KeyframeWindow(flow, w, 4), null, null, null, 0, 1, default);
                foreach (var (pair, seed, analysis) in mapper.HeldCalibration)
                {
                    if (analysis == null) continue;
                    Assert.Equal(seed, analysis.Seed);
                    if (first.TryGetValue(pair, out var earlier))
                    {
                        Assert.Same(earlier, analysis); // not analysed again
                        if (mapper.CalibrationPairsSeen > mapper.MaxCalibrationPairs) keptAfterOthersLeft++;
                    }
                    else first[pair] = analysis;
                }
            }
            // Not vacuous: estimates ran after pairs had left, and found pairs analysed before that.
            Assert.True(keptAfterOthersLeft > 0, "no held pair was seen again after the oldest had left");
            var seeds = mapper.HeldCalibration.Select(h => h.Seed).ToList();
            Assert.Equal(Enumerable.Range(39 - 8, 8).Select(i => (ulong)i), seeds); // 6 + 11 x 3 pairs seen, the last 8 held
        }

        [Fact]
        public void Kept_analyses_give_the_estimate_of_a_fresh_one_with_the_same_seeds()
        {
            // The estimate is a function of the pairs and their seeds, not of what was analysed before: kept analyses from an
            // estimate over pairs 0-5 reused in one over pairs 2-7 give what an estimate with nothing kept gives (a walk with
            // exact flow, where the focal is determined).
            const int w = SelfCalibrationTests.W, h = SelfCalibrationTests.H;
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = "walk", Frames = 41, Width = w, Height = h, Seed = 1 }, Ctx, ownsContext: false);
            var pairs = SelfCalibrationTests.Pairs(seq, 4, 4).Take(8).ToList();
            var table = new System.Runtime.CompilerServices.ConditionalWeakTable<Correspondences, AnalysedPair>();
            SelfCalibration.Estimate(pairs.Take(6).ToList(), w, h, table, Enumerable.Range(0, 6).Select(i => (ulong)i).ToList());
            var later = pairs.Skip(2).ToList();
            var laterSeeds = Enumerable.Range(2, 6).Select(i => (ulong)i).ToList();
            var kept = SelfCalibration.Estimate(later, w, h, table, laterSeeds);
            var fresh = SelfCalibration.Estimate(later, w, h, null, laterSeeds);
            Assert.True(fresh.Determined && double.IsFinite(fresh.Focal), "the walk's pairs should determine the focal");
            Assert.Equal(fresh.Focal, kept.Focal);
            Assert.Equal(fresh.RelStd, kept.RelStd);
            Assert.Equal(fresh.PairsUsed, kept.PairsUsed);
        }
    }
}
