using System;

namespace FlowMap.Solve
{
    /// <summary>
    /// Weighted rigid Procrustes (Kabsch with the determinant fix) and its analytic backward pass, double precision.
    /// The rotation is found as Horn's quaternion (the top eigenvector of a symmetric 4x4 matrix built from the
    /// cross-covariance), which is Kabsch's maximiser of tr(R C) over proper rotations without an explicit SVD sign fix
    /// (B. K. P. Horn, "Closed-form solution of absolute orientation using unit quaternions", JOSA A 4(4), 1987).
    /// 3x3 matrices are double[9], row-major. The shaders in FlowMap.Shaders/solve/ follow this file step by step.
    /// </summary>
    internal static class Procrustes
    {
        /// <summary>Number of weighted sums that define one Procrustes problem: W, sum wX (3), sum wY (3), sum w X Y^T (9).</summary>
        public const int SumCount = 16;

        /// <summary>
        /// The fitted transform Y ~ R X + t of one pair and what its backward pass needs.
        /// </summary>
        public sealed class Fit
        {
            public double[] R = new double[9];
            public double[] T = new double[3];
            public double[] MuX = new double[3];
            public double[] MuY = new double[3];
            public double Weight;
            /// <summary>Eigenvectors (columns of V, row-major 3x3) and eigenvalues of the symmetric M = R C.</summary>
            public double[] V = new double[9];
            public double[] Lambda = new double[3];
        }

        /// <summary>
        /// Solves from the sums (W, sum wX, sum wY, sum w X Y^T). Returns the identity when the total weight is ~0.
        /// </summary>
        public static Fit Solve(ReadOnlySpan<double> sums)
        {
            var fit = new Fit();
            double w = sums[0];
            fit.Weight = w;
            if (!(w > 1e-12))
            {
                fit.R[0] = fit.R[4] = fit.R[8] = 1;
                fit.V[0] = fit.V[4] = fit.V[8] = 1;
                fit.Lambda[0] = fit.Lambda[1] = fit.Lambda[2] = 1;
                return fit;
            }
            for (int a = 0; a < 3; a++) { fit.MuX[a] = sums[1 + a] / w; fit.MuY[a] = sums[4 + a] / w; }
            // 1. Centred cross-covariance C = sum w (X - muX)(Y - muY)^T = sum w X Y^T - W muX muY^T.
            var c = new double[9];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    c[a * 3 + b] = sums[7 + a * 3 + b] - w * fit.MuX[a] * fit.MuY[b];
            // 2. Rotation maximising tr(R C) (Horn).
            RotationFromCovariance(c, fit.R);
            // 3. t = muY - R muX.
            for (int a = 0; a < 3; a++)
                fit.T[a] = fit.MuY[a] - (fit.R[a * 3] * fit.MuX[0] + fit.R[a * 3 + 1] * fit.MuX[1] + fit.R[a * 3 + 2] * fit.MuX[2]);
            // 4. For the backward pass: M = R C is symmetric at the optimum; its eigen-decomposition (sigma1, sigma2, +-sigma3).
            var m = Mul(fit.R, c);
            var ms = new double[9];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    ms[a * 3 + b] = 0.5 * (m[a * 3 + b] + m[b * 3 + a]);
            Jacobi.Symmetric(ms, 3, fit.Lambda, fit.V);
            return fit;
        }

        /// <summary>The proper rotation R maximising tr(R C), C = sum w X' Y'^T (so that R X' ~ Y').</summary>
        public static void RotationFromCovariance(double[] c, double[] r)
        {
            double sxx = c[0], sxy = c[1], sxz = c[2], syx = c[3], syy = c[4], syz = c[5], szx = c[6], szy = c[7], szz = c[8];
            // Horn's N matrix; its top eigenvector is the quaternion (w, x, y, z) of R.
            var n = new double[]
            {
                sxx + syy + szz, syz - szy, szx - sxz, sxy - syx,
                syz - szy, sxx - syy - szz, sxy + syx, szx + sxz,
                szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy,
                sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz,
            };
            var ev = new double[4];
            var vec = new double[16];
            Jacobi.Symmetric(n, 4, ev, vec);
            int best = 0;
            for (int i = 1; i < 4; i++) if (ev[i] > ev[best]) best = i;
            double qw = vec[0 * 4 + best], qx = vec[1 * 4 + best], qy = vec[2 * 4 + best], qz = vec[3 * 4 + best];
            double nq = Math.Sqrt(qw * qw + qx * qx + qy * qy + qz * qz);
            qw /= nq; qx /= nq; qy /= nq; qz /= nq;
            r[0] = 1 - 2 * (qy * qy + qz * qz); r[1] = 2 * (qx * qy - qz * qw); r[2] = 2 * (qx * qz + qy * qw);
            r[3] = 2 * (qx * qy + qz * qw); r[4] = 1 - 2 * (qx * qx + qz * qz); r[5] = 2 * (qy * qz - qx * qw);
            r[6] = 2 * (qx * qz - qy * qw); r[7] = 2 * (qy * qz + qx * qw); r[8] = 1 - 2 * (qx * qx + qy * qy);
        }

        /// <summary>Relative guard on the denominators lambda_a + lambda_b of the rotation's derivative.</summary>
        public const double GuardRelative = 1e-6;

