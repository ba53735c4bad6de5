using System;

namespace FlowMap.Core
{
    /// <summary>
    /// A rigid camera-to-world transform, OpenCV camera axes (x right, y down, z forward), double precision:
    /// p_world = R p_camera + T. R is row-major 3x3. Frame 0 of a reconstruction is the identity; the scale of T is
    /// the reconstruction's arbitrary scale unless stated otherwise.
    /// </summary>
    public readonly struct CameraPose
    {
        private readonly double[]? _r;
        private readonly double[]? _t;

        /// <summary>A pose from R (9 values, row-major, a rotation) and T (3 values: the camera centre in world coordinates); both are copied.</summary>
        public CameraPose(double[] rotationRowMajor, double[] translation)
        {
            if (rotationRowMajor == null || rotationRowMajor.Length != 9) throw new ArgumentException("Rotation must be 9 values, row-major.");
            if (translation == null || translation.Length != 3) throw new ArgumentException("Translation must be 3 values.");
            _r = (double[])rotationRowMajor.Clone();
            _t = (double[])translation.Clone();
        }

        /// <summary>R = I, T = 0 (frame 0 of a reconstruction).</summary>
        public static CameraPose Identity => new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[3]);

        /// <summary>Row-major 3x3 rotation (a copy).</summary>
        public double[] Rotation => (double[])(_r ?? Identity._r!).Clone();
        /// <summary>Translation = camera centre in world coordinates (a copy).</summary>
        public double[] Translation => (double[])(_t ?? new double[3]).Clone();

        /// <summary>Element (row, col) of R, both 0-based.</summary>
        public double R(int row, int col) => (_r ?? Identity._r!)[row * 3 + col];
        /// <summary>Component i (0 = x, 1 = y, 2 = z) of T.</summary>
        public double T(int i) => _t == null ? 0 : _t[i];

        /// <summary>Camera centre in world coordinates.</summary>
        public (double X, double Y, double Z) Center => (T(0), T(1), T(2));

