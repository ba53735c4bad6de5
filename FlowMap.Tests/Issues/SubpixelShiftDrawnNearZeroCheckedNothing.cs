using System;
using FlowMap.Tests.Flow;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found by CI (the staged GPU pass, seed 1979684048): FlowKernelTests.DisSearch_recovers_a_subpixel_translation drew
    /// its shift uniformly in (-0.85, 0.85) px per axis, and SubpixelShift.CheckPatches skips every patch whose fixed point
    /// lies within 0.02 px of a pixel edge (where the bilinear error map has its kink). That seed drew (-0.0036, -0.0908):
    /// a component near 0 put every fixed point there: "only 0 of 117 patches determine the shift", a verdict that depended on the seed (about 1 run in
    /// 20). The kernel was right; the test's draw was not. Shifts now come from SubpixelShift.DrawShift, each component's
    /// magnitude in [0.1, 0.85] px.
    /// </summary>
    public sealed class SubpixelShiftDrawnNearZeroCheckedNothing
    {
        [Fact]
        public void Drawn_shifts_keep_clear_of_pixel_edges()
        {
            // Far enough from the edges that the search's fixed points (the shift plus a bias of a few hundredths of a
            // pixel) cannot come within the skipped 0.02 px: at least 0.1 from 0 and 0.15 from +-1, on 100,000 draws.
            var r = new Random(1979684048);
            for (int i = 0; i < 100_000; i++)
            {
                var (x, y) = SubpixelShift.DrawShift(r);
                foreach (var c in new[] { x, y })
                    Assert.True(Math.Abs(c) >= 0.1 && Math.Abs(c) <= 0.85, $"draw {i}: component {c}");
            }
        }

        [Fact]
        public void A_shift_near_zero_leaves_no_patch_to_check()
        {
            // The failure itself, on the CPU reference: the failing run's draw leaves no patch to check; a shift clear of the
            // edges leaves most.
            int w = 61, h = 47;
            var push = new FlowMap.Flow.Kernels.DisSearch.Push { Width = w, Height = h, PatchSize = 8, Stride = 4, GridWidth = FlowMap.Flow.Kernels.DisSearch.GridSize(w, 8, 4), GridHeight = FlowMap.Flow.Kernels.DisSearch.GridSize(h, 8, 4), Iterations = 10 };
            int Checked(double tx, double ty)
            {
                var s = new SubpixelShift(new Random(1979684048), w, h, tx, ty, 16);
                var cpu = FlowMap.Flow.Kernels.DisSearch.Reference(s.I0, s.Grad0, s.I1, new float[w * h * 2], push);
                var asFloat = Array.ConvertAll(cpu, v => (float)v);
                return SubpixelShift.CheckPatches(s, push, asFloat, cpu, "cpu", assertEach: false).Checked;
            }
            // The draw of the failing run (seed 1979684048, the test's old draw):
            var old = new Random(1979684048);
            double ox = 1.7 * (old.NextDouble() - 0.5), oy = 1.7 * (old.NextDouble() - 0.5);
            Assert.True(Checked(ox, oy) == 0, $"old draw ({ox:F4}, {oy:F4}): {Checked(ox, oy)} checked");
            var (k, interior) = (Checked(0.4, -0.3), (push.GridWidth - 2) * (push.GridHeight - 2));
            Assert.True(k >= interior / 4, $"{k} of {interior} checked at (0.4, -0.3)");
        }
    }
}
