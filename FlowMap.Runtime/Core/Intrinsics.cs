using System;

namespace FlowMap.Core
{
    /// <summary>
    /// Camera intrinsics in pixels for an image of <see cref="Width"/> x <see cref="Height"/>: a pinhole with one radial
    /// distortion coefficient <see cref="K1"/> (COLMAP's SIMPLE_RADIAL when Fx = Fy; 0 = pinhole). The principal point
    /// uses the pixel-centre convention: pixel (0, 0)'s centre is at (0, 0), so the image centre is ((W-1)/2, (H-1)/2).
    /// Projection of a camera-space point (X, Y, Z), Z forward:
    /// 1. normalised (undistorted) coordinates x = X / Z, y = Y / Z;
    /// 2. distorted x_d = x (1 + K1 r^2), y_d = y (1 + K1 r^2), r^2 = x^2 + y^2 (Brown's radial model, first term;
    ///    COLMAP src/colmap/sensor/models.h, SimpleRadialCameraModel);
    /// 3. pixels u = Fx x_d + Cx, v = Fy y_d + Cy.
    /// K1 acts on coordinates normalised by the focal, so it does not change with the resolution (<see cref="Resized"/>).
    /// </summary>
    public sealed record Intrinsics(int Width, int Height, double Fx, double Fy, double Cx, double Cy)
    {
        private readonly double _k1;

        /// <summary>
        /// Radial distortion coefficient on normalised coordinates (dimensionless; negative = barrel, positive =
        /// pincushion; 0 = pinhole, the default). Must be finite.
        /// </summary>
        public double K1
        {
            get => _k1;
            init => _k1 = double.IsNaN(value) || double.IsInfinity(value)
                ? throw new ArgumentException($"Radial distortion k1 must be a finite number, got {value}.", nameof(K1))
                : value;
        }

        /// <summary>One focal, principal point at the image centre, no distortion.</summary>
        public static Intrinsics Centered(int width, int height, double focal) =>
            new Intrinsics(width, height, focal, focal, (width - 1) / 2.0, (height - 1) / 2.0);

        /// <summary>The same camera seen at another resolution (pixel-centre convention: c' = (c + 0.5) s - 0.5; K1 unchanged).</summary>
        public Intrinsics Resized(int width, int height)
        {
            double sx = (double)width / Width, sy = (double)height / Height;
            return new Intrinsics(width, height, Fx * sx, Fy * sy, (Cx + 0.5) * sx - 0.5, (Cy + 0.5) * sy - 0.5) { K1 = K1 };
        }

        /// <summary>
        /// Largest undistorted normalised radius r of the model's domain: beyond it (K1 &lt; 0 only, r^2 &gt;= 1 / (-3 K1))
        /// the distorted radius r (1 + K1 r^2) falls again and the projection folds over. +Infinity when K1 &gt;= 0.
        /// </summary>
        public double MaxUndistortedRadius => _k1 < 0 ? 1 / Math.Sqrt(-3 * _k1) : double.PositiveInfinity;

        /// <summary>
        /// Largest distorted normalised radius that has an undistorted preimage: (2/3) <see cref="MaxUndistortedRadius"/>
        /// when K1 &lt; 0 (the maximum of r (1 + K1 r^2)), +Infinity when K1 &gt;= 0.
        /// </summary>
        public double MaxDistortedRadius => _k1 < 0 ? 2.0 / 3.0 / Math.Sqrt(-3 * _k1) : double.PositiveInfinity;

        /// <summary>
        /// Distorts a normalised point: (x, y) (1 + K1 (x^2 + y^2)). Exact identity when K1 = 0. Meaningful inside
        /// <see cref="MaxUndistortedRadius"/>.
        /// </summary>
        public (double X, double Y) Distort(double x, double y)
        {
            if (_k1 == 0) return (x, y);
            double s = 1 + _k1 * (x * x + y * y);
            return (x * s, y * s);
        }

