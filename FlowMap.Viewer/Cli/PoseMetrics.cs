using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// Trajectory metrics of EVALUATION.md, computed like an outside evaluator would from the written poses:
    /// ATE = RMSE of camera centres after a Sim(3) alignment (Umeyama 1991; the rotation by Horn's quaternion method,
    /// 1987, which gives the same optimum), and the mean relative rotation error between consecutive frames.
    /// </summary>
    public static class PoseMetrics
    {
        /// <summary>ATE in the truth's units and the truth's path length.</summary>
        public static (double Ate, double PathLength) Ate(IReadOnlyList<CameraPose> est, IReadOnlyList<CameraPose> gt)
        {
            if (est.Count != gt.Count) throw new ArgumentException("Trajectories differ in length.");
            int n = est.Count;
            double path = 0;
            for (int i = 1; i < n; i++) path += Dist(gt[i].Center, gt[i - 1].Center);
            if (n < 2) return (0, path);
            var x = est.Select(p => p.Center).ToList(); var y = gt.Select(p => p.Center).ToList();
            var (R, c, t) = Sim3(x, y);
            double se = 0;
            for (int i = 0; i < n; i++)
            {
                var a = x[i];
                double px = c * (R[0] * a.X + R[1] * a.Y + R[2] * a.Z) + t[0];
                double py = c * (R[3] * a.X + R[4] * a.Y + R[5] * a.Z) + t[1];
                double pz = c * (R[6] * a.X + R[7] * a.Y + R[8] * a.Z) + t[2];
                se += (px - y[i].X) * (px - y[i].X) + (py - y[i].Y) * (py - y[i].Y) + (pz - y[i].Z) * (pz - y[i].Z);
            }
            return (Math.Sqrt(se / n), path);
        }

        /// <summary>Mean angle (degrees) of (R_gt,i^-1 R_gt,i+1)^-1 (R_est,i^-1 R_est,i+1) over consecutive frames.</summary>
        public static double RelativeRotationErrorDeg(IReadOnlyList<CameraPose> est, IReadOnlyList<CameraPose> gt)
        {
            if (est.Count < 2) return 0;
            double s = 0;
            for (int i = 1; i < est.Count; i++)
            {
                var re = Rot(est[i - 1]).Inverse().Compose(Rot(est[i]));
                var rg = Rot(gt[i - 1]).Inverse().Compose(Rot(gt[i]));
                s += rg.Inverse().Compose(re).RotationAngle();
            }
            return s / (est.Count - 1) * 180 / Math.PI;
        }

        /// <summary>Largest distance of any camera centre from the first (drift of a camera that should stand still).</summary>
        public static double MaxCentreDistance(IReadOnlyList<CameraPose> est) => est.Count == 0 ? 0 : est.Max(p => Dist(p.Center, est[0].Center));

        private static CameraPose Rot(CameraPose p) => new CameraPose(p.Rotation, new double[3]);

        private static double Dist((double X, double Y, double Z) a, (double X, double Y, double Z) b) =>
            Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));

        /// <summary>y ~ c R x + t (least squares).</summary>
        public static (double[] R, double C, double[] T) Sim3(IReadOnlyList<(double X, double Y, double Z)> x, IReadOnlyList<(double X, double Y, double Z)> y)
        {
            int n = x.Count;
            double mx0 = x.Average(p => p.X), mx1 = x.Average(p => p.Y), mx2 = x.Average(p => p.Z);
            double my0 = y.Average(p => p.X), my1 = y.Average(p => p.Y), my2 = y.Average(p => p.Z);
            var S = new double[9]; double vx = 0;
            for (int i = 0; i < n; i++)
            {
                var a = new[] { x[i].X - mx0, x[i].Y - mx1, x[i].Z - mx2 };
                var b = new[] { y[i].X - my0, y[i].Y - my1, y[i].Z - my2 };
                for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) S[r * 3 + c] += a[r] * b[c]; // S = sum a b^T
                vx += a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
            }
            // Horn: N from S; the eigenvector of the largest eigenvalue is the rotation quaternion (w, x, y, z) taking a to b.
            double Sxx = S[0], Sxy = S[1], Sxz = S[2], Syx = S[3], Syy = S[4], Syz = S[5], Szx = S[6], Szy = S[7], Szz = S[8];
            var N = new double[,]
            {
                { Sxx + Syy + Szz, Syz - Szy, Szx - Sxz, Sxy - Syx },
                { Syz - Szy, Sxx - Syy - Szz, Sxy + Syx, Szx + Sxz },
                { Szx - Sxz, Sxy + Syx, -Sxx + Syy - Szz, Syz + Szy },
                { Sxy - Syx, Szx + Sxz, Syz + Szy, -Sxx - Syy + Szz },
            };
            var q = LargestEigenvector(N);
            var R = CameraPose.FromQuaternion(q[1], q[2], q[3], q[0], 0, 0, 0).Rotation;
            double num = 0;
            for (int i = 0; i < n; i++)
            {
                double a0 = x[i].X - mx0, a1 = x[i].Y - mx1, a2 = x[i].Z - mx2;
                double b0 = y[i].X - my0, b1 = y[i].Y - my1, b2 = y[i].Z - my2;
                num += b0 * (R[0] * a0 + R[1] * a1 + R[2] * a2) + b1 * (R[3] * a0 + R[4] * a1 + R[5] * a2) + b2 * (R[6] * a0 + R[7] * a1 + R[8] * a2);
            }
            double scale = vx > 1e-300 ? num / vx : 1;
            var t = new[]
            {
                my0 - scale * (R[0] * mx0 + R[1] * mx1 + R[2] * mx2),
                my1 - scale * (R[3] * mx0 + R[4] * mx1 + R[5] * mx2),
                my2 - scale * (R[6] * mx0 + R[7] * mx1 + R[8] * mx2),
            };
            return (R, scale, t);
        }

        /// <summary>Cyclic Jacobi eigenvalue iteration on a symmetric 4x4 matrix; returns the unit eigenvector of the largest eigenvalue.</summary>
        private static double[] LargestEigenvector(double[,] a0)
        {
            var a = (double[,])a0.Clone();
            var v = new double[4, 4];
            for (int i = 0; i < 4; i++) v[i, i] = 1;
            for (int sweep = 0; sweep < 50; sweep++)
            {
                double off = 0;
                for (int p = 0; p < 4; p++) for (int q = p + 1; q < 4; q++) off += a[p, q] * a[p, q];
                if (off < 1e-30) break;
                for (int p = 0; p < 4; p++)
                    for (int q = p + 1; q < 4; q++)
                    {
                        if (Math.Abs(a[p, q]) < 1e-300) continue;
                        double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                        double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                        if (theta == 0) t = 1;
                        double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                        for (int k = 0; k < 4; k++)
                        {
                            double akp = a[k, p], akq = a[k, q];
                            a[k, p] = c * akp - s * akq; a[k, q] = s * akp + c * akq;
                        }
                        for (int k = 0; k < 4; k++)
                        {
                            double apk = a[p, k], aqk = a[q, k];
                            a[p, k] = c * apk - s * aqk; a[q, k] = s * apk + c * aqk;
                        }
                        for (int k = 0; k < 4; k++)
                        {
                            double vkp = v[k, p], vkq = v[k, q];
                            v[k, p] = c * vkp - s * vkq; v[k, q] = s * vkp + c * vkq;
                        }
                    }
            }
            int best = 0;
            for (int i = 1; i < 4; i++) if (a[i, i] > a[best, best]) best = i;
            var e = new[] { v[0, best], v[1, best], v[2, best], v[3, best] };
            double nrm = Math.Sqrt(e.Sum(z => z * z));
            return e.Select(z => z / nrm).ToArray();
        }
    }
}
