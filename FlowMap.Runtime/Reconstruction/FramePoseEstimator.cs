using System;
using System.Collections.Generic;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// Sparse 2D-3D correspondences of a frame against a keyframe: keyframe pixel (x, y), where the flow puts it in the
    /// frame (u, v), and a weight (flow confidence). Kept instead of the dense flow so that a frame's pose can be
    /// re-estimated when the keyframe's depth is refined, at a few kilobytes per frame.
    /// </summary>
    internal sealed class KeyframeMatches
    {
        public KeyframeMatches(float[] kx, float[] ky, float[] u, float[] v, float[] w) { Kx = kx; Ky = ky; U = u; V = v; W = w; }
        public float[] Kx { get; }
        public float[] Ky { get; }
        public float[] U { get; }
        public float[] V { get; }
        public float[] W { get; }
        public int Count => Kx.Length;

        /// <summary>Samples about <paramref name="target"/> evenly spaced keyframe pixels with their forward flow and confidence.</summary>
        public static KeyframeMatches Sample(FlowField forward, FloatImage confidence, int target = 1200)
        {
            int w = forward.Width, h = forward.Height;
            int step = Math.Max(1, (int)Math.Sqrt((double)w * h / target));
            var kx = new List<float>(); var ky = new List<float>(); var u = new List<float>(); var v = new List<float>(); var wt = new List<float>();
            for (int y = step / 2; y < h; y += step)
                for (int x = step / 2; x < w; x += step)
                {
                    float c = confidence[x, y];
                    if (!(c > 0.05f)) continue;
                    kx.Add(x); ky.Add(y); u.Add(x + forward.U(x, y)); v.Add(y + forward.V(x, y)); wt.Add(c);
                }
            return new KeyframeMatches(kx.ToArray(), ky.ToArray(), u.ToArray(), v.ToArray(), wt.ToArray());
        }
    }

    /// <summary>
    /// The pose of a frame relative to a keyframe whose depth is known: the keyframe pixels, lifted to 3D with that depth,
    /// must project to where the flow carried them. Solved by Gauss-Newton on the reprojection error (Huber, 1 px) over
    /// the 6-DoF rigid motion, from an initial guess (the previous frame's motion), as in classic PnP refinement
    /// (e.g. Hartley and Zisserman, ch. 6; the left-perturbation Jacobian of Barfoot, "State Estimation for Robotics").
    /// Keyframe pixels are lifted along their undistorted rays and points projected through the radial distortion
    /// (<see cref="Intrinsics.Unproject"/>, <see cref="Intrinsics.Project"/>; the Jacobian includes the distortion's).
    /// </summary>
    internal static class FramePoseEstimator
    {
        /// <summary>
        /// Returns the transform keyframe camera -> frame camera (p_frame = R p_key + t) and the weighted RMS reprojection
        /// error in pixels, or null when fewer than 12 usable correspondences exist.
        /// </summary>
        /// <param name="keyConfidence">The keyframe depth's confidence; with it, pixels below <paramref name="minConfidence"/> are not lifted.</param>
        public static (CameraPose KeyToFrame, double RmsPixels)? Solve(KeyframeMatches m, FloatImage keyDepth, Intrinsics k, CameraPose initialKeyToFrame, int iterations = 12,
            FloatImage? keyConfidence = null, float minConfidence = 0f) =>
            Solve(m, keyDepth, k, new[] { initialKeyToFrame }, iterations, keyConfidence, minConfidence);

        /// <summary>
        /// As <see cref="Solve(KeyframeMatches, FloatImage, Intrinsics, CameraPose, int, FloatImage?, float)"/> from each of
        /// <paramref name="starts"/> in turn: the solution of the lowest robust cost (<see cref="Cost"/>, over the same lifted
        /// points) stands, the first on a tie. Gauss-Newton on the reprojection error is a local method: from a start far
        /// off (a culled keyframe's frames start from a motion composed through it) it can settle in a wrong minimum, 0.3-0.5
        /// of the keyframe baseline away with an RMS of 2-5 px where the previous frame's pose as the start gives 0.4-0.9 px
        /// (FlowMap.Tests/Issues/CulledKeyframesFramesPosedFromTheComposedMotion.cs).
        /// </summary>
        public static (CameraPose KeyToFrame, double RmsPixels)? Solve(KeyframeMatches m, FloatImage keyDepth, Intrinsics k, IReadOnlyList<CameraPose> starts, int iterations = 12,
            FloatImage? keyConfidence = null, float minConfidence = 0f)
        {
            if (starts == null || starts.Count == 0) throw new ArgumentException("At least one start is needed.", nameof(starts));
            var lifted = Lift(m, keyDepth, k, keyConfidence, minConfidence);
            if (lifted == null) return null;
            (CameraPose KeyToFrame, double RmsPixels)? best = null;
            double bestCost = double.PositiveInfinity;
            foreach (var start in starts)
            {
                var r = Refine(lifted.Value, k, start, iterations);
                if (r == null) continue;
                if (starts.Count == 1) return r;
                double c = Cost(lifted.Value, k, r.Value.KeyToFrame);
                if (best == null || c < bestCost) { best = r; bestCost = c; }
            }
            return best;
        }

        /// <summary>Huber scale of the reprojection error (pixels).</summary>
        private const double HuberPx = 1.0;

        /// <summary>The keyframe pixels lifted to 3D with their observations and weights; null when fewer than 12 are usable.</summary>
        private static (double[] X, double[] Obs, double[] Wt, int Used)? Lift(KeyframeMatches m, FloatImage keyDepth, Intrinsics k, FloatImage? keyConfidence, float minConfidence)
        {
            int n = m.Count;
            var X = new double[3 * n]; var obs = new double[2 * n]; var wt = new double[n];
            int used = 0;
            for (int i = 0; i < n; i++)
            {
                float d = keyDepth[(int)m.Kx[i], (int)m.Ky[i]];
                if (!(d > 0) || float.IsInfinity(d)) continue;
                if (keyConfidence != null && !(keyConfidence[(int)m.Kx[i], (int)m.Ky[i]] >= minConfidence)) continue;
                var (x, y, z) = k.Unproject(m.Kx[i], m.Ky[i], d);
                if (double.IsNaN(x) || double.IsNaN(y)) continue; // outside the distortion's domain
                X[3 * used] = x; X[3 * used + 1] = y; X[3 * used + 2] = z;
                obs[2 * used] = m.U[i]; obs[2 * used + 1] = m.V[i]; wt[used] = m.W[i];
                used++;
            }
            if (used < 12) return null;
            return (X, obs, wt, used);
        }

        /// <summary>
        /// The weighted Huber cost of the lifted points at a pose, what <see cref="Refine"/> lowers; a point that does not
        /// project (behind the camera, beyond the distortion's fold) costs as a residual of the image's width, so a pose
        /// cannot look better by turning points away.
        /// </summary>
        private static double Cost((double[] X, double[] Obs, double[] Wt, int Used) l, Intrinsics k, CameraPose pose)
        {
            var R = pose.Rotation; var t = pose.Translation;
            double penalty = Huber(Math.Max(k.Width, k.Height)), cost = 0;
            for (int i = 0; i < l.Used; i++)
            {
                double px = l.X[3 * i], py = l.X[3 * i + 1], pz = l.X[3 * i + 2];
                double Xc = R[0] * px + R[1] * py + R[2] * pz + t[0];
                double Yc = R[3] * px + R[4] * py + R[5] * pz + t[1];
                double Zc = R[6] * px + R[7] * py + R[8] * pz + t[2];
                if (!(Zc > 1e-9) || !k.Project(Xc, Yc, Zc, out double pu, out double pv)) { cost += l.Wt[i] * penalty; continue; }
                double ru = pu - l.Obs[2 * i], rv = pv - l.Obs[2 * i + 1];
                cost += l.Wt[i] * Math.Min(penalty, Huber(Math.Sqrt(ru * ru + rv * rv)));
            }
            return cost;
        }

        private static double Huber(double e) => e <= HuberPx ? 0.5 * e * e : HuberPx * (e - 0.5 * HuberPx);

        /// <summary>Gauss-Newton from <paramref name="initialKeyToFrame"/> (see the class summary); null when it breaks down.</summary>
        private static (CameraPose KeyToFrame, double RmsPixels)? Refine((double[] X, double[] Obs, double[] Wt, int Used) l, Intrinsics k, CameraPose initialKeyToFrame, int iterations)
        {
            var (X, obs, wt, used) = l;
            var R = initialKeyToFrame.Rotation; var t = initialKeyToFrame.Translation;
            double rms = double.NaN;
            const double huber = HuberPx;
            var Ju = new double[6]; var Jv = new double[6];
            for (int it = 0; it < iterations; it++)
            {
                var H = new double[36]; var g = new double[6];
                double err = 0, wsum = 0;
                for (int i = 0; i < used; i++)
                {
                    double px = X[3 * i], py = X[3 * i + 1], pz = X[3 * i + 2];
                    double Xc = R[0] * px + R[1] * py + R[2] * pz + t[0];
                    double Yc = R[3] * px + R[4] * py + R[5] * pz + t[1];
                    double Zc = R[6] * px + R[7] * py + R[8] * pz + t[2];
                    if (Zc <= 1e-9) continue;
                    // Beyond the radial distortion's fold (k1 < 0) the point has no image: skip it.
                    if (!ProjectWithJacobian(k, Xc, Yc, Zc, out double pu, out double pv, Ju, Jv)) continue;
                    double ru = pu - obs[2 * i], rv = pv - obs[2 * i + 1];
                    double e = Math.Sqrt(ru * ru + rv * rv);
                    double w = wt[i] * (e <= huber ? 1 : huber / e);
                    err += wt[i] * e * e; wsum += wt[i];
                    for (int r = 0; r < 6; r++)
                    {
                        g[r] += w * (Ju[r] * ru + Jv[r] * rv);
                        for (int c = 0; c < 6; c++) H[r * 6 + c] += w * (Ju[r] * Ju[c] + Jv[r] * Jv[c]);
                    }
                }
                rms = wsum > 0 ? Math.Sqrt(err / wsum) : double.NaN;
                for (int r = 0; r < 6; r++) H[r * 6 + r] *= 1.0001; // Levenberg damping against rank deficiency
                for (int r = 0; r < 6; r++) H[r * 6 + r] += 1e-9;
                var delta = SolveSymmetric(H, g);
                if (delta == null) break;
                // delta = (v, omega): apply x <- exp(-delta) x
                double vx = -delta[0], vy = -delta[1], vz = -delta[2];
                var dR = Rodrigues(-delta[3], -delta[4], -delta[5]);
                R = Mul(dR, R);
                t = new[] { dR[0] * t[0] + dR[1] * t[1] + dR[2] * t[2] + vx, dR[3] * t[0] + dR[4] * t[1] + dR[5] * t[2] + vy, dR[6] * t[0] + dR[7] * t[1] + dR[8] * t[2] + vz };
                double step = 0; foreach (var d in delta) step += d * d;
                if (step < 1e-14) break;
            }
            if (double.IsNaN(rms) || double.IsNaN(t[0])) return null;
            return (new CameraPose(R, t), rms);
        }

        /// <summary>
        /// Projects the camera-space point (Xc, Yc, Zc) to pixels (u, v) through <paramref name="k"/> (radial distortion
        /// included) and writes d(u)/d(v, omega) and d(v)/d(v, omega) for the left perturbation X -> X + omega x X + v.
        /// False when the point does not project (behind the camera, or beyond the distortion's fold).
        /// 1. Normalised x = X / Z: d(x, y)/d(X, Y, Z) = [[1/Z, 0, -X/Z^2], [0, 1/Z, -Y/Z^2]].
        /// 2. Distortion: d(x_d, y_d)/d(x, y) = <see cref="Intrinsics.DistortJacobian"/>; pixels: diag(fx, fy).
        /// 3. dX/dv = I, dX/d(omega) = -[X]x = [[0, Z, -Y], [-Z, 0, X], [Y, -X, 0]].
        /// </summary>
        internal static bool ProjectWithJacobian(Intrinsics k, double Xc, double Yc, double Zc, out double u, out double v, double[] ju, double[] jv)
        {
            if (!k.Project(Xc, Yc, Zc, out u, out v)) return false;
            double iz = 1 / Zc;
            var D = k.DistortJacobian(Xc * iz, Yc * iz);
            double nxz = -Xc * iz * iz, nyz = -Yc * iz * iz;
            double uX = k.Fx * D.Dxx * iz, uY = k.Fx * D.Dxy * iz, uZ = k.Fx * (D.Dxx * nxz + D.Dxy * nyz);
            double vX = k.Fy * D.Dyx * iz, vY = k.Fy * D.Dyy * iz, vZ = k.Fy * (D.Dyx * nxz + D.Dyy * nyz);
            ju[0] = uX; ju[1] = uY; ju[2] = uZ; ju[3] = -uY * Zc + uZ * Yc; ju[4] = uX * Zc - uZ * Xc; ju[5] = -uX * Yc + uY * Xc;
            jv[0] = vX; jv[1] = vY; jv[2] = vZ; jv[3] = -vY * Zc + vZ * Yc; jv[4] = vX * Zc - vZ * Xc; jv[5] = -vX * Yc + vY * Xc;
            return true;
        }

        internal static double[] Rodrigues(double wx, double wy, double wz)
        {
            double th = Math.Sqrt(wx * wx + wy * wy + wz * wz);
            if (th < 1e-12) return new double[] { 1, -wz, wy, wz, 1, -wx, -wy, wx, 1 };
            double kx = wx / th, ky = wy / th, kz = wz / th, c = Math.Cos(th), s = Math.Sin(th), v = 1 - c;
            return new[]
            {
                c + kx * kx * v, kx * ky * v - kz * s, kx * kz * v + ky * s,
                ky * kx * v + kz * s, c + ky * ky * v, ky * kz * v - kx * s,
                kz * kx * v - ky * s, kz * ky * v + kx * s, c + kz * kz * v,
            };
        }

        private static double[] Mul(double[] a, double[] b)
        {
            var r = new double[9];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    r[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
            return r;
        }

        /// <summary>Solves H x = g (H symmetric positive definite, 6x6) by Cholesky; null when not positive definite.</summary>
        private static double[]? SolveSymmetric(double[] H, double[] g)
        {
            const int n = 6;
            var L = new double[36];
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++)
                {
                    double s = H[i * n + j];
                    for (int k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
                    if (i == j) { if (!(s > 0)) return null; L[i * n + i] = Math.Sqrt(s); }
                    else L[i * n + j] = s / L[j * n + j];
                }
            var y = new double[n];
            for (int i = 0; i < n; i++) { double s = g[i]; for (int k = 0; k < i; k++) s -= L[i * n + k] * y[k]; y[i] = s / L[i * n + i]; }
            var x = new double[n];
            for (int i = n - 1; i >= 0; i--) { double s = y[i]; for (int k = i + 1; k < n; k++) s -= L[k * n + i] * x[k]; x[i] = s / L[i * n + i]; }
            return x;
        }
    }
}