        /// <summary>
        /// Backward pass: from dL/dR and dL/dt to dL/dC (3x3), dL/dmuX, dL/dmuY. Derivation: at the optimum M = R C is
        /// symmetric. With dR = Omega R (Omega skew), symmetry of d(RC) gives Omega M + M Omega = -(R dC - (R dC)^T); in the
        /// eigenbasis V of M (eigenvalues lambda) Omega'_ab = -A'_ab / (lambda_a + lambda_b). Hence
        /// dL/dC = -R^T (Kv - Kv^T), Kv = V K V^T, K_ab = B_ab / (lambda_a + lambda_b), B = V^T G R^T V, G = dL/dR.
        /// lambda_a + lambda_b vanishes only when sigma2 ~ sigma3 with a reflection (a degenerate point set): the
        /// denominator is clamped to a small fraction of the largest eigenvalue there (the guard).
        /// </summary>
        public static void Backward(Fit fit, ReadOnlySpan<double> gR, ReadOnlySpan<double> gT,
            double[] gC, double[] gMuX, double[] gMuY)
        {
            if (!(fit.Weight > 1e-12)) { Array.Clear(gC, 0, 9); Array.Clear(gMuX, 0, 3); Array.Clear(gMuY, 0, 3); return; }
            var r = fit.R;
            // t = muY - R muX.
            var g = new double[9];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    g[a * 3 + b] = gR[a * 3 + b] - gT[a] * fit.MuX[b];
            for (int a = 0; a < 3; a++)
            {
                gMuY[a] = gT[a];
                gMuX[a] = -(r[0 * 3 + a] * gT[0] + r[1 * 3 + a] * gT[1] + r[2 * 3 + a] * gT[2]);
            }
            RotationBackward(r, fit.V, fit.Lambda, g, gC);
        }

        /// <summary>dL/dC from G = dL/dR for R = argmax tr(R C) (see <see cref="Backward"/>).</summary>
        public static void RotationBackward(double[] r, double[] v, double[] lambda, double[] g, double[] gC)
        {
            double lmax = Math.Max(Math.Abs(lambda[0]), Math.Max(Math.Abs(lambda[1]), Math.Abs(lambda[2])));
            double eps = Math.Max(GuardRelative * lmax, 1e-300);
            // B = V^T G R^T V.
            var grt = MulABt(g, r);
            var b = Mul(Mul(Transpose(v), grt), v);
            var k = new double[9];
            for (int a = 0; a < 3; a++)
                for (int c = 0; c < 3; c++)
                {
                    if (a == c) continue;
                    double den = lambda[a] + lambda[c];
                    if (den < eps) den = eps;
                    k[a * 3 + c] = b[a * 3 + c] / den;
                }
            var kv = Mul(Mul(v, k), Transpose(v));
            var skew = new double[9];
            for (int a = 0; a < 3; a++)
                for (int c = 0; c < 3; c++)
                    skew[a * 3 + c] = kv[a * 3 + c] - kv[c * 3 + a];
            var res = Mul(Transpose(r), skew);
            for (int i = 0; i < 9; i++) gC[i] = -res[i];
        }

        public static double[] Mul(double[] a, double[] b)
        {
            var m = new double[9];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    m[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
            return m;
        }

        /// <summary>A B^T.</summary>
        public static double[] MulABt(double[] a, double[] b)
        {
            var m = new double[9];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    m[i * 3 + j] = a[i * 3] * b[j * 3] + a[i * 3 + 1] * b[j * 3 + 1] + a[i * 3 + 2] * b[j * 3 + 2];
            return m;
        }

        public static double[] Transpose(double[] a) => new[] { a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8] };
    }

    /// <summary>Cyclic Jacobi eigen-decomposition of a small symmetric matrix (fixed sweep count: deterministic).</summary>
    internal static class Jacobi
    {
        public const int Sweeps = 12;

        /// <summary>
        /// Eigenvalues of the symmetric n x n row-major <paramref name="a"/> (not modified) into <paramref name="eigenvalues"/>,
        /// eigenvectors as the columns of the row-major <paramref name="vectors"/>. A rotation is skipped when its
        /// off-diagonal element is 0 or at most <paramref name="negligible"/> x sqrt(|a_pp a_qq|) (Rutishauser's threshold;
        /// 0, the default, rotates every non-zero element), and the sweeps stop at the first that rotates nothing.
        /// </summary>
        public static void Symmetric(double[] a, int n, double[] eigenvalues, double[] vectors, int sweeps = Sweeps, double negligible = 0)
        {
            var m = (double[])a.Clone();
            Array.Clear(vectors, 0, n * n);
            for (int i = 0; i < n; i++) vectors[i * n + i] = 1;
            for (int sweep = 0; sweep < sweeps; sweep++)
            {
                bool rotated = false;
                for (int p = 0; p < n; p++)
                    for (int q = p + 1; q < n; q++)
                    {
                        double apq = m[p * n + q];
                        if (apq == 0 || Math.Abs(apq) <= negligible * Math.Sqrt(Math.Abs(m[p * n + p] * m[q * n + q]))) continue;
                        rotated = true;
                        // Rotation angle that zeroes m[p,q] (Golub & Van Loan, "Matrix Computations", 8.5.2).
                        double theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
                        double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                        if (theta == 0) t = 1;
                        double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                        for (int k = 0; k < n; k++)
                        {
                            double mkp = m[k * n + p], mkq = m[k * n + q];
                            m[k * n + p] = c * mkp - s * mkq;
                            m[k * n + q] = s * mkp + c * mkq;
                        }
                        for (int k = 0; k < n; k++)
                        {
                            double mpk = m[p * n + k], mqk = m[q * n + k];
                            m[p * n + k] = c * mpk - s * mqk;
                            m[q * n + k] = s * mpk + c * mqk;
                        }
                        for (int k = 0; k < n; k++)
                        {
                            double vkp = vectors[k * n + p], vkq = vectors[k * n + q];
                            vectors[k * n + p] = c * vkp - s * vkq;
                            vectors[k * n + q] = s * vkp + c * vkq;
                        }
                    }
                if (!rotated) break;
            }
            for (int i = 0; i < n; i++) eigenvalues[i] = m[i * n + i];
        }
    }
}
