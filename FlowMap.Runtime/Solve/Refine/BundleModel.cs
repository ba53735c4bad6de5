using System;

namespace FlowMap.Solve.Refine
{
    /// <summary>
    /// The residual of one edge and coarse pixel and its Jacobian, double precision (the CPU reference of
    /// FlowMap.Shaders/refine/ba_linearize.comp).
    ///
    /// Camera: COLMAP SIMPLE_RADIAL, one focal f, principal point c = ((W-1)/2, (H-1)/2), distortion of normalised
    /// coordinates x_d = x_n (1 + k1 |x_n|^2), pixel u = f x_d + c.
    /// Steps for pixel u of keyframe I with inverse depth rho, edge I -> J, observed target t = u + flow_IJ(u):
    ///  1. Undistort: x_d = (u - c) / f; solve r (1 + k1 r^2) = |x_d| for r by Newton (start r = |x_d|), x_n = x_d / (1 + k1 r^2);
    ///     derivatives w.r.t. log f and k1 by the implicit function theorem (dr/d|x_d| = 1 / (1 + 3 k1 r^2), dr/dk1 = -r^3 / (1 + 3 k1 r^2)).
    ///     Invalid when 1 + 3 k1 r^2 &lt;= 0 (outside the monotonic range of the radial polynomial).
    ///  2. Homogeneous transfer (DROID-SLAM's inverse-depth form, Teed and Deng 2021): with G_JI = T_J^-1 T_I = (R, t),
    ///     q = R (x_n, y_n, 1) + rho t = rho X_J, so q is linear in rho and finite at rho = 0. Invalid when q_z &lt;= 0 (behind J).
    ///  3. Project: x = q_xy / q_z, distort, u_J = f x (1 + k1 |x|^2) + c (invalid outside the monotonic range as in 1).
    ///  4. Residual r = u_J - t (2 pixels).
    /// Pose increments are right multiplications of the camera-to-world poses, T &lt;- T Exp(delta), delta = (v, w): translation
    /// then rotation, expressed in the camera's own frame (retraction R &lt;- R Exp(w), t &lt;- t + R v). Then
    ///   dq/dv_I = rho R, dq/dw_I = -R [x_n]x, dq/dv_J = -rho I, dq/dw_J = [q]x, dq/drho = t.
    /// Jacobian columns (2 x 15): 0-5 pose I (v, w), 6-11 pose J (v, w), 12 rho, 13 log f, 14 k1.
    /// </summary>
    internal static class BundleModel
    {
        public const int Cols = 15;
        public const int ColRho = 12, ColLogF = 13, ColK1 = 14;

        /// <summary>Step 1: normalised undistorted ray (xn, yn) of pixel (u, v) and its derivatives w.r.t. log f and k1.</summary>
        public static bool Undistort(double u, double v, double cx, double cy, double f, double k1,
            out double xn, out double yn, out double dxF, out double dyF, out double dxK, out double dyK)
        {
            double xd = (u - cx) / f, yd = (v - cy) / f;
            double rd = Math.Sqrt(xd * xd + yd * yd);
            double r = rd;
            for (int it = 0; it < 20; it++)
            {
                double g = r + k1 * r * r * r - rd, gp = 1 + 3 * k1 * r * r;
                if (!(gp > 0)) break;
                double step = g / gp;
                r -= step;
                if (Math.Abs(step) <= 1e-15 * (1 + r)) break;
            }
            double gpr = 1 + 3 * k1 * r * r;
            xn = yn = dxF = dyF = dxK = dyK = 0;
            if (!(gpr > 0) || !(r >= 0) || Math.Abs(r + k1 * r * r * r - rd) > 1e-9 * (1 + rd)) return false;
            double m = 1 / (1 + k1 * r * r);
            double drdRd = 1 / gpr, drdK = -r * r * r / gpr;
            double dmdRd = -m * m * 2 * k1 * r * drdRd;
            double dmdK = -m * m * (r * r + 2 * k1 * r * drdK);
            xn = xd * m; yn = yd * m;
            // dx_d/dlog f = -x_d, d|x_d|/dlog f = -|x_d|.
            double s = -(m + rd * dmdRd);
            dxF = xd * s; dyF = yd * s;
            dxK = xd * dmdK; dyK = yd * dmdK;
            return true;
        }

