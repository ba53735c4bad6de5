using System;
using System.Collections.Generic;

namespace FlowMap.Evaluation
{
    /// <summary>A similarity transform p -> Scale * R p + T (R row-major 3x3).</summary>
    internal sealed record Similarity(double Scale, double[] Rotation, double[] Translation)
    {
        public (double X, double Y, double Z) Apply((double X, double Y, double Z) p)
        {
            var r = Rotation;
            return (Scale * (r[0] * p.X + r[1] * p.Y + r[2] * p.Z) + Translation[0],
                    Scale * (r[3] * p.X + r[4] * p.Y + r[5] * p.Z) + Translation[1],
                    Scale * (r[6] * p.X + r[7] * p.Y + r[8] * p.Z) + Translation[2]);
        }

        /// <summary>
        /// The least-squares similarity taking <paramref name="source"/> onto <paramref name="target"/> (Umeyama, "Least-squares
        /// estimation of transformation parameters between two point patterns", PAMI 1991). The rotation is found with Horn's
        /// unit-quaternion method ("Closed-form solution of absolute orientation using unit quaternions", JOSA A 1987), which
        /// reaches the same optimum and is always a proper rotation, also for degenerate (collinear) point sets:
        ///  1. centre both sets on their means;
        ///  2. cross-covariance S = sum a_i b_i^T; the eigenvector of Horn's 4x4 matrix N(S) with the largest eigenvalue is the
        ///     rotation quaternion;
        ///  3. scale = sum b_i . (R a_i) / sum |a_i|^2 (Umeyama eq. 42; 1 when <paramref name="withScale"/> is false);
        ///  4. translation = mean_b - scale R mean_a.
        /// </summary>
        public static Similarity Align(IReadOnlyList<(double X, double Y, double Z)> source, IReadOnlyList<(double X, double Y, double Z)> target, bool withScale = true)
        {
            if (source == null || target == null) throw new ArgumentNullException(source == null ? nameof(source) : nameof(target));
            if (source.Count != target.Count) throw new ArgumentException($"{source.Count} source points for {target.Count} target points.");
            int n = source.Count;
            if (n == 0) throw new ArgumentException("No points to align.");
            double[] ma = new double[3], mb = new double[3];
            for (int i = 0; i < n; i++)
            {
                ma[0] += source[i].X; ma[1] += source[i].Y; ma[2] += source[i].Z;
                mb[0] += target[i].X; mb[1] += target[i].Y; mb[2] += target[i].Z;
            }
            for (int k = 0; k < 3; k++) { ma[k] /= n; mb[k] /= n; }
            var s = new double[9];
            double varA = 0;
            for (int i = 0; i < n; i++)
            {
                double ax = source[i].X - ma[0], ay = source[i].Y - ma[1], az = source[i].Z - ma[2];
                double bx = target[i].X - mb[0], by = target[i].Y - mb[1], bz = target[i].Z - mb[2];
                s[0] += ax * bx; s[1] += ax * by; s[2] += ax * bz;
                s[3] += ay * bx; s[4] += ay * by; s[5] += ay * bz;
                s[6] += az * bx; s[7] += az * by; s[8] += az * bz;
                varA += ax * ax + ay * ay + az * az;
            }
            double sxx = s[0], sxy = s[1], sxz = s[2], syx = s[3], syy = s[4], syz = s[5], szx = s[6], szy = s[7], szz = s[8];
            var N = new double[,]
            {
                { sxx + syy + szz, syz - szy, szx - sxz, sxy - syx },
                { syz - szy, sxx - syy - szz, sxy + syx, szx + sxz },
                { szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy },
                { sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz },
            };
            var (values, vectors) = SymmetricEigen(N);
            int best = 0;
            for (int k = 1; k < 4; k++) if (values[k] > values[best]) best = k;
            double qw = vectors[0, best], qx = vectors[1, best], qy = vectors[2, best], qz = vectors[3, best];
            var rot = n == 1 || varA == 0 ? CameraPose.Identity : CameraPose.FromQuaternion(qx, qy, qz, qw, 0, 0, 0);
            var r = rot.Rotation;
            double scale = 1;
            if (withScale && varA > 0)
            {
                double num = 0;
                for (int i = 0; i < n; i++)
                {
                    double ax = source[i].X - ma[0], ay = source[i].Y - ma[1], az = source[i].Z - ma[2];
                    double bx = target[i].X - mb[0], by = target[i].Y - mb[1], bz = target[i].Z - mb[2];
                    num += bx * (r[0] * ax + r[1] * ay + r[2] * az) + by * (r[3] * ax + r[4] * ay + r[5] * az) + bz * (r[6] * ax + r[7] * ay + r[8] * az);
                }
                scale = num / varA;
            }
            var t = new double[3];
            for (int k = 0; k < 3; k++) t[k] = mb[k] - scale * (r[3 * k] * ma[0] + r[3 * k + 1] * ma[1] + r[3 * k + 2] * ma[2]);
            return new Similarity(scale, r, t);
        }

        /// <summary>Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations (Golub and Van Loan, 8.5). Columns of the result are eigenvectors.</summary>
        internal static (double[] Values, double[,] Vectors) SymmetricEigen(double[,] input)
        {
            int n = input.GetLength(0);
            var a = (double[,])input.Clone();
            var v = new double[n, n];
            for (int i = 0; i < n; i++) v[i, i] = 1;
            for (int sweep = 0; sweep < 100; sweep++)
            {
                double off = 0, diag = 0;
                for (int p = 0; p < n; p++)
                    for (int q = 0; q < n; q++)
                        if (p != q) off += a[p, q] * a[p, q]; else diag += a[p, q] * a[p, q];
                if (off <= 1e-30 * Math.Max(diag, 1e-300)) break;
                for (int p = 0; p < n - 1; p++)
                    for (int q = p + 1; q < n; q++)
                    {
                        if (a[p, q] == 0) continue;
                        double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                        double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                        if (theta == 0) t = 1;
                        double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                        for (int k = 0; k < n; k++)
                        {
                            double akp = a[k, p], akq = a[k, q];
                            a[k, p] = c * akp - s * akq; a[k, q] = s * akp + c * akq;
                        }
                        for (int k = 0; k < n; k++)
                        {
                            double apk = a[p, k], aqk = a[q, k];
                            a[p, k] = c * apk - s * aqk; a[q, k] = s * apk + c * aqk;
                        }
                        for (int k = 0; k < n; k++)
                        {
                            double vkp = v[k, p], vkq = v[k, q];
                            v[k, p] = c * vkp - s * vkq; v[k, q] = s * vkp + c * vkq;
                        }
                    }
            }
            var values = new double[n];
            for (int i = 0; i < n; i++) values[i] = a[i, i];
            return (values, v);
        }
    }
}