        /// <summary>
        /// Undistorts a normalised point: the (x, y) inside <see cref="MaxUndistortedRadius"/> with
        /// <see cref="Distort"/>(x, y) = (xd, yd). Returns false (x = y = NaN) when the distorted radius is beyond
        /// <see cref="MaxDistortedRadius"/>, where the polynomial has no preimage, or the input is not finite.
        /// Exact identity when K1 = 0.
        /// </summary>
        public bool TryUndistort(double xd, double yd, out double x, out double y)
        {
            if (_k1 == 0) { x = xd; y = yd; return true; }
            double rd = Math.Sqrt(xd * xd + yd * yd);
            if (!(rd <= MaxDistortedRadius) || double.IsInfinity(rd)) { x = y = double.NaN; return false; }
            if (rd == 0) { x = xd; y = yd; return true; }
            // Newton on g(r) = r + K1 r^3 - rd from r = rd. g is increasing on [0, MaxUndistortedRadius]; for K1 > 0 it is
            // convex and g(rd) > 0, for K1 < 0 concave and g(rd) < 0: either way the iterates move monotonically towards
            // the root and never overshoot it (the tangent lies on the far side of the curve), so they stay in the domain.
            double r = rd;
            for (int it = 0; it < 100; it++)
            {
                double g = r * (1 + _k1 * r * r) - rd;
                double dg = 1 + 3 * _k1 * r * r;
                if (!(dg > 0)) break;
                double step = g / dg;
                r -= step;
                if (!(Math.Abs(step) > 1e-16 * r)) break;
            }
            double scale = r / rd;
            x = xd * scale; y = yd * scale;
            return true;
        }

        /// <summary><see cref="TryUndistort"/> returning (NaN, NaN) outside the domain.</summary>
        public (double X, double Y) Undistort(double xd, double yd)
        {
            TryUndistort(xd, yd, out double x, out double y);
            return (x, y);
        }

        /// <summary>
        /// Projects a camera-space point; returns false (u = v = NaN) when it is behind the camera (Z &lt;= 0) or, with
        /// K1 &lt; 0, beyond <see cref="MaxUndistortedRadius"/> where the distortion folds over.
        /// </summary>
        public bool Project(double x, double y, double z, out double u, out double v)
        {
            if (z <= 0) { u = v = double.NaN; return false; }
            if (_k1 == 0)
            {
                u = Fx * x / z + Cx;
                v = Fy * y / z + Cy;
                return true;
            }
            double xn = x / z, yn = y / z, r2 = xn * xn + yn * yn;
            if (_k1 < 0 && !(-3 * _k1 * r2 < 1)) { u = v = double.NaN; return false; }
            double s = 1 + _k1 * r2;
            u = Fx * xn * s + Cx;
            v = Fy * yn * s + Cy;
            return true;
        }

        /// <summary>
        /// Back-projects pixel (u, v) at z-depth <paramref name="depth"/> to camera space (the undistorted ray scaled to
        /// Z = depth). (NaN, NaN, depth) when the pixel is outside the distortion's domain (see <see cref="TryUndistort"/>).
        /// </summary>
        public (double X, double Y, double Z) Unproject(double u, double v, double depth)
        {
            if (_k1 == 0) return ((u - Cx) / Fx * depth, (v - Cy) / Fy * depth, depth);
            TryUndistort((u - Cx) / Fx, (v - Cy) / Fy, out double x, out double y);
            return (x * depth, y * depth, depth);
        }

        /// <summary>
        /// Jacobian of <see cref="Distort"/> at (x, y): d(x_d, y_d)/d(x, y) row-major and d(x_d, y_d)/dK1.
        /// x_d = x s, s = 1 + K1 r^2: dx_d/dx = s + 2 K1 x^2, dx_d/dy = 2 K1 x y, dy_d/dy = s + 2 K1 y^2, dx_d/dK1 = x r^2.
        /// </summary>
        internal (double Dxx, double Dxy, double Dyx, double Dyy, double DxK1, double DyK1) DistortJacobian(double x, double y)
        {
            double r2 = x * x + y * y, s = 1 + _k1 * r2, c = 2 * _k1 * x * y;
            return (s + 2 * _k1 * x * x, c, c, s + 2 * _k1 * y * y, x * r2, y * r2);
        }

        /// <summary>
        /// Null when every point of the image area [-0.5, W-0.5] x [-0.5, H-0.5] can be undistorted (always when
        /// K1 &gt;= 0); otherwise a sentence saying why not (K1 too negative for this field of view).
        /// </summary>
        internal string? DistortionDomainError()
        {
            if (_k1 >= 0) return null;
            double ax = Math.Max(Math.Abs(-0.5 - Cx), Math.Abs(Width - 0.5 - Cx)) / Fx;
            double ay = Math.Max(Math.Abs(-0.5 - Cy), Math.Abs(Height - 0.5 - Cy)) / Fy;
            double corner = Math.Sqrt(ax * ax + ay * ay);
            if (corner < MaxDistortedRadius) return null;
            return $"Radial distortion k1 = {_k1} folds over inside the {Width}x{Height} image: the corners are at normalised radius " +
                   $"{corner:0.###}, but r (1 + k1 r^2) reaches at most {MaxDistortedRadius:0.###} (k1 must be above {-4.0 / (27 * corner * corner):0.####} for this focal).";
        }
    }
}