        /// <summary>
        /// Steps 2-4 for one observation. <paramref name="jac"/> (2 x 15, row-major) is filled when not empty.
        /// R, t: G_JI = T_J^-1 T_I (R row-major).
        /// </summary>
        public static bool Residual(ReadOnlySpan<double> R, ReadOnlySpan<double> t, double cx, double cy, double f, double k1,
            double u, double v, double rho, double tu, double tv, out double rx, out double ry, Span<double> jac) =>
            Transfer(R, t, cx, cy, f, k1, Ray.Of(u, v, cx, cy, f, k1), rho, tu, tv, out rx, out ry, jac);

        /// <summary>Step 1's result for one pixel: its undistorted normalised ray and the ray's derivatives w.r.t. log f and k1
        /// (<see cref="Undistort"/>); <see cref="Valid"/> false outside the radial model's range.</summary>
        public readonly struct Ray
        {
            public readonly double Xn, Yn, DxF, DyF, DxK, DyK;
            public readonly bool Valid;
            private Ray(double xn, double yn, double dxF, double dyF, double dxK, double dyK, bool valid)
            { Xn = xn; Yn = yn; DxF = dxF; DyF = dyF; DxK = dxK; DyK = dyK; Valid = valid; }

            public static Ray Of(double u, double v, double cx, double cy, double f, double k1)
            {
                bool ok = Undistort(u, v, cx, cy, f, k1, out double xn, out double yn, out double dxF, out double dyF, out double dxK, out double dyK);
                return new Ray(xn, yn, dxF, dyF, dxK, dyK, ok);
            }
        }

        /// <summary>
        /// Steps 2-4 from the pixel's <paramref name="ray"/> (step 1). The ray depends on the pixel, f and k1 only, so a
        /// linearisation undistorts each coarse cell once for all edges and keyframes (<see cref="BundleLinearization.Compute"/>).
        /// </summary>
        public static bool Transfer(ReadOnlySpan<double> R, ReadOnlySpan<double> t, double cx, double cy, double f, double k1,
            in Ray ray, double rho, double tu, double tv, out double rx, out double ry, Span<double> jac)
        {
            rx = ry = 0;
            if (!ray.Valid) return false;
            double xn = ray.Xn, yn = ray.Yn, dxF = ray.DxF, dyF = ray.DyF, dxK = ray.DxK, dyK = ray.DyK;
            double qx = R[0] * xn + R[1] * yn + R[2] + rho * t[0];
            double qy = R[3] * xn + R[4] * yn + R[5] + rho * t[1];
            double qz = R[6] * xn + R[7] * yn + R[8] + rho * t[2];
            if (!(qz > 1e-12)) return false;
            double iz = 1 / qz;
            double x = qx * iz, y = qy * iz;
            double r2 = x * x + y * y;
            if (!(1 + 3 * k1 * r2 > 0)) return false;
            double d = 1 + k1 * r2;
            rx = f * x * d + cx - tu;
            ry = f * y * d + cy - tv;
            if (jac.IsEmpty) return true;

            // du/dx (2x2), then A = du/dq (2x3).
            double a00 = f * (d + 2 * k1 * x * x), a01 = f * 2 * k1 * x * y, a11 = f * (d + 2 * k1 * y * y);
            double A00 = a00 * iz, A01 = a01 * iz, A02 = -(a00 * x + a01 * y) * iz;
            double A10 = a01 * iz, A11 = a11 * iz, A12 = -(a01 * x + a11 * y) * iz;
            // B = A R.
            double B00 = A00 * R[0] + A01 * R[3] + A02 * R[6], B01 = A00 * R[1] + A01 * R[4] + A02 * R[7], B02 = A00 * R[2] + A01 * R[5] + A02 * R[8];
            double B10 = A10 * R[0] + A11 * R[3] + A12 * R[6], B11 = A10 * R[1] + A11 * R[4] + A12 * R[7], B12 = A10 * R[2] + A11 * R[5] + A12 * R[8];
            var j0 = jac.Slice(0, Cols); var j1 = jac.Slice(Cols, Cols);
            // Pose I: v -> rho B; w -> -B [p]x with p = (xn, yn, 1): row b of B gives b . (w x p) = w . (p x b).
            j0[0] = rho * B00; j0[1] = rho * B01; j0[2] = rho * B02;
            j1[0] = rho * B10; j1[1] = rho * B11; j1[2] = rho * B12;
            Cross(xn, yn, 1, B00, B01, B02, out j0[3], out j0[4], out j0[5]);
            Cross(xn, yn, 1, B10, B11, B12, out j1[3], out j1[4], out j1[5]);
            // Pose J: v -> -rho A; w -> A [q]x, row a gives a . (q x w) = w . (a x q).
            j0[6] = -rho * A00; j0[7] = -rho * A01; j0[8] = -rho * A02;
            j1[6] = -rho * A10; j1[7] = -rho * A11; j1[8] = -rho * A12;
            Cross(A00, A01, A02, qx, qy, qz, out j0[9], out j0[10], out j0[11]);
            Cross(A10, A11, A12, qx, qy, qz, out j1[9], out j1[10], out j1[11]);
            // Inverse depth.
            j0[ColRho] = A00 * t[0] + A01 * t[1] + A02 * t[2];
            j1[ColRho] = A10 * t[0] + A11 * t[1] + A12 * t[2];
            // Intrinsics: through the ray of I (B's first two columns) plus the direct dependence of the projection in J.
            j0[ColLogF] = B00 * dxF + B01 * dyF + f * x * d;
            j1[ColLogF] = B10 * dxF + B11 * dyF + f * y * d;
            j0[ColK1] = B00 * dxK + B01 * dyK + f * x * r2;
            j1[ColK1] = B10 * dxK + B11 * dyK + f * y * r2;
            return true;
        }

