using System;
using System.Linq;
using FlowMap.Solve.Refine;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve.Refine
{
    /// <summary>
    /// The bundle adjuster's estimate of the flow's noise (<see cref="BundleAdjuster.NoiseSigma"/>) and the fit at the scale
    /// it gives (<see cref="BundleOptions.ScaleFromResiduals"/>), on observations synthesised at the true geometry of a
    /// rendered walk: each target is the true projection plus Gaussian noise of a known sigma per axis, and outliers where
    /// a test asks for them.
    /// </summary>
    public sealed class BundleNoiseScaleTests : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public BundleNoiseScaleTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        internal static BundleScene Walk(FlowMap.Gpu.GpuContext ctx)
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = "walk", Frames = 16, Width = 160, Height = 120, Seed = 1, Samples = 1 }, ctx, ownsContext: false);
            return BundleScene.Create(seq, keyframes: 6, step: 3, stride: 4);
        }

        /// <summary>
        /// Every observation's target set to its projection at <paramref name="s"/> plus <paramref name="error"/>(edge, cell,
        /// projection); observations that do not project at <paramref name="s"/> are dropped (confidence 0). Returns how many remain.
        /// </summary>
        internal static int SetTargets(BundleProblem p, BundleState s, Func<int, int, double, double, (double X, double Y)> error)
        {
            int n = 0;
            Span<double> R = stackalloc double[9]; Span<double> t = stackalloc double[3];
            for (int e = 0; e < p.Edges.Count; e++)
            {
                var ed = p.Edges[e]; var obs = p.Obs[e];
                BundleModel.Relative(s.Poses[ed.I], s.Poses[ed.J], R, t);
                for (int c = 0; c < p.Cells; c++)
                {
                    if (!(obs[4 * c + 2] > 0)) continue;
                    double u = p.CellCenter(c % p.Gw), v = p.CellCenter(c / p.Gw);
                    if (!BundleModel.Residual(R, t, p.PrincipalX, p.PrincipalY, s.Focal, s.K1, u, v, s.InverseDepth[ed.I][c], 0, 0, out double px, out double py, Span<double>.Empty))
                    { obs[4 * c + 2] = 0; continue; }
                    var (dx, dy) = error(e, c, px, py);
                    obs[4 * c] = (float)(px + dx); obs[4 * c + 1] = (float)(py + dy);
                    n++;
                }
            }
            return n;
        }

        internal static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

        /// <summary>
        /// Gaussian noise alone: the estimate is sigma. The lower quartile of n Rayleigh norms has a relative standard error
        /// of sqrt(0.25 x 0.75 / n) / (q f(q)) with q f(q) = 0.7585^2 x 0.75 = 0.43: 1 % at the n = 4,000+ observations here
        /// (fewer effectively, as they are confidence-weighted), so 8 % is several standard errors for every draw.
        /// </summary>
        [Fact]
        public void The_noise_estimate_is_the_flow_noise_sigma()
        {
            var rng = Rng.Fresh(out int seed);
            var scene = Walk(Ctx);
            const double sigma = 0.2;
            int n = SetTargets(scene.Problem, scene.Truth, (e, c, x, y) => (sigma * Gaussian(rng), sigma * Gaussian(rng)));
            double est = BundleAdjuster.NoiseSigma(scene.Problem, scene.Truth);
            _out.WriteLine($"seed {seed}: {n} observations, sigma {est:F4} for {sigma}");
            Assert.True(n > 4000, $"{n} observations");
            Assert.InRange(est / sigma, 0.92, 1.08);
        }

        /// <summary>
        /// No observation to measure (every confidence 0): no estimate (NaN), and a fit asked to take its scale from the
        /// residuals keeps the scale it was given (no "scale" step in its trace) and reports a finite cost.
        /// </summary>
        [Fact]
        public void Without_observations_there_is_no_estimate_and_the_scale_stays()
        {
            var scene = Walk(Ctx);
            foreach (var obs in scene.Problem.Obs)
                for (int c = 0; c < scene.Problem.Cells; c++) obs[4 * c + 2] = 0;
            Assert.True(double.IsNaN(BundleAdjuster.NoiseSigma(scene.Problem, scene.Truth)));
            var o = new BundleOptions { Iterations = 5, Robust = BundleRobust.Cauchy, RefineK1 = false, ScaleFromResiduals = true };
            var r = BundleAdjuster.Refine(scene.Problem, scene.Truth, o, token: TestContext.Current.CancellationToken);
            Assert.DoesNotContain(r.Trace, l => l.StartsWith("scale", StringComparison.Ordinal));
            Assert.True(double.IsFinite(r.FinalCost), $"final cost {r.FinalCost}");
        }

        /// <summary>
        /// Half of the observations gross outliers (uniform in a 40 px square around the projection: one in 5,000 falls within
        /// 0.3 px of it): the lower quartile of all is the inliers' median, 1.1774 sigma, so the estimate is 1.1774 / 0.7585 =
        /// 1.55 sigma, an upper bound that grows with the outliers' share and stays an inlier statistic up to three quarters of
        /// outliers. Tolerance as above, 8 % (the inliers' median has a smaller relative standard error than the quartile).
        /// </summary>
        [Fact]
        public void With_half_the_observations_outliers_the_estimate_is_the_inliers_median()
        {
            var rng = Rng.Fresh(out int seed);
            var scene = Walk(Ctx);
            const double sigma = 0.2;
            SetTargets(scene.Problem, scene.Truth, (e, c, x, y) => ((e * 7919 + c) % 2 == 0)
                ? (sigma * Gaussian(rng), sigma * Gaussian(rng))
                : (40 * (rng.NextDouble() - 0.5), 40 * (rng.NextDouble() - 0.5)));
            double est = BundleAdjuster.NoiseSigma(scene.Problem, scene.Truth);
            _out.WriteLine($"seed {seed}: sigma {est:F4} for {sigma} (expected {1.1774 / 0.7585 * sigma:F4})");
            Assert.InRange(est / (sigma * 1.1774 / 0.7585), 0.92, 1.08);
        }

        /// <summary>
        /// The fit at the noise's scale: from the truth with sigma = 0.1 px, the scale falls from 1 px to about 2.385 x 0.1,
        /// within the bounds its estimate allows (between MinRobustPx and 2.385 x 1.08 x sigma, as the residuals after the fit
        /// are at most the noise), and the reported cost is at RobustPx (1 px), as a refinement without it would report
        /// for the same state: costs stay comparable between refinements.
        /// </summary>
        [Fact]
        public void The_fit_continues_at_the_noise_scale_and_reports_its_cost_at_the_given_scale()
        {
            var rng = Rng.Fresh(out int seed);
            var scene = Walk(Ctx);
            SetTargets(scene.Problem, scene.Truth, (e, c, x, y) => (0.1 * Gaussian(rng), 0.1 * Gaussian(rng)));
            var o = new BundleOptions { Iterations = 30, Robust = BundleRobust.Cauchy, RefineK1 = false, ScaleFromResiduals = true };
            var r = BundleAdjuster.Refine(scene.Problem, scene.Truth, o, token: TestContext.Current.CancellationToken);
            foreach (var line in r.Trace) _out.WriteLine("  " + line);
            var scales = r.Trace.Where(l => l.StartsWith("scale", StringComparison.Ordinal)).ToList();
            Assert.True(scales.Count >= 1, $"seed {seed}: the scale was never taken from the residuals");
            double last = double.Parse(scales[^1].Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(last, o.MinRobustPx, BundleAdjuster.CauchyEfficiency * 0.108);
            var at = new BundleLinearization(scene.Problem.Edges.Count, 0);
            BundleLinearization.Compute(scene.Problem, r.State, BundleRobust.Cauchy, o.RobustPx, at, false);
            Assert.Equal(at.Cost, r.FinalCost, 9);
        }
    }
}
