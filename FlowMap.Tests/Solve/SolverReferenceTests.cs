using System;
using FlowMap.Solve;
using Xunit;

namespace FlowMap.Tests.Solve
{
    /// <summary>The double-precision reference: Procrustes forward and backward, and the whole loss gradient, against finite differences.</summary>
    public sealed class SolverReferenceTests
    {
        private static double[] RandomRotation(Random rng, double maxAngle)
        {
            double ax = rng.NextDouble() - 0.5, ay = rng.NextDouble() - 0.5, az = rng.NextDouble() - 0.5;
            double n = Math.Sqrt(ax * ax + ay * ay + az * az), ang = maxAngle * rng.NextDouble();
            var q = CameraPose.FromQuaternion(ax / n * Math.Sin(ang / 2), ay / n * Math.Sin(ang / 2), az / n * Math.Sin(ang / 2), Math.Cos(ang / 2), 0, 0, 0);
            return q.Rotation;
        }

        private static double[] Sums(double[][] x, double[][] y, double[] w)
        {
            var s = new double[Procrustes.SumCount];
            for (int k = 0; k < w.Length; k++)
            {
                s[0] += w[k];
                for (int a = 0; a < 3; a++) { s[1 + a] += w[k] * x[k][a]; s[4 + a] += w[k] * y[k][a]; }
                for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) s[7 + a * 3 + b] += w[k] * x[k][a] * y[k][b];
            }
            return s;
        }

        [Fact]
        public void Procrustes_recovers_a_known_rigid_transform_including_large_rotations()
        {
            var rng = new Random(5);
            for (int trial = 0; trial < 50; trial++)
            {
                var r = RandomRotation(rng, Math.PI * 0.99);
                var t = new[] { rng.NextDouble(), rng.NextDouble() - 0.5, rng.NextDouble() * 2 };
                int n = 20;
                var x = new double[n][]; var y = new double[n][]; var w = new double[n];
                for (int k = 0; k < n; k++)
                {
                    x[k] = new[] { rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1, 1 + rng.NextDouble() * 3 };
                    y[k] = new double[3];
                    for (int a = 0; a < 3; a++) y[k][a] = r[a * 3] * x[k][0] + r[a * 3 + 1] * x[k][1] + r[a * 3 + 2] * x[k][2] + t[a];
                    w[k] = 0.1 + rng.NextDouble();
                }
                var fit = Procrustes.Solve(Sums(x, y, w));
                for (int i = 0; i < 9; i++) Assert.True(Math.Abs(fit.R[i] - r[i]) < 1e-9, $"trial {trial}: R[{i}] {fit.R[i]} vs {r[i]}");
                for (int i = 0; i < 3; i++) Assert.True(Math.Abs(fit.T[i] - t[i]) < 1e-9, $"trial {trial}: t[{i}] {fit.T[i]} vs {t[i]}");
            }
        }

        [Fact]
        public void Procrustes_backward_matches_finite_differences()
        {
            var rng = new Random(11);
            for (int trial = 0; trial < 20; trial++)
            {
                int n = 12;
                var x = new double[n][]; var y = new double[n][]; var w = new double[n];
                var r = RandomRotation(rng, 1.0);
                for (int k = 0; k < n; k++)
                {
                    x[k] = new[] { rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1, 1 + rng.NextDouble() * 3 };
                    y[k] = new double[3];
                    for (int a = 0; a < 3; a++) y[k][a] = r[a * 3] * x[k][0] + r[a * 3 + 1] * x[k][1] + r[a * 3 + 2] * x[k][2] + 0.3 * (rng.NextDouble() - 0.5);
                    w[k] = 0.1 + rng.NextDouble();
                }
                // A random linear function of R and t.
                var gR = new double[9]; var gT = new double[3];
                for (int i = 0; i < 9; i++) gR[i] = rng.NextDouble() - 0.5;
                for (int i = 0; i < 3; i++) gT[i] = rng.NextDouble() - 0.5;
                double L(double[][] xx, double[][] yy)
                {
                    var f = Procrustes.Solve(Sums(xx, yy, w));
                    double s = 0;
                    for (int i = 0; i < 9; i++) s += gR[i] * f.R[i];
                    for (int i = 0; i < 3; i++) s += gT[i] * f.T[i];
                    return s;
                }
                var fit = Procrustes.Solve(Sums(x, y, w));
                var gC = new double[9]; var gMuX = new double[3]; var gMuY = new double[3];
                Procrustes.Backward(fit, gR, gT, gC, gMuX, gMuY);
                // Analytic dL/dX_k and dL/dY_k, as in SolverReference.ProcrustesPointsBackward.
                for (int k = 0; k < n; k++)
                    for (int a = 0; a < 3; a++)
                    {
                        double gx = 0, gy = 0;
                        for (int b = 0; b < 3; b++)
                        {
                            gx += gC[a * 3 + b] * (y[k][b] - fit.MuY[b]);
                            gy += gC[b * 3 + a] * (x[k][b] - fit.MuX[b]);
                        }
                        gx = w[k] * (gx + gMuX[a] / fit.Weight);
                        gy = w[k] * (gy + gMuY[a] / fit.Weight);
                        const double h = 1e-6;
                        double old = x[k][a];
                        x[k][a] = old + h; double lp = L(x, y); x[k][a] = old - h; double lm = L(x, y); x[k][a] = old;
                        double fdx = (lp - lm) / (2 * h);
                        old = y[k][a];
                        y[k][a] = old + h; lp = L(x, y); y[k][a] = old - h; lm = L(x, y); y[k][a] = old;
                        double fdy = (lp - lm) / (2 * h);
                        Assert.True(Math.Abs(fdx - gx) < 1e-6 + 1e-5 * Math.Abs(fdx), $"trial {trial} X[{k}][{a}]: analytic {gx} vs FD {fdx}");
                        Assert.True(Math.Abs(fdy - gy) < 1e-6 + 1e-5 * Math.Abs(fdy), $"trial {trial} Y[{k}][{a}]: analytic {gy} vs FD {fdy}");
                    }
            }
        }