        private static void Cross(double ax, double ay, double az, double bx, double by, double bz, out double cx, out double cy, out double cz)
        {
            cx = ay * bz - az * by; cy = az * bx - ax * bz; cz = ax * by - ay * bx;
        }

        /// <summary>Robust weight and cost of a residual norm n for scale c (IRLS: the weight makes w n^2 / 2 the local quadratic model).</summary>
        public static void Robust(BundleRobust kind, double c, double n2, out double weight, out double cost)
        {
            if (kind == BundleRobust.Cauchy)
            {
                double s = n2 / (c * c);
                weight = 1 / (1 + s);
                cost = 0.5 * c * c * Math.Log(1 + s);
                return;
            }
            double n = Math.Sqrt(n2);
            if (n <= c) { weight = 1; cost = 0.5 * n2; }
            else { weight = c / n; cost = c * (n - 0.5 * c); }
        }

        /// <summary>G_JI = T_J^-1 T_I of camera-to-world poses: R = R_J^T R_I, t = R_J^T (t_I - t_J).</summary>
        public static void Relative(CameraPose ti, CameraPose tj, Span<double> R, Span<double> t)
        {
            for (int a = 0; a < 3; a++)
            {
                for (int b = 0; b < 3; b++)
                    R[3 * a + b] = tj.R(0, a) * ti.R(0, b) + tj.R(1, a) * ti.R(1, b) + tj.R(2, a) * ti.R(2, b);
                t[a] = tj.R(0, a) * (ti.T(0) - tj.T(0)) + tj.R(1, a) * (ti.T(1) - tj.T(1)) + tj.R(2, a) * (ti.T(2) - tj.T(2));
            }
        }

        /// <summary>The retraction T Exp(delta) of a camera-to-world pose: R &lt;- R Exp(w) (Rodrigues), t &lt;- t + R v.</summary>
        public static CameraPose Retract(CameraPose p, ReadOnlySpan<double> delta)
        {
            double wx = delta[3], wy = delta[4], wz = delta[5];
            double th = Math.Sqrt(wx * wx + wy * wy + wz * wz);
            double a = th < 1e-8 ? 1 - th * th / 6 : Math.Sin(th) / th;
            double b = th < 1e-8 ? 0.5 - th * th / 24 : (1 - Math.Cos(th)) / (th * th);
            var E = new double[]
            {
                1 - b * (wy * wy + wz * wz), -a * wz + b * wx * wy, a * wy + b * wx * wz,
                a * wz + b * wx * wy, 1 - b * (wx * wx + wz * wz), -a * wx + b * wy * wz,
                -a * wy + b * wx * wz, a * wx + b * wy * wz, 1 - b * (wx * wx + wy * wy),
            };
            var r = new double[9];
            var tt = new double[3];
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 3; j++) r[3 * i + j] = p.R(i, 0) * E[j] + p.R(i, 1) * E[3 + j] + p.R(i, 2) * E[6 + j];
                tt[i] = p.T(i) + p.R(i, 0) * delta[0] + p.R(i, 1) * delta[1] + p.R(i, 2) * delta[2];
            }
            return new CameraPose(r, tt);
        }
    }
}
