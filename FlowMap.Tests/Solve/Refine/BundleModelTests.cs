using System;
using FlowMap.Solve.Refine;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve.Refine
{
    /// <summary>The bundle residual's analytic Jacobian against central finite differences, and the camera model.</summary>
    public sealed class BundleModelTests
    {
        private readonly ITestOutputHelper _out;
        public BundleModelTests(ITestOutputHelper output) { _out = output; }

        private static CameraPose RandomPose(Random r, double angle, double dist)
        {
            double ax = r.NextDouble() - 0.5, ay = r.NextDouble() - 0.5, az = r.NextDouble() - 0.5;
            double n = Math.Sqrt(ax * ax + ay * ay + az * az);
            double th = angle * (0.5 + 0.5 * r.NextDouble());
            var delta = new[] { dist * (r.NextDouble() - 0.5), dist * (r.NextDouble() - 0.5), dist * (r.NextDouble() - 0.5), th * ax / n, th * ay / n, th * az / n };
            return BundleModel.Retract(CameraPose.Identity, delta);
        }

        private static double Eval(CameraPose pi, CameraPose pj, double f, double k1, double rho, double u, double v, double tu, double tv, int row)
        {
            Span<double> R = stackalloc double[9]; Span<double> t = stackalloc double[3];
            BundleModel.Relative(pi, pj, R, t);
            Assert.True(BundleModel.Residual(R, t, 63.5, 47.5, f, k1, u, v, rho, tu, tv, out double rx, out double ry, Span<double>.Empty));
            return row == 0 ? rx : ry;
        }

        [Fact]
        public void Jacobian_matches_central_differences()
        {
            var rng = Rng.Fresh(out int seed);
            const double h = 1e-6;
            Span<double> R = stackalloc double[9]; Span<double> t = stackalloc double[3];
            for (int trial = 0; trial < 200; trial++)
            {
                var pi = RandomPose(rng, 0.3, 2); var pj = pi.Compose(RandomPose(rng, 0.2, 0.6));
                double f = 90 + 40 * rng.NextDouble(), k1 = -0.25 + 0.35 * rng.NextDouble();
                double u = 5 + 118 * rng.NextDouble(), v = 5 + 86 * rng.NextDouble();
                double rho = 0.2 + 0.6 * rng.NextDouble();
                double tu = 64 + 20 * (rng.NextDouble() - 0.5), tv = 48 + 20 * (rng.NextDouble() - 0.5);
                BundleModel.Relative(pi, pj, R, t);
                var jac = new double[2 * BundleModel.Cols];
                if (!BundleModel.Residual(R, t, 63.5, 47.5, f, k1, u, v, rho, tu, tv, out _, out _, jac)) continue;
                for (int col = 0; col < BundleModel.Cols; col++)
                {
                    for (int row = 0; row < 2; row++)
                    {
                        double plus, minus;
                        if (col < 12)
                        {
                            var d = new double[6]; d[col % 6] = h;
                            var dm = new double[6]; dm[col % 6] = -h;
                            plus = col < 6 ? Eval(BundleModel.Retract(pi, d), pj, f, k1, rho, u, v, tu, tv, row) : Eval(pi, BundleModel.Retract(pj, d), f, k1, rho, u, v, tu, tv, row);
                            minus = col < 6 ? Eval(BundleModel.Retract(pi, dm), pj, f, k1, rho, u, v, tu, tv, row) : Eval(pi, BundleModel.Retract(pj, dm), f, k1, rho, u, v, tu, tv, row);
                        }
                        else if (col == BundleModel.ColRho) { plus = Eval(pi, pj, f, k1, rho + h, u, v, tu, tv, row); minus = Eval(pi, pj, f, k1, rho - h, u, v, tu, tv, row); }
                        else if (col == BundleModel.ColLogF) { plus = Eval(pi, pj, f * Math.Exp(h), k1, rho, u, v, tu, tv, row); minus = Eval(pi, pj, f * Math.Exp(-h), k1, rho, u, v, tu, tv, row); }
                        else { plus = Eval(pi, pj, f, k1 + h, rho, u, v, tu, tv, row); minus = Eval(pi, pj, f, k1 - h, rho, u, v, tu, tv, row); }
                        double fd = (plus - minus) / (2 * h);
                        double an = jac[row * BundleModel.Cols + col];
                        // Central differences: truncation h^2/6 |r'''| (derivatives of a pixel-scale function of O(1)
                        // variables are O(f) = O(100), so ~1e-10) plus rounding eps |r| / h ~ 1e-16 * 100 / 1e-6 = 1e-8.
                        // 1e-5 (1 + |J|) leaves three orders of margin and is far below any sign or factor error.
                        Assert.True(Math.Abs(fd - an) <= 1e-5 * (1 + Math.Abs(an)),
                            $"seed {seed} trial {trial}: d r{row} / d col {col}: analytic {an}, central difference {fd}");
                    }
                }
            }
        }

        [Fact]
        public void Undistortion_inverts_the_radial_model()
        {
            var rng = Rng.Fresh(out int seed);
            for (int i = 0; i < 500; i++)
            {
                double k1 = -0.3 + 0.5 * rng.NextDouble();
                double xn = 0.9 * (rng.NextDouble() - 0.5), yn = 0.7 * (rng.NextDouble() - 0.5);
                double r2 = xn * xn + yn * yn;
                if (!(1 + 3 * k1 * r2 > 0)) continue;
                double f = 100, u = f * xn * (1 + k1 * r2) + 63.5, v = f * yn * (1 + k1 * r2) + 47.5;
                Assert.True(BundleModel.Undistort(u, v, 63.5, 47.5, f, k1, out double x, out double y, out _, out _, out _, out _), $"seed {seed}");
                // Newton converges to machine precision in the monotonic range: 1e-12 is ~1e4 ulps of O(1) coordinates.
                Assert.True(Math.Abs(x - xn) < 1e-12 && Math.Abs(y - yn) < 1e-12, $"seed {seed}: ({x}, {y}) vs ({xn}, {yn}), k1 {k1}");
            }
        }

        [Fact]
        public void Retraction_is_a_right_multiplication()
        {
            var rng = Rng.Fresh(out int seed);
            var p = RandomPose(rng, 1.0, 3);
            var d = new[] { 0.1, -0.2, 0.3, 0.05, 0.02, -0.04 };
            var q = BundleModel.Retract(p, d);
            var delta = BundleModel.Retract(CameraPose.Identity, d);
            var expect = p.Compose(delta);
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 3; j++) Assert.Equal(expect.R(i, j), q.R(i, j), 12);
                Assert.Equal(expect.T(i), q.T(i), 12);
            }
            _out.WriteLine($"seed {seed}");
        }
    }
}
