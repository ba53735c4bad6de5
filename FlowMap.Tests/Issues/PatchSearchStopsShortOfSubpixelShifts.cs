using System;
using FlowMap.Flow.Kernels;
using FlowMap.Tests.Flow;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Defect: the patch search (dis_search.comp) returned sub-pixel shifts about 10 % short (mean 0.358 for 0.395 px),
    /// worse on low-contrast and smooth patches. Cause: its Gauss-Newton step was damped by an absolute eps = 1e-5 P^2
    /// added to a Hessian that scales with the square of the image contrast; on such patches each step covered a few
    /// per cent of the remaining distance, so the early stop (step below 0.01 px) and the iteration limit ended the
    /// search short of its fixed point, towards the initial flow. The damping is now relative to the patch's gradient
    /// energy (DisSearch.DampingRelative) plus an 8-bit noise floor (DisSearch.DampingFloor).
    /// Measured on exact sub-pixel shifts of band-limited images at full and at one tenth of the contrast: every patch
    /// whose iterations contract must reach the fixed point of the search (the shift plus the bias of bilinear
    /// sampling, SubpixelShift.Predict) within the stop tolerance, and the mean error must be that bias's mean.
    /// </summary>
    public sealed class PatchSearchStopsShortOfSubpixelShifts : GpuTest
    {
        public PatchSearchStopsShortOfSubpixelShifts(GpuFixture f) : base(f) { }

        [Theory]
        [InlineData(1.0)]
        [InlineData(0.1)]
        public void Patch_flows_reach_the_fixed_point_at_any_contrast(double contrast)
        {
            var rng = Rng.Fresh(out int seed);
            int w = 77, h = 53;
            var push = new DisSearch.Push { Width = w, Height = h, PatchSize = 8, Stride = 4, GridWidth = DisSearch.GridSize(w, 8, 4), GridHeight = DisSearch.GridSize(h, 8, 4), Iterations = 12 };
            // Exact fractions of a pixel in both axes and signs, from a zero initial flow (the search starts at 0).
            var shifts = new[] { (0.25, 0.5), (0.5, -0.25), (-0.75, 0.1), (0.4, 0.9), (-0.1, -0.6), (0.6, 0.4), (-0.9, -0.75) };
            double sumErr = 0, sumBias = 0, sumAlong = 0, sumAlongBias = 0; int n = 0;
            foreach (var (tx, ty) in shifts)
            {
                // Periods 6 to 18 px: textured enough at one tenth of the contrast to stay above the damping's noise floor.
                var s = new SubpixelShift(new Random(rng.Next()), w, h, tx, ty, 6, contrast);
                var gpu = SubpixelShift.SearchOnGpu(Ctx, s, push);
                var cpu = DisSearch.Reference(s.I0, s.Grad0, s.I1, new float[w * h * 2], push);
                string what = $"contrast {contrast}, shift ({tx}, {ty}), seed {seed}";
                // The per-patch bound of CheckPatches is DisSearch_recovers_a_subpixel_translation's; here the aggregates below
                // are the regression's point. (In a 20-run review one patch of this test, whose iterates cross a pixel edge on
                // the way to u* = 1.0953, stopped 0.0037 px from u* against a predicted 0.0026: the contraction along the
                // path exceeded the one predicted at u*. Not reproduced since; most likely the float rounding of the
                // kernel's cancelling sums for b, mended in Issues/DisSearchStepCancelledInFloat.cs, which moved fixed
                // points by up to 0.007 px.)
                var (k, interior) = SubpixelShift.CheckPatches(s, push, gpu, cpu, what, assertEach: false);
                Assert.True(k >= interior / 4, $"{what}: only {k} of {interior} patches determine the shift");
                for (int py = 1; py < push.GridHeight - 1; py++)
                    for (int px = 1; px < push.GridWidth - 1; px++)
                    {
                        int i = py * push.GridWidth + px;
                        var p = s.Predict(Math.Min(px * 4, w - 8), Math.Min(py * 4, h - 8), 8);
                        if (!(p.Contraction <= 0.5) || Math.Abs(p.U - Math.Round(p.U)) < 0.02 || Math.Abs(p.V - Math.Round(p.V)) < 0.02) continue;
                        double t2 = tx * tx + ty * ty;
                        sumErr += Math.Sqrt(Sq(gpu[2 * i] - tx) + Sq(gpu[2 * i + 1] - ty));
                        sumBias += Math.Sqrt(Sq(p.U - tx) + Sq(p.V - ty));
                        // Signed error along the shift, as a fraction of it (negative: short of the shift).
                        sumAlong += ((gpu[2 * i] - tx) * tx + (gpu[2 * i + 1] - ty) * ty) / t2;
                        sumAlongBias += ((p.U - tx) * tx + (p.V - ty) * ty) / t2;
                        n++;
                    }
            }
            // Each patch is within 0.01 rho / (1 - rho) + 2e-3 <= 0.012 px of its fixed point (CheckPatches), so the mean
            // error is within 0.012 px of the mean bias of bilinear sampling, and the mean signed error along the shift
            // within 0.012 / 0.559 (the shortest shift here) = 2.1 % of the shift of the interpolation's own.
            double meanErr = sumErr / n, meanBias = sumBias / n, along = sumAlong / n, alongBias = sumAlongBias / n;
            string report = $"contrast {contrast}: mean error {meanErr:F4} px (bilinear bias {meanBias:F4} px), along the shift " +
                $"{100 * along:F2} % (bilinear {100 * alongBias:F2} %), {n} patches, seed {seed}";
            Assert.True(meanErr <= meanBias + 0.012, report);
            Assert.True(Math.Abs(along - alongBias) <= 0.012 / 0.559, report);
            TestContext.Current.TestOutputHelper?.WriteLine(report);
        }

        private static double Sq(double v) => v * v;
    }
}