        /// <summary>this ∘ other: first other, then this (p -> this(other(p))).</summary>
        public CameraPose Compose(CameraPose other)
        {
            var r = new double[9];
            var t = new double[3];
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 3; j++)
                    r[i * 3 + j] = R(i, 0) * other.R(0, j) + R(i, 1) * other.R(1, j) + R(i, 2) * other.R(2, j);
                t[i] = R(i, 0) * other.T(0) + R(i, 1) * other.T(1) + R(i, 2) * other.T(2) + T(i);
            }
            return new CameraPose(r, t);
        }

        /// <summary>The world-to-camera transform (R^T, -R^T T).</summary>
        public CameraPose Inverse()
        {
            var r = new double[9];
            var t = new double[3];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    r[i * 3 + j] = R(j, i);
            for (int i = 0; i < 3; i++)
                t[i] = -(r[i * 3] * T(0) + r[i * 3 + 1] * T(1) + r[i * 3 + 2] * T(2));
            return new CameraPose(r, t);
        }

        /// <summary>R p + T: a point in this camera's coordinates to world coordinates.</summary>
        public (double X, double Y, double Z) Transform(double x, double y, double z) =>
            (R(0, 0) * x + R(0, 1) * y + R(0, 2) * z + T(0),
             R(1, 0) * x + R(1, 1) * y + R(1, 2) * z + T(1),
             R(2, 0) * x + R(2, 1) * y + R(2, 2) * z + T(2));

        /// <summary>Unit quaternion (qx, qy, qz, qw) of R, qw &gt;= 0 (Shepperd's method).</summary>
        public (double Qx, double Qy, double Qz, double Qw) Quaternion
        {
            get
            {
                double m00 = R(0, 0), m11 = R(1, 1), m22 = R(2, 2), tr = m00 + m11 + m22;
                double qx, qy, qz, qw;
                if (tr > 0)
                {
                    double s = Math.Sqrt(tr + 1) * 2;
                    qw = 0.25 * s; qx = (R(2, 1) - R(1, 2)) / s; qy = (R(0, 2) - R(2, 0)) / s; qz = (R(1, 0) - R(0, 1)) / s;
                }
                else if (m00 > m11 && m00 > m22)
                {
                    double s = Math.Sqrt(1 + m00 - m11 - m22) * 2;
                    qw = (R(2, 1) - R(1, 2)) / s; qx = 0.25 * s; qy = (R(0, 1) + R(1, 0)) / s; qz = (R(0, 2) + R(2, 0)) / s;
                }
                else if (m11 > m22)
                {
                    double s = Math.Sqrt(1 + m11 - m00 - m22) * 2;
                    qw = (R(0, 2) - R(2, 0)) / s; qx = (R(0, 1) + R(1, 0)) / s; qy = 0.25 * s; qz = (R(1, 2) + R(2, 1)) / s;
                }
                else
                {
                    double s = Math.Sqrt(1 + m22 - m00 - m11) * 2;
                    qw = (R(1, 0) - R(0, 1)) / s; qx = (R(0, 2) + R(2, 0)) / s; qy = (R(1, 2) + R(2, 1)) / s; qz = 0.25 * s;
                }
                double n = Math.Sqrt(qx * qx + qy * qy + qz * qz + qw * qw);
                if (qw < 0) n = -n;
                return (qx / n, qy / n, qz / n, qw / n);
            }
        }

        /// <summary>Pose from a unit quaternion (normalised here) and a translation.</summary>
        public static CameraPose FromQuaternion(double qx, double qy, double qz, double qw, double tx, double ty, double tz)
        {
            double n = Math.Sqrt(qx * qx + qy * qy + qz * qz + qw * qw);
            if (!(n > 0)) throw new ArgumentException("Quaternion has zero length.");
            qx /= n; qy /= n; qz /= n; qw /= n;
            var r = new[]
            {
                1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw),
                2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw),
                2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy),
            };
            return new CameraPose(r, new[] { tx, ty, tz });
        }

        /// <summary>
        /// The same pose with R replaced by the nearest rotation (its orthogonal polar factor, by Newton's iteration
        /// X &lt;- (X + X^-T) / 2, Higham 1986, "Computing the polar decomposition"), T unchanged. A pose composed again and
        /// again carries R's departure from a rotation along (solves in float precision start it at ~1e-7), and
        /// <see cref="Inverse"/> takes R^T for R^-1, so a pose composed with the inverse of another of the same lineage
        /// doubles it: re-chained at every window solve, the waiting keyframes' poses ran off to 1e174 and NaN
        /// (FlowMap.Tests/Issues/RechainedKeyframePosesLeftTheRotations.cs). Unchanged when R is singular.
        /// </summary>
        internal CameraPose Orthonormalized()
        {
            var x = Rotation;
            for (int it = 0; it < 20; it++)
            {
                // X^-T = adj(X)^T / det(X) = cofactor matrix / det.
                var c = new double[9];
                c[0] = x[4] * x[8] - x[5] * x[7]; c[1] = x[5] * x[6] - x[3] * x[8]; c[2] = x[3] * x[7] - x[4] * x[6];
                c[3] = x[2] * x[7] - x[1] * x[8]; c[4] = x[0] * x[8] - x[2] * x[6]; c[5] = x[1] * x[6] - x[0] * x[7];
                c[6] = x[1] * x[5] - x[2] * x[4]; c[7] = x[2] * x[3] - x[0] * x[5]; c[8] = x[0] * x[4] - x[1] * x[3];
                double det = x[0] * c[0] + x[1] * c[1] + x[2] * c[2];
                if (!(Math.Abs(det) > 1e-12) || !double.IsFinite(det)) return this;
                double change = 0;
                for (int i = 0; i < 9; i++)
                {
                    double v = 0.5 * (x[i] + c[i] / det);
                    change = Math.Max(change, Math.Abs(v - x[i]));
                    x[i] = v;
                }
                if (change <= 1e-16) break;
            }
            return new CameraPose(x, Translation);
        }

        /// <summary>Rotation angle of R in radians, in [0, pi].</summary>
        public double RotationAngle()
        {
            double c = (R(0, 0) + R(1, 1) + R(2, 2) - 1) / 2;
            return Math.Acos(Math.Max(-1, Math.Min(1, c)));
        }

        /// <summary>Centre and rotation angle, for logs.</summary>
        public override string ToString() => $"T=({T(0):F4}, {T(1):F4}, {T(2):F4}) angle={RotationAngle() * 180 / Math.PI:F3} deg";
    }
}