        [Fact]
        public void Procrustes_backward_stays_finite_for_a_degenerate_planar_set()
        {
            // Collinear points: two singular values are zero, the rotation about the line is undetermined.
            int n = 6;
            var x = new double[n][]; var y = new double[n][]; var w = new double[n];
            for (int k = 0; k < n; k++) { x[k] = new double[] { k, 0, 1 }; y[k] = new double[] { k, 0, 1.5 }; w[k] = 1; }
            var fit = Procrustes.Solve(Sums(x, y, w));
            var gC = new double[9]; var gMuX = new double[3]; var gMuY = new double[3];
            Procrustes.Backward(fit, new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, new double[] { 1, 1, 1 }, gC, gMuX, gMuY);
            foreach (var v in gC) Assert.False(double.IsNaN(v) || double.IsInfinity(v), "guarded backward must be finite");
        }

        internal static SolverProblem Problem(AnalyticScene scene, SolverTuning? tuning = null, bool prior = false)
        {
            var window = scene.Window;
            if (prior)
            {
                var pr = new FloatImage[scene.Depth.Length];
                for (int i = 0; i < pr.Length; i++)
                {
                    var d = new float[scene.Depth[i].Length];
                    for (int j = 0; j < d.Length; j++) d[j] = (float)(3.0 / scene.Depth[i][j] + 0.2); // affine in true inverse depth
                    pr[i] = new FloatImage(scene.Width, scene.Height, d);
                }
                window = new SolverWindow(window.Images, window.Pairs, pr);
            }
            return new SolverProblem(window, tuning ?? new SolverTuning());
        }

        [Theory]
        [InlineData(true, false)]
        [InlineData(false, false)]
        [InlineData(true, true)]
        public void Loss_gradient_matches_finite_differences(bool throughPoses, bool prior)
        {
            var scene = new AnalyticScene(37, 23, 3, 30, "walk", seed: 3);
            var tuning = new SolverTuning { Cell = 6, HuberDelta = 0.02 };
            var p = Problem(scene, tuning, prior);
            var rng = new Random(7);
            var prm = new double[p.ParamCount];
            for (int i = 0; i < p.N * p.Nodes; i++) prm[i] = -1 + 0.3 * (rng.NextDouble() - 0.5);
            if (prior) for (int fr = 0; fr < p.N; fr++) { prm[p.ScaleOffset(fr)] = -1.2 + 0.1 * fr; prm[p.ShiftOffset(fr)] = 0.05; }
            double f = 28;
            prm[p.FocalOffset] = Math.Log(f);
            var ev = SolverReference.Evaluate(p, prm, f, throughPoses);
            // Stop-gradient variant: FD of the loss with the poses frozen at their current value.
            var frozen = ev.Fits;
            double Loss(double[] q)
            {
                double fq = Math.Exp(q[p.FocalOffset]);
                if (throughPoses) return SolverReference.Evaluate(p, q, fq, true, gradient: false).Loss;
                var z = SolverReference.Depths(p, q);
                double s = 0;
                for (int k = 0; k < p.N - 1; k++) s += SolverReference.FlowLoss(p, k, z[k], z[k + 1], frozen[k].R, frozen[k].T, fq, gradient: false).Loss;
                return s + SolverReference.Smoothness(p, q, new double[p.ParamCount]);
            }
            var idx = new System.Collections.Generic.List<int> { p.FocalOffset };
            for (int t = 0; t < 25; t++) idx.Add(rng.Next(0, p.N * p.Nodes));
            if (prior) { idx.Add(p.ScaleOffset(1)); idx.Add(p.ShiftOffset(2)); }
            double gmax = 0;
            foreach (var g in ev.Grad) gmax = Math.Max(gmax, Math.Abs(g));
            foreach (int i in idx)
            {
                const double h = 1e-5;
                var q = (double[])prm.Clone();
                q[i] = prm[i] + h; double lp = Loss(q);
                q[i] = prm[i] - h; double lm = Loss(q);
                double fd = (lp - lm) / (2 * h);
                Assert.True(Math.Abs(fd - ev.Grad[i]) < 1e-4 * gmax + 1e-4 * Math.Abs(fd),
                    $"param {i} (focal at {p.FocalOffset}): analytic {ev.Grad[i]:E6} vs FD {fd:E6} (max |g| {gmax:E3})");
            }
        }
    }
}
