using System;
using System.Linq;
using FlowMap.Reconstruction;
using FlowMap.Solve.Refine;
using FlowMap.Synthetic;
using FlowMap.Tests.Solve.Refine;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found measuring issue 11 on the phone video online (ATE 13.4 % of path, offline 1.4 %): from frame 13 on the
    /// frame-to-frame translation of the online trajectory jumped by factors 0.02 to 48 against COLMAP's while the
    /// rotations stayed within 1.3 degrees. A log of every window showed why. An online window whose refinement with the
    /// held past fits badly is refined a second time from descent's poses, which hold the two frozen keyframes where
    /// descent's Procrustes put them; at this baseline (the translation is 1-2 % of the depth per frame) that baseline
    /// came out 2.5-5x the held one (0.18-0.34 for 0.05-0.09), so the whole refined window, depth and poses, moved to
    /// that scale. The check that keeps the descent's depth in cells the refinement "moved by more than a factor 3" then
    /// compared the rescaled depth with the descent's in the old scale, reverted nearly every cell, and handed on poses
    /// in one scale beside depth in the other: chaining (by the depth's scale) carried the window's translations 3-5x too
    /// long into the trajectory. The check now compares in the refinement's own scale (the confirmed cells' median
    /// ratio), and reverted cells take the descent's depth in that scale.
    /// </summary>
    public sealed class RefinedScaleChangeRevertedEveryCell : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public RefinedScaleChangeRevertedEveryCell(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        [Fact]
        public void A_uniform_rescale_is_kept_and_outlier_cells_revert_in_the_new_scale()
        {
            const int cells = 101; // odd: the median is one cell's ratio
            var q0 = Enumerable.Range(0, cells).Select(c => 0.2 + 0.01 * c).ToArray();
            var q = q0.Select(v => v / 4).ToArray(); // the refinement's gauge moved the whole keyframe 4x farther
            var cc = Enumerable.Repeat(0.9f, cells).ToArray();
            q[10] = 40 * q0[10];                     // a cell fitted to outliers (moved 160x against the rest)
            cc[20] = 0.01f;                          // a cell with no inlier observation
            q[30] = -1;                              // a cell pushed through the camera
            KeyframeSolver.KeepUnconfirmedCells(new[] { q }, new[] { q0 }, new[] { cc });
            for (int c = 0; c < cells; c++)
            {
                Assert.True(Math.Abs(q[c] - q0[c] / 4) <= 1e-12 * q0[c], $"cell {c}: {q[c]} where the keyframe's scale puts {q0[c] / 4}");
                bool reverted = c == 10 || c == 20 || c == 30;
                Assert.True(reverted ? cc[c] == 0 : cc[c] == 0.9f, $"cell {c}: confidence {cc[c]}");
            }
        }

        [Fact]
        public void A_window_refined_at_another_scale_keeps_its_depth_in_that_scale()
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = "walk", Frames = 16, Width = 160, Height = 120, Seed = 1, Samples = 1 }, Ctx, ownsContext: false);
            const int stride = 4;
            const double factor = 4;
            var scene = BundleScene.Create(seq, keyframes: 6, step: 3, stride: stride);
            // The held baseline 4x the truth (as descent's poses of the frozen keyframes can be), depth as descent left it
            // (here: the true depth), every centre 4x as far from keyframe 0: the refinement's optimum is the truth at 4x.
            var start = scene.Truth.Clone();
            var c0 = start.Poses[0].Translation;
            for (int k = 1; k < start.Poses.Length; k++)
            {
                var t = start.Poses[k].Translation;
                start.Poses[k] = new CameraPose(start.Poses[k].Rotation, new[] { c0[0] + factor * (t[0] - c0[0]), c0[1] + factor * (t[1] - c0[1]), c0[2] + factor * (t[2] - c0[2]) });
            }
            var options = KeyframeSolver.RefineOptions(new ReconstructionOptions(), focalFixed: true, refineK1: false, fixedKeyframes: 2);
            var r = BundleAdjuster.Refine(scene.Problem, start, options, token: TestContext.Current.CancellationToken);
            KeyframeSolver.KeepUnconfirmedCells(r.State.InverseDepth, scene.Truth.InverseDepth, r.CellConfidence);
            for (int k = 0; k < scene.Truth.Poses.Length; k++)
            {
                var q = r.State.InverseDepth[k];
                var cc = r.CellConfidence[k];
                var q0 = scene.Truth.InverseDepth[k];
                // Depth and poses in one scale: the kept inverse depth is the true one / 4 in (nearly) every cell.
                var ratios = q.Select((v, c) => v * factor / q0[c]).OrderBy(v => v).ToArray();
                double median = ratios[ratios.Length / 2];
                int kept = cc.Count(v => v > 0);
                _out.WriteLine($"keyframe {k}: median inverse depth x {factor} / true {median:F4}, {kept} of {cc.Length} cells confirmed");
                // Exact flow: the refinement reaches the rescaled truth up to its convergence (well under 1 %).
                Assert.InRange(median, 0.99, 1.01);
                // Cells with no observation (out of view in every later keyframe, occluded) are unconfirmed in any scale, and
                // the last keyframe is the source of no edge in this scene (the window's scale is its fallback); before the fix
                // every cell of every keyframe was reverted (none confirmed).
                if (k < scene.Truth.Poses.Length - 1)
                    Assert.True(kept >= cc.Length / 2, $"keyframe {k}: only {kept} of {cc.Length} cells kept their refined depth");
            }
        }
    }
}
