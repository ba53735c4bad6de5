using System;

namespace FlowMap.Solve.Geometry
{
    /// <summary>
    /// Small dense linear algebra for two-view geometry, double precision, row-major arrays: 3x3 products, a one-sided
    /// Jacobi SVD (Hestenes 1958; Demmel and Veselic 1992: accurate small singular values, which the rank-2 fundamental
    /// matrix and the essential matrix need) and the null vector of a symmetric positive semi-definite moment matrix.
    /// Fixed sweep limits and fixed orderings: results are deterministic.
    /// </summary>
    internal static class Mat3
    {
        public static double[] Identity() => new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };

        public static double[] Mul(double[] a, double[] b)
        {
            var m = new double[9];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    m[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
            return m;
        }

        public static double[] Mul(double[] a, double[] b, double[] c) => Mul(Mul(a, b), c);

        public static double[] Transpose(double[] a) => new[] { a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8] };

        public static double Det(double[] a) =>
            a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);

        public static (double, double, double) Apply(double[] a, double x, double y, double z) =>
            (a[0] * x + a[1] * y + a[2] * z, a[3] * x + a[4] * y + a[5] * z, a[6] * x + a[7] * y + a[8] * z);

        public static double Norm(double[] a)
        {
            double s = 0;
            foreach (var v in a) s += v * v;
            return Math.Sqrt(s);
        }

        public static double[] Scale(double[] a, double s)
        {
            var r = new double[a.Length];
            for (int i = 0; i < a.Length; i++) r[i] = a[i] * s;
            return r;
        }

        /// <summary>K = [f 0 cx; 0 f cy; 0 0 1].</summary>
        public static double[] K(double f, double cx, double cy) => new double[] { f, 0, cx, 0, f, cy, 0, 0, 1 };

        /// <summary>K^-1 for <see cref="K"/>.</summary>
        public static double[] KInverse(double f, double cx, double cy) => new double[] { 1 / f, 0, -cx / f, 0, 1 / f, -cy / f, 0, 0, 1 };

        /// <summary>[v]_x, the cross-product matrix: [v]_x w = v x w.</summary>
        public static double[] Skew(double x, double y, double z) => new double[] { 0, -z, y, z, 0, -x, -y, x, 0 };

        /// <summary>
        /// SVD A = U diag(S) V^T of a square n x n row-major matrix by one-sided Jacobi rotations on the columns
        /// (Hestenes; Golub and Van Loan, "Matrix Computations", 8.6.3). Singular values in descending order; U's
        /// columns for zero singular values are completed to an orthonormal basis only for n = 3.
        /// </summary>
        public static void Svd(double[] a, int n, out double[] u, out double[] s, out double[] v)
        {
            var w = (double[])a.Clone();
            var vv = new double[n * n];
            for (int i = 0; i < n; i++) vv[i * n + i] = 1;
            double frob2 = 0;
            foreach (var x in w) frob2 += x * x;
            // A column this small is numerically zero (rank-deficient F and E): rotating it against the others only
            // shuffles rounding errors, so it would never meet the orthogonality test.
            double negligible = 1e-30 * frob2;
            for (int sweep = 0; sweep < 60; sweep++)
            {
                bool rotated = false;
                for (int p = 0; p < n - 1; p++)
                    for (int q = p + 1; q < n; q++)
                    {
                        double alpha = 0, beta = 0, gamma = 0;
                        for (int k = 0; k < n; k++)
                        {
                            double wp = w[k * n + p], wq = w[k * n + q];
                            alpha += wp * wp; beta += wq * wq; gamma += wp * wq;
                        }
                        if (gamma == 0 || Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta) || Math.Min(alpha, beta) <= negligible) continue;
                        rotated = true;
                        // The rotation that makes columns p and q orthogonal.
                        double zeta = (beta - alpha) / (2 * gamma);
                        double t = (zeta >= 0 ? 1 : -1) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                        double c = 1 / Math.Sqrt(1 + t * t), sn = c * t;
                        for (int k = 0; k < n; k++)
                        {
                            double wp = w[k * n + p], wq = w[k * n + q];
                            w[k * n + p] = c * wp - sn * wq;
                            w[k * n + q] = sn * wp + c * wq;
                            double vp = vv[k * n + p], vq = vv[k * n + q];
                            vv[k * n + p] = c * vp - sn * vq;
                            vv[k * n + q] = sn * vp + c * vq;
                        }
                    }
                if (!rotated) break;
            }
            var norms = new double[n];
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++) sum += w[k * n + j] * w[k * n + j];
                norms[j] = Math.Sqrt(sum);
            }
            var order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            // Insertion sort by descending norm, ties by index (stable, deterministic, n is 3 or 9).
            for (int i = 1; i < n; i++)
                for (int j = i; j > 0 && norms[order[j]] > norms[order[j - 1]]; j--) (order[j], order[j - 1]) = (order[j - 1], order[j]);
            s = new double[n];
            u = new double[n * n];
            v = new double[n * n];
            for (int jj = 0; jj < n; jj++)
            {
                int j = order[jj];
                s[jj] = norms[j];
                for (int k = 0; k < n; k++)
                {
                    v[k * n + jj] = vv[k * n + j];
                    u[k * n + jj] = norms[j] > 0 ? w[k * n + j] / norms[j] : 0;
                }
            }
            if (n == 3)
            {
                // Complete U for (near-)zero singular values: u3 = u1 x u2 (and u2 from u1 when needed), so U is orthogonal.
                double tiny = 1e-300 + s[0] * 1e-14;
                if (s[1] <= tiny)
                {
                    var (ox, oy, oz) = AnyOrthogonal(u[0], u[3], u[6]);
                    u[1] = ox; u[4] = oy; u[7] = oz;
                }
                {
                    // Re-orthogonalise the third column in every case: it is the most sensitive one.
                    double cx = u[3] * u[7] - u[6] * u[4], cy = u[6] * u[1] - u[0] * u[7], cz = u[0] * u[4] - u[3] * u[1];
                    double dot = cx * u[2] + cy * u[5] + cz * u[8];
                    double sign = s[2] > tiny && dot < 0 ? -1 : 1;
                    u[2] = sign * cx; u[5] = sign * cy; u[8] = sign * cz;
                }
            }
        }

        private static (double, double, double) AnyOrthogonal(double x, double y, double z)
        {
            (double, double, double) c = Math.Abs(x) < 0.6 ? (0, -z, y) : (z, 0, -x);
            double n = Math.Sqrt(c.Item1 * c.Item1 + c.Item2 * c.Item2 + c.Item3 * c.Item3);
            return (c.Item1 / n, c.Item2 / n, c.Item3 / n);
        }

        /// <summary>
        /// The unit eigenvector of the smallest eigenvalue of a symmetric positive semi-definite n x n matrix (row-major),
        /// by cyclic Jacobi rotations run to convergence (Golub and Van Loan 8.5.2). Sign fixed so its largest entry is positive.
        /// </summary>
        public static double[] SmallestEigenvector(double[] m, int n, out double smallest, out double second)
        {
            var ev = new double[n];
            var vec = new double[n * n];
            // Run to convergence: rotations below 1e-17 of the diagonal are negligible (at most 50 sweeps).
            Jacobi.Symmetric(m, n, ev, vec, sweeps: 50, negligible: 1e-17);
            int best = 0, next = -1;
            for (int i = 1; i < n; i++) if (ev[i] < ev[best]) best = i;
            for (int i = 0; i < n; i++) if (i != best && (next < 0 || ev[i] < ev[next])) next = i;
            smallest = ev[best];
            second = next >= 0 ? ev[next] : double.PositiveInfinity;
            var r = new double[n];
            int big = 0;
            for (int k = 0; k < n; k++)
            {
                r[k] = vec[k * n + best];
                if (Math.Abs(r[k]) > Math.Abs(r[big])) big = k;
            }
            if (r[big] < 0) for (int k = 0; k < n; k++) r[k] = -r[k];
            return r;
        }

        /// <summary>The rotation nearest to M in the Frobenius norm (U V^T of its SVD, det +1).</summary>
        public static double[] NearestRotation(double[] m)
        {
            Svd(m, 3, out var u, out _, out var v);
            var r = Mul(u, Transpose(v));
            if (Det(r) < 0)
            {
                for (int k = 0; k < 3; k++) u[k * 3 + 2] = -u[k * 3 + 2];
                r = Mul(u, Transpose(v));
            }
            return r;
        }

        /// <summary>Rotation angle of a rotation matrix in radians (atan2 of the skew part and the trace: accurate near 0).</summary>
        public static double RotationAngle(double[] r)
        {
            double sx = r[7] - r[5], sy = r[2] - r[6], sz = r[3] - r[1];
            return Math.Atan2(0.5 * Math.Sqrt(sx * sx + sy * sy + sz * sz), 0.5 * (r[0] + r[4] + r[8] - 1));
        }
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): a small deterministic generator for robust sampling and bootstrap.</summary>
    internal struct GeometryRng
    {
        private ulong _s;
        public GeometryRng(ulong seed) { _s = seed; }

        public ulong Next()
        {
            ulong z = _s += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform integer in [0, n).</summary>
        public int Below(int n) => (int)(Next() % (ulong)n);

        /// <summary>Uniform double in [0, 1).</summary>
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        /// <summary>A Poisson(1) count (Knuth's product method): the weight of one point in a Poisson bootstrap replicate.</summary>
        public int Poisson1()
        {
            double l = Math.Exp(-1), p = 1;
            int k = 0;
            do { k++; p *= NextDouble(); } while (p > l && k < 20);
            return k - 1;
        }
    }
}
