using System;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Core
{
    /// <summary>The camera model: pinhole plus one radial coefficient (SIMPLE_RADIAL), its inverse and its Jacobian.</summary>
    public sealed class IntrinsicsTests
    {
        private static Intrinsics Camera(double k1) => Intrinsics.Centered(320, 240, 256) with { K1 = k1 };

        /// <summary>
        /// K1 = 0 is today's pinhole bit for bit: Project and Unproject give exactly the values of the pinhole formulas,
        /// and a camera built without K1 equals one with K1 = 0 (record equality, hash).
        /// </summary>
        [Fact]
        public void Zero_k1_is_the_pinhole_bit_for_bit()
        {
            var r = Rng.Fresh(out int seed);
            var k = new Intrinsics(97, 71, 83.25, 81.5, 47.75, 35.1);
            Assert.Equal(k, k with { K1 = 0 });
            Assert.Equal(k.GetHashCode(), (k with { K1 = 0 }).GetHashCode());
            Assert.NotEqual(k, k with { K1 = -0.1 });
            for (int i = 0; i < 1000; i++)
            {
                double x = r.NextDouble() * 4 - 2, y = r.NextDouble() * 4 - 2, z = r.NextDouble() * 10 + 0.01;
                Assert.True(k.Project(x, y, z, out double u, out double v));
                Assert.True(u == k.Fx * x / z + k.Cx && v == k.Fy * y / z + k.Cy, $"seed {seed}: projection differs from the pinhole");
                var (ux, uy, uz) = k.Unproject(u, v, z);
                Assert.True(ux == (u - k.Cx) / k.Fx * z && uy == (v - k.Cy) / k.Fy * z && uz == z, $"seed {seed}: back-projection differs from the pinhole");
                Assert.Equal((x, y), k.Distort(x, y));
                Assert.True(k.TryUndistort(x, y, out double xu, out double yu) && xu == x && yu == y);
            }
        }

        /// <summary>Resizing keeps K1 (it acts on focal-normalised coordinates) and maps a pixel's ray to the same ray.</summary>
        [Fact]
        public void Resized_keeps_k1_and_the_rays()
        {
            var k = Camera(-0.2);
            var s = k.Resized(160, 120);
            Assert.Equal(-0.2, s.K1);
            // Pixel (u, v) at 320x240 is (u + 0.5) / 2 - 0.5 at 160x120 (pixel-centre convention).
            var a = k.Unproject(300.25, 11.5, 2);
            var b = s.Unproject((300.25 + 0.5) / 2 - 0.5, (11.5 + 0.5) / 2 - 0.5, 2);
            Assert.True(Math.Abs(a.X - b.X) <= 1e-12 && Math.Abs(a.Y - b.Y) <= 1e-12, $"ray ({a.X}, {a.Y}) vs ({b.X}, {b.Y})");
        }

        /// <summary>
        /// Undistort inverts Distort for barrel and pincushion coefficients over the domain. Tolerance 1e-12 (relative to
        /// 1 + r): Newton stops when its step is below 1e-16 r, and the residual r (1 + k1 r^2) - rd is evaluated to a few
        /// ulps (about 1e-15), giving an error of ulps / g'(r); here r &lt;= 0.95 MaxUndistortedRadius, so g' = 1 + 3 k1 r^2
        /// &gt;= 1 - 0.95^2 &gt; 0.09 and the error stays below 1e-13. Pixel round trips through Project / Unproject: 1e-9 px.
        /// </summary>
        [Theory]
        [InlineData(-0.2)]
        [InlineData(-0.05)]
        [InlineData(0.1)]
        [InlineData(0.4)]
        public void Undistort_inverts_distort(double k1)
        {
            var r = Rng.Fresh(out int seed);
            var k = Camera(k1);
            double rmax = Math.Min(0.95 * k.MaxUndistortedRadius, 2);
            for (int i = 0; i < 2000; i++)
            {
                double rad = rmax * Math.Sqrt(r.NextDouble()), phi = r.NextDouble() * 2 * Math.PI;
                double x = rad * Math.Cos(phi), y = rad * Math.Sin(phi);
                var (xd, yd) = k.Distort(x, y);
                Assert.True(k.TryUndistort(xd, yd, out double xu, out double yu), $"seed {seed}: ({xd}, {yd}) not invertible");
                Assert.True(Math.Abs(xu - x) <= 1e-12 * (1 + rad) && Math.Abs(yu - y) <= 1e-12 * (1 + rad),
                    $"seed {seed}: ({x}, {y}) -> ({xd}, {yd}) -> ({xu}, {yu})");
                double z = 0.5 + 5 * r.NextDouble();
                Assert.True(k.Project(x * z, y * z, z, out double u, out double v));
                // Absolute tolerance (Assert.Equal with a number of decimal places rounds both sides and can split a
                // 1e-14 difference across a rounding boundary).
                Assert.True(Math.Abs(k.Fx * xd + k.Cx - u) <= 1e-9 && Math.Abs(k.Fy * yd + k.Cy - v) <= 1e-9, $"seed {seed}: projection of ({x}, {y})");
                var (bx, by, bz) = k.Unproject(u, v, z);
                Assert.True(k.Project(bx, by, bz, out double u2, out double v2));
                Assert.True(Math.Abs(u2 - u) <= 1e-9 && Math.Abs(v2 - v) <= 1e-9, $"seed {seed}: pixel ({u}, {v}) returns to ({u2}, {v2})");
            }
        }

        /// <summary>
        /// The Jacobian of Distort (point and k1) matches central differences with step 1e-6: truncation h^2 |f'''| / 6 with
        /// |f'''| &lt;= 6 |k1| is below 1e-12, rounding about 1e-16 / 1e-6 = 1e-10; tolerance 1e-8.
        /// </summary>
        [Theory]
        [InlineData(-0.2)]
        [InlineData(0.1)]
        public void Distort_jacobian_matches_finite_differences(double k1)
        {
            var r = Rng.Fresh(out int seed);
            var k = Camera(k1);
            const double h = 1e-6;
            for (int i = 0; i < 200; i++)
            {
                double x = r.NextDouble() * 1.2 - 0.6, y = r.NextDouble() * 1.2 - 0.6;
                var j = k.DistortJacobian(x, y);
                var (xp, yp) = k.Distort(x + h, y); var (xm, ym) = k.Distort(x - h, y);
                Assert.True(Math.Abs((xp - xm) / (2 * h) - j.Dxx) <= 1e-8 && Math.Abs((yp - ym) / (2 * h) - j.Dyx) <= 1e-8, $"seed {seed}: d/dx at ({x}, {y})");
                (xp, yp) = k.Distort(x, y + h); (xm, ym) = k.Distort(x, y - h);
                Assert.True(Math.Abs((xp - xm) / (2 * h) - j.Dxy) <= 1e-8 && Math.Abs((yp - ym) / (2 * h) - j.Dyy) <= 1e-8, $"seed {seed}: d/dy at ({x}, {y})");
                (xp, yp) = (k with { K1 = k1 + h }).Distort(x, y); (xm, ym) = (k with { K1 = k1 - h }).Distort(x, y);
                Assert.True(Math.Abs((xp - xm) / (2 * h) - j.DxK1) <= 1e-8 && Math.Abs((yp - ym) / (2 * h) - j.DyK1) <= 1e-8, $"seed {seed}: d/dk1 at ({x}, {y})");
            }
        }

        /// <summary>
        /// With k1 &lt; 0 the polynomial folds over: points beyond MaxUndistortedRadius do not project, distorted radii
        /// beyond MaxDistortedRadius = (2/3) MaxUndistortedRadius (the maximum of r (1 + k1 r^2)) do not undistort, and
        /// the image-wide check names the k1 a field of view allows.
        /// </summary>
        [Fact]
        public void Barrel_distortion_has_a_checked_domain()
        {
            var k = Camera(-0.2);
            double rm = 1 / Math.Sqrt(0.6);
            Assert.Equal(rm, k.MaxUndistortedRadius, 12);
            Assert.Equal(rm * (1 - 0.2 * rm * rm), k.MaxDistortedRadius, 12);
            Assert.False(k.Project(1.001 * rm, 0, 1, out double u, out _));
            Assert.True(double.IsNaN(u));
            Assert.True(k.Project(0.999 * rm, 0, 1, out _, out _));
            Assert.False(k.TryUndistort(0, 1.0001 * k.MaxDistortedRadius, out double x, out _));
            Assert.True(double.IsNaN(x));
            Assert.True(double.IsNaN(k.Unproject(k.Cx + 1.01 * k.MaxDistortedRadius * k.Fx, k.Cy, 1).X));
            Assert.True(k.TryUndistort(0, 0.9999 * k.MaxDistortedRadius, out _, out double y));
            Assert.InRange(y, 0.9 * rm, rm);
            Assert.True(Camera(0.5).TryUndistort(30, 40, out _, out _));
            Assert.Equal(double.PositiveInfinity, Camera(0.1).MaxDistortedRadius);

            // 320x240 at f 256: the corners of the image area are 160 and 120 px from the centre, normalised radius c = 200 / 256, so k1 > -4 / (27 c^2) = -0.2427.
            Assert.Null(Camera(-0.2).DistortionDomainError());
            Assert.Null(Camera(0.3).DistortionDomainError());
            Assert.Contains("folds over", Camera(-0.25).DistortionDomainError());
            Assert.Throws<ArgumentException>(() => Camera(double.NaN));
        }
    }
}
