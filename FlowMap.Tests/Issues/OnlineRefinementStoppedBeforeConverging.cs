using System;
using System.Collections.Generic;
using FlowMap.Reconstruction;
using FlowMap.Solve.Refine;
using FlowMap.Synthetic;
using FlowMap.Tests.Solve.Refine;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found measuring issue 11's online target (demo ATE <= 1 %): the mapper's refinement ran at most 8 linearisations
    /// (`ReconstructionOptions.RefineIterations`), and with the Cauchy loss the first of them are its Huber warm start, so
    /// in the windows where the flow has many gross outliers (the walk's turn past the thin columns, frames 36-59) the
    /// Cauchy stage got one or two steps and stopped far from its minimum: the windows' robust cost per observation rose
    /// to 0.6-1.0 where the offline solve over the same flows fits at 0.16, and the keyframe-to-keyframe motion there was
    /// off by up to 3 degrees (offline: under 0.07). The cap was the stop, not convergence. Measured with
    /// `bench reconstruct --sequences walk --modes online --refine-iterations 30`: walk ATE 2.59 -> 0.51 % of path.
    /// Here a window like an online one (six keyframes, the first two held at their true poses, the focal held) with 8 %
    /// gross flow outliers, started as descent would leave it (2 degrees, 10 % of the baseline, 20 % depth noise): with
    /// the mapper's settings the refinement must end where it converges (within 0.1 % of the cost of a run to 200).
    /// </summary>
    public sealed class OnlineRefinementStoppedBeforeConverging : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public OnlineRefinementStoppedBeforeConverging(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        [Fact]
        public void The_mappers_refinement_converges_through_gross_outliers()
        {
            // One fixed draw of outliers and start, not a fresh one: on the flat tails of the Cauchy loss a few cells can
            // slide for many linearisations before the cost drops again (fresh seed 1119287994: 0.18 % above the floor after
            // 30, converged at 41), so no cap converges every draw within it; this draw converges in 15, and the cap of 8
            // ends it 0.17 % above.
            const int seed = -912803770;
            var rng = new Random(seed);
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = "walk", Frames = 16, Width = 160, Height = 120, Seed = 1, Samples = 1 }, Ctx, ownsContext: false);
            const int stride = 4;
            // In 8 % of the cells of every edge the flow of the whole stride x stride block is shifted by 15-40 px.
            var bad = new HashSet<(int I, int J, int Cell)>();
            var scene = BundleScene.Create(seq, keyframes: 6, step: 3, stride: stride, corrupt: BundleScene.GrossOutliers(rng, 160, 120, stride, 0.08, bad));
            var start = scene.Perturbed(rng, degrees: 2, translation: 0.1, depthNoise: 0.2, focalFactor: 1.0);
            start.Poses[1] = scene.Truth.Poses[1]; // held where the earlier windows put it (here: right)
            var options = KeyframeSolver.RefineOptions(new ReconstructionOptions(), focalFixed: true, refineK1: false, fixedKeyframes: 2);
            var r = BundleAdjuster.Refine(scene.Problem, start, options, token: TestContext.Current.CancellationToken);
            foreach (var line in r.Trace) _out.WriteLine("  " + line);
            // Depth is scored where it is identifiable: cells whose clean observations outnumber their corrupted ones.
            var (s, medianRel) = scene.ScoreWithMedian(r.State, (k, c) => scene.Unidentifiable(bad, k, c));
            _out.WriteLine($"seed {seed}: {r.Iterations} linearisations (cap {options.Iterations}), cost per observation {r.FinalMeanCost:G4}, " +
                           $"rotation error {s.MaxRotDeg:F4} deg, median depth error {medianRel:G4}");
            // The same refinement run on to 200 linearisations follows the same path (each accepted step lowers the cost), so
            // its cost is the floor: the mapper's settings must end within 0.1 % of it. The cap of 8 ended 0.17-0.27 % above (three seeds),
            // the Cauchy cost still falling by 0.25 % a step; once converged the tail gains under 1e-5 a step (a few cells
            // sliding along the flat Cauchy tails), which the 1e-6 criterion can still count as progress, so the cap ends those runs.
            var longOptions = KeyframeSolver.RefineOptions(new ReconstructionOptions(), focalFixed: true, refineK1: false, fixedKeyframes: 2);
            longOptions.Iterations = 200;
            var floor = BundleAdjuster.Refine(scene.Problem, start, longOptions, token: TestContext.Current.CancellationToken);
            _out.WriteLine($"cost {r.FinalCost:G8} after {r.Iterations}, {floor.FinalCost:G8} after {floor.Iterations} linearisations");
            Assert.True(r.FinalCost - floor.FinalCost <= 1e-3 * floor.FinalCost,
                $"seed {seed}: the refinement stopped at cost {r.FinalCost} after {r.Iterations} linearisations (cap {options.Iterations}), {100 * (r.FinalCost / floor.FinalCost - 1):F3} % above where it converges ({floor.FinalCost})");
            // Where it converges is the Cauchy optimum under these outliers, not the truth: with two keyframes held and 8 %
            // gross outliers it was measured up to 0.21 deg and 1.5 % median depth off (seed -1843266726, converged in 15), so
            // accuracy is reported above and bounded by BundleAdjusterTests; this test is about stopping where it converges.
        }
    }
}
