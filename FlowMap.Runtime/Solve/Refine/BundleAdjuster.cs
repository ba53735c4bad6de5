using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace FlowMap.Solve.Refine
{
    /// <summary>Linearises a bundle problem at a state (CPU reference or GPU kernels): <see cref="BundleLinearization"/>'s
    /// records (cost sums always, blocks and per-pixel values when <c>jacobians</c>).</summary>
    internal interface IBundleLinearizer : IDisposable
    {
        void Linearize(BundleState s, BundleRobust kind, double robustPx, BundleLinearization into, bool jacobians);
    }

    internal sealed class CpuBundleLinearizer : IBundleLinearizer
    {
        private readonly BundleProblem _p;
        public CpuBundleLinearizer(BundleProblem p) { _p = p; }
        public void Linearize(BundleState s, BundleRobust kind, double robustPx, BundleLinearization into, bool jacobians) =>
            BundleLinearization.Compute(_p, s, kind, robustPx, into, jacobians);
        public void Dispose() { }
    }

    /// <summary>
    /// Dense multi-view bundle adjustment over a graph of keyframe pairs (DROID-SLAM's dense BA, Teed and Deng 2021,
    /// with FlowMap's flow as the observation and a self-calibrated SIMPLE_RADIAL camera). Levenberg-Marquardt on the
    /// robust (IRLS) cost sum conf rho(|r|) of <see cref="BundleModel"/>'s residuals:
    ///  1. Linearise every edge (<see cref="BundleLinearization"/>): per-edge pose/intrinsics blocks and per-pixel E, C, g_d.
    ///  2. Camera block x_c = (pose increments of the free keyframes, 6 each; log f; k1): H_cc from the edge records.
    ///     Inverse depths are eliminated by the Schur complement (each touches only its own keyframe's residuals, so its
    ///     block is the scalar C): S = H_cc - sum_d e_d e_d^T / C_d, b = g_c - sum_d e_d g_d / C_d, with Marquardt damping
    ///     H_ii (1 + lambda) on both camera and depth diagonals.
    ///  3. Solve S dx_c = -b by dense Cholesky; back-substitute d rho_d = -(g_d + e_d . dx_c) / C_d.
    ///  0. With the Cauchy loss the first iterations use Huber until they have converged (<see cref="BundleOptions.WarmStartHuber"/>).
    ///  4. Retract (poses T Exp(delta), log f, k1, rho clamped to at least 1/10 of its old value and 1e-3 of the keyframe's starting median), evaluate the true robust
    ///     cost, accept (lambda / 3) or reject (lambda x 4, re-solve).
    /// Gauge: the first <see cref="BundleOptions.FixedKeyframes"/> poses are fixed. With exactly one fixed pose the scale
    /// is free; it is fixed by the distance between the camera centres of keyframe 0 and the first free keyframe (the
    /// anchor): a stiff prior on the anchor's translation along that baseline in the linear system, and an exact
    /// rescaling of all centres about keyframe 0 and of all inverse depths after each accepted step, so the baseline
    /// keeps its starting length. The rescaling leaves every residual unchanged.
    /// </summary>
    internal static class BundleAdjuster
    {
        public static BundleResult Refine(BundleProblem p, BundleState start, BundleOptions o, FlowMap.Gpu.GpuContext? gpu = null, CancellationToken token = default)
        {
            if (p == null) throw new ArgumentNullException(nameof(p));
            if (o == null) throw new ArgumentNullException(nameof(o));
            Validate(p, start, o);
            IBundleLinearizer lin = o.UseGpu
                ? new GpuBundleLinearizer(gpu ?? throw new ArgumentException("BundleOptions.UseGpu needs a GpuContext."), p, o)
                : new CpuBundleLinearizer(p);
            try { return Run(p, start.Clone(), o, lin, token); }
            finally { lin.Dispose(); }
        }

        private static void Validate(BundleProblem p, BundleState s, BundleOptions o)
        {
            if (s == null) throw new ArgumentNullException(nameof(s));
            if (s.Poses == null || s.Poses.Length != p.Keyframes) throw new ArgumentException($"The start state needs {p.Keyframes} poses.");
            if (s.InverseDepth == null || s.InverseDepth.Length != p.Keyframes) throw new ArgumentException($"The start state needs {p.Keyframes} inverse-depth grids.");
            for (int k = 0; k < p.Keyframes; k++)
            {
                if (s.InverseDepth[k] == null || s.InverseDepth[k].Length != p.Cells)
                    throw new ArgumentException($"Inverse depth of keyframe {k} must have {p.Gw}x{p.Gh} = {p.Cells} values.");
                foreach (var v in s.InverseDepth[k])
                    if (!(v > 0) || double.IsInfinity(v)) throw new ArgumentException($"Inverse depth of keyframe {k} must be positive and finite.");
            }
            if (!(s.Focal > 0) || double.IsInfinity(s.Focal)) throw new ArgumentException("The start focal must be positive.");
            if (double.IsNaN(s.K1) || double.IsInfinity(s.K1)) throw new ArgumentException("The start k1 must be finite.");
            if (o.FixedKeyframes < 1 || o.FixedKeyframes > p.Keyframes) throw new ArgumentException($"FixedKeyframes must be in 1..{p.Keyframes} (the gauge needs one fixed pose).");
            if (o.Iterations < 0 || !(o.RobustPx > 0)) throw new ArgumentException("Iterations must be >= 0 and RobustPx > 0.");
        }

        private sealed class Layout
        {
            public int[] Slot = Array.Empty<int>();   // pose k -> offset of its 6 columns in the camera block, -1 when fixed
            public int LogF = -1, K1 = -1, N;
        }

        private static Layout LayoutOf(BundleProblem p, BundleOptions o)
        {
            var L = new Layout { Slot = new int[p.Keyframes] };
            int n = 0;
            for (int k = 0; k < p.Keyframes; k++) { L.Slot[k] = k < o.FixedKeyframes ? -1 : n; if (k >= o.FixedKeyframes) n += 6; }
            if (o.RefineFocal) L.LogF = n++;
            if (o.RefineK1) L.K1 = n++;
            L.N = n;
            return L;
        }

        private static List<int>[] BySource(BundleProblem p)
        {
            var bySource = new List<int>[p.Keyframes];
            for (int k = 0; k < p.Keyframes; k++) bySource[k] = new List<int>();
            for (int e = 0; e < p.Edges.Count; e++) bySource[p.Edges[e].I].Add(e);
            return bySource;
        }

        /// <summary>
        /// One damped step at <paramref name="s"/> as an iteration takes it (CPU linearisation with Jacobians, the Schur
        /// complement, Cholesky, back-substitution), without the scale anchor (<see cref="BundleOptions.FixedKeyframes"/> of
        /// at least 2): the camera block's step and each keyframe's inverse-depth steps, and the linearisation (for tests
        /// against a dense solve of the same system). False when the reduced system is not positive definite.
        /// </summary>
        internal static bool Step(BundleProblem p, BundleState s, BundleOptions o, double lambda, out double[] dx, out double[][] dRho, out BundleLinearization lin)
        {
            if (o.FixedKeyframes < 2) throw new ArgumentException("Step is without the scale anchor: fix at least 2 keyframes.");
            var L = LayoutOf(p, o);
            var bySource = BySource(p);
            lin = new BundleLinearization(p.Edges.Count, p.Cells);
            BundleLinearization.Compute(p, s, o.Robust, o.RobustPx, lin, true);
            var red = new Reduction(p.Keyframes);
            Reduce(p, L, lin, bySource, red);
            dx = new double[L.N];
            dRho = new double[p.Keyframes][];
            for (int k = 0; k < p.Keyframes; k++) dRho[k] = new double[p.Cells];
            return Solve(p, s, L, lin, bySource, red, lambda, -1, new double[L.N * L.N], new double[L.N], dx, new double[L.N], dRho);
        }

        private static BundleResult Run(BundleProblem p, BundleState s, BundleOptions o, IBundleLinearizer linz, CancellationToken token)
        {
            var L = LayoutOf(p, o);
            int n = L.N;
            var bySource = BySource(p);

            // Scale gauge (see the class summary).
            int anchor = o.FixedKeyframes == 1 && p.Keyframes > 1 ? 1 : -1;
            double baseline0 = anchor > 0 ? Baseline(s, anchor) : 0;
            if (anchor > 0 && !(baseline0 > 1e-12)) anchor = -1;

            // Inverse-depth floor per keyframe: 1e-3 of its starting median (a point 1000x farther than the typical one).
            // A depth whose only observations are outliers may otherwise run off to infinity step by step.
            var floor = new double[p.Keyframes];
            for (int k = 0; k < p.Keyframes; k++)
            {
                var sorted = (double[])s.InverseDepth[k].Clone();
                Array.Sort(sorted);
                floor[k] = 1e-3 * sorted[sorted.Length / 2];
            }

            var swLin = new Stopwatch(); var swSolve = new Stopwatch(); var swCost = new Stopwatch();
            var lin = new BundleLinearization(p.Edges.Count, p.Cells);
            var trialLin = new BundleLinearization(p.Edges.Count, 0);
            swCost.Start(); linz.Linearize(s, o.Robust, o.RobustPx, trialLin, false); swCost.Stop();
            var result = new BundleResult { Problem = p, InitialRmsPx = trialLin.RmsPx, InitialCost = trialLin.Cost };
            // Cauchy starts with Huber (convex in the residual, bounded influence) until that stage has converged (a step
            // lowers the cost by less than LevelTolerance, or no step is accepted): a depth cannot lock onto an outlier
            // before the inliers have pulled it in (graduated non-convexity, Black and Rangarajan 1996).
            var kind = o.Robust == BundleRobust.Cauchy && o.WarmStartHuber ? BundleRobust.Huber : o.Robust;
            double c = o.RobustPx;
            var focals = new List<double> { s.Focal };
            var costs = new List<double> { trialLin.Cost };
            var trace = new List<string>();
            double lambda = o.InitialDamping;
            int iterations = 0, scaleUpdates = 0;
            var S = new double[n * n]; var b = new double[n]; var dx = new double[n];
            var diag = new double[n];
            var dRho = new double[p.Keyframes][];
            for (int k = 0; k < p.Keyframes; k++) dRho[k] = new double[p.Cells];
            var reduction = new Reduction(p.Keyframes);

            for (int it = 0; it < o.Iterations && n > 0; it++)
            {
                token.ThrowIfCancellationRequested();
                iterations++;
                bool final = kind == o.Robust;
                swLin.Start(); linz.Linearize(s, kind, c, lin, true); swLin.Stop();
                swSolve.Start(); Reduce(p, L, lin, bySource, reduction); swSolve.Stop();
                double cost = lin.Cost;
                bool accepted = false;
                double rel = 1, trialCostAccepted = double.NaN;
                for (int retry = 0; retry <= o.MaxRetries && !accepted; retry++)
                {
                    swSolve.Start();
                    bool solved = Solve(p, s, L, lin, bySource, reduction, lambda, anchor, S, b, dx, diag, dRho);
                    swSolve.Stop();
                    if (!solved) { lambda *= 10; continue; }
                    var trial = Apply(p, s, L, dx, dRho, anchor, baseline0, floor);
                    swCost.Start(); linz.Linearize(trial, kind, c, trialLin, false); swCost.Stop();
                    double tc = trialLin.Cost;
                    if (tc < cost)
                    {
                        rel = (cost - tc) / Math.Max(cost, 1e-300);
                        s = trial; accepted = true; trialCostAccepted = tc;
                        lambda = Math.Max(lambda / 3, 1e-9);
                    }
                    else lambda *= 4;
                }
                focals.Add(s.Focal);
                if (!final && (!accepted || rel < o.LevelTolerance)) kind = o.Robust;
                trace.Add($"it {it} {kind} cost {cost:G6} -> {(accepted ? trialCostAccepted : double.NaN):G6} lambda {lambda:G3} f {s.Focal:F3}");
                if (!final) continue;
                // With ScaleFromResiduals the scale is one more level of the graduation: converged at c to the level tolerance,
                // the fit continues at the scale of the flow's noise while that is smaller by a tenth, then to the end there.
                bool scaling = o.ScaleFromResiduals && o.Robust == BundleRobust.Cauchy && scaleUpdates < o.MaxScaleUpdates;
                if (accepted && rel >= (scaling ? o.LevelTolerance : o.RelativeTolerance)) continue;
                if (!scaling) break;
                double fitted = Math.Max(o.MinRobustPx, Math.Min(o.RobustPx, CauchyEfficiency * NoiseSigma(p, s)));
                if (fitted < 0.9 * c)
                {
                    trace.Add($"scale {c:G4} -> {fitted:G4} px");
                    c = fitted; scaleUpdates++;
                }
                else scaleUpdates = o.MaxScaleUpdates; // settled: on to the end at c
            }
            swLin.Start(); linz.Linearize(s, o.Robust, o.RobustPx, lin, true); swLin.Stop();
            double finalCost = lin.Cost;
            costs.Add(finalCost);

            result.State = s;
            result.FinalCost = finalCost;
            double confSum = lin.ConfidenceSum;
            result.FinalMeanCost = confSum > 0 ? finalCost / confSum : double.PositiveInfinity;
            result.FinalRmsPx = lin.RmsPx;
            result.Iterations = iterations;
            result.FocalHistory = focals.ToArray();
            result.CostHistory = costs.ToArray();
            result.Trace = trace.ToArray();
            result.CellConfidence = CellConfidence(p, lin, bySource);
            result.LinearizeMs = swLin.Elapsed.TotalMilliseconds;
            result.SolveMs = swSolve.Elapsed.TotalMilliseconds;
            result.CostMs = swCost.Elapsed.TotalMilliseconds;
            return result;
        }

        /// <summary>
        /// The Cauchy scale of 95 % asymptotic efficiency at Gaussian noise, in units of the noise's standard deviation
        /// (Holland and Welsch 1977, "Robust regression using iteratively reweighted least-squares").
        /// </summary>
        public const double CauchyEfficiency = 2.385;

        /// <summary>
        /// The per-axis standard deviation of the inliers' reprojection errors at <paramref name="s"/>: the lower quartile of
        /// the error norms (weighted by the observations' confidence) over the quartile of the norm of a 2-D Gaussian
        /// error (Rayleigh: sigma sqrt(-2 ln 0.75) = 0.7585 sigma). A lower quartile stays a statistic of the inliers with
        /// up to three quarters of outliers, an upper bound of their sigma that grows with the outliers' share (1.55 sigma
        /// with half of them): the flow's errors are heavy-tailed (ICL-NUIM's keyframe pairs: lower quartile 0.14 px, median
        /// 0.38 px, upper quartile 1.9 px), so the median would already measure the outliers. NaN when no observation
        /// projects (the scale then stays).
        /// </summary>
        internal static double NoiseSigma(BundleProblem p, BundleState s)
        {
            var perEdge = new (float Norm, float Conf)[p.Edges.Count][];
            System.Threading.Tasks.Parallel.For(0, p.Edges.Count, e =>
            {
                var ed = p.Edges[e]; var obs = p.Obs[e];
                Span<double> R = stackalloc double[9]; Span<double> t = stackalloc double[3];
                BundleModel.Relative(s.Poses[ed.I], s.Poses[ed.J], R, t);
                var list = new List<(float, float)>();
                for (int c = 0; c < p.Cells; c++)
                {
                    float conf = obs[4 * c + 2];
                    if (!(conf > 0)) continue;
                    double u = p.Stride * (c % p.Gw) + (p.Stride - 1) / 2.0, v = p.Stride * (c / p.Gw) + (p.Stride - 1) / 2.0;
                    if (BundleModel.Residual(R, t, p.PrincipalX, p.PrincipalY, s.Focal, s.K1, u, v, s.InverseDepth[ed.I][c], obs[4 * c], obs[4 * c + 1], out double rx, out double ry, Span<double>.Empty))
                        list.Add(((float)Math.Sqrt(rx * rx + ry * ry), conf));
                }
                perEdge[e] = list.ToArray();
            });
            var all = new List<(float Norm, float Conf)>();
            foreach (var a in perEdge) all.AddRange(a);
            if (all.Count == 0) return double.NaN;
            all.Sort((a, b) => a.Norm.CompareTo(b.Norm));
            double total = 0;
            foreach (var a in all) total += a.Conf;
            double acc = 0;
            foreach (var a in all)
            {
                acc += a.Conf;
                if (acc >= 0.25 * total) return a.Norm / Math.Sqrt(-2 * Math.Log(0.75));
            }
            return all[all.Count - 1].Norm / Math.Sqrt(-2 * Math.Log(0.75));
        }

        private static double Baseline(BundleState s, int anchor)
        {
            double dx = s.Poses[anchor].T(0) - s.Poses[0].T(0), dy = s.Poses[anchor].T(1) - s.Poses[0].T(1), dz = s.Poses[anchor].T(2) - s.Poses[0].T(2);
            return Math.Sqrt(dx * dx + dy * dy + dz * dz);
        }

        private static float[][] CellConfidence(BundleProblem p, BundleLinearization lin, List<int>[] bySource)
        {
            var res = new float[p.Keyframes][];
            for (int k = 0; k < p.Keyframes; k++)
            {
                res[k] = new float[p.Cells];
                if (bySource[k].Count == 0) continue;
                for (int c = 0; c < p.Cells; c++)
                {
                    double sum = 0;
                    foreach (int e in bySource[k]) sum += lin.Pixels[e][c * BundleLinearization.PixelWidth + BundleLinearization.PixW];
                    res[k][c] = (float)Math.Min(1, Math.Max(0, sum / bySource[k].Count));
                }
            }
            return res;
        }

        /// <summary>Steps 2-3: the damped reduced camera system and the back-substituted depth steps. False when S is not positive definite.</summary>
        private static bool Solve(BundleProblem p, BundleState s, Layout L, BundleLinearization lin, List<int>[] bySource, Reduction red, double lambda, int anchor,
            double[] S, double[] b, double[] dx, double[] diag, double[][] dRho)
        {
            int n = L.N;
            Array.Clear(S, 0, S.Length); Array.Clear(b, 0, b.Length);
            Span<int> map = stackalloc int[14];
            for (int e = 0; e < p.Edges.Count; e++)
            {
                var rec = lin.Records[e];
                MapEdge(p, L, e, map);
                for (int a = 0; a < 12; a++)
                {
                    int ga = map[a]; if (ga < 0) continue;
                    for (int c = 0; c < 12; c++)
                    {
                        int gc = map[c]; if (gc < 0) continue;
                        S[ga * n + gc] += rec[BundleLinearization.Upper(Math.Min(a, c), Math.Max(a, c))];
                    }
                    for (int c = 0; c < 2; c++)
                    {
                        int gc = map[12 + c]; if (gc < 0) continue;
                        double v = rec[BundleLinearization.OffHpc + 2 * a + c];
                        S[ga * n + gc] += v; S[gc * n + ga] += v;
                    }
                    b[ga] += rec[BundleLinearization.OffGp + a];
                }
                for (int c = 0; c < 2; c++)
                {
                    int gc = map[12 + c]; if (gc < 0) continue;
                    for (int d = 0; d < 2; d++)
                    {
                        int gd = map[12 + d]; if (gd < 0) continue;
                        S[gc * n + gd] += rec[BundleLinearization.OffHcc + (c == 0 ? d : 1 + d)];
                    }
                    b[gc] += rec[BundleLinearization.OffGc + c];
                }
            }
            double meanDiag = 0;
            for (int i = 0; i < n; i++) { diag[i] = S[i * n + i]; meanDiag += diag[i]; }
            meanDiag = Math.Max(meanDiag / Math.Max(1, n), 1e-300);
            for (int i = 0; i < n; i++) S[i * n + i] += lambda * Math.Max(diag[i], 1e-6 * meanDiag) + 1e-12 * meanDiag;
            if (anchor > 0 && L.Slot[anchor] >= 0)
            {
                // Stiff prior: the anchor's centre does not move along the baseline, d c_a = R_a v_a, h = R_a^T (c_a - c_0) / |..|.
                var pa = s.Poses[anchor];
                double bx = pa.T(0) - s.Poses[0].T(0), by = pa.T(1) - s.Poses[0].T(1), bz = pa.T(2) - s.Poses[0].T(2);
                double bn = Math.Sqrt(bx * bx + by * by + bz * bz);
                Span<double> h = stackalloc double[3];
                for (int k = 0; k < 3; k++) h[k] = (pa.R(0, k) * bx + pa.R(1, k) * by + pa.R(2, k) * bz) / bn;
                double mu = 1e6 * meanDiag;
                int o0 = L.Slot[anchor];
                for (int a = 0; a < 3; a++) for (int c = 0; c < 3; c++) S[(o0 + a) * n + o0 + c] += mu * h[a] * h[c];
            }

            // Schur complement of the inverse depths (their sums are the linearisation's, the damping scales them):
            // S -= Q_k / (1 + lambda), b -= r_k / (1 + lambda), lower triangle (all the Cholesky reads).
            double undamp = 1 / (1 + lambda);
            for (int k = 0; k < p.Keyframes; k++)
            {
                var pat = red.Pattern[k];
                var q = red.Q[k];
                var r = red.R[k];
                int m = pat.Length;
                for (int a = 0; a < m; a++)
                {
                    int row = pat[a] * n;
                    for (int c = 0; c <= a; c++) S[row + pat[c]] -= undamp * q[a * m + c];
                    b[pat[a]] -= undamp * r[a];
                }
            }
            // Cholesky S = L L^T in place (lower triangle).
            if (!Cholesky(S, n)) return false;
            for (int i = 0; i < n; i++) dx[i] = -b[i];
            CholeskySolve(S, n, dx);
            // Back-substitution: d rho = -(g_d + e_d . dx) / (C_d (1 + lambda)), e_d . dx summed edge by edge.
            var step = Array.Empty<double>();
            for (int k = 0; k < p.Keyframes; k++)
            {
                Array.Clear(dRho[k], 0, dRho[k].Length);
                var outE = bySource[k];
                if (outE.Count == 0) continue;
                // Per edge its camera-block step as 14 values (0 where a column is not a variable): e_d . dx per cell.
                if (step.Length < 14 * outE.Count) step = new double[14 * outE.Count];
                for (int i = 0; i < outE.Count; i++)
                {
                    MapEdge(p, L, outE[i], map);
                    for (int a = 0; a < 14; a++) step[14 * i + a] = map[a] >= 0 ? dx[map[a]] : 0;
                }
                for (int cell = 0; cell < p.Cells; cell++)
                {
                    var (C, g) = CellSums(lin, outE, cell);
                    if (!(C > 0)) continue;
                    int b0 = cell * BundleLinearization.PixelWidth;
                    double dot = 0;
                    for (int i = 0; i < outE.Count; i++)
                    {
                        var px = lin.Pixels[outE[i]];
                        for (int a = 0; a < 14; a++) dot += px[b0 + a] * step[14 * i + a];
                    }
                    dRho[k][cell] = -(g + dot) / (C * (1 + lambda));
                }
            }
            return true;
        }

        /// <summary>
        /// The Schur complement's sums of one linearisation, which the damping only scales: per keyframe the camera-block
        /// columns its depth variables touch (ascending) and, over its cells with C_d &gt; 0, Q = sum e_d e_d^T / C_d (lower
        /// triangle, compact m x m) and r = sum e_d g_d / C_d. Computed once per linearisation (LM's retries reuse it), the
        /// keyframes in parallel.
        /// </summary>
        private sealed class Reduction
        {
            public Reduction(int keyframes) { Pattern = new int[keyframes][]; Q = new double[keyframes][]; R = new double[keyframes][]; }
            public readonly int[][] Pattern;
            public readonly double[][] Q, R;
            private readonly System.Collections.Concurrent.ConcurrentBag<Columns> _work = new System.Collections.Concurrent.ConcurrentBag<Columns>();
            public Columns Rent() => _work.TryTake(out var c) ? c : new Columns();
            public void Return(Columns c) => _work.Add(c);
        }

        private static void Reduce(BundleProblem p, Layout L, BundleLinearization lin, List<int>[] bySource, Reduction red) =>
            System.Threading.Tasks.Parallel.For(0, p.Keyframes, red.Rent, (k, _, work) => { ReduceKeyframe(p, L, lin, bySource[k], k, red, work); return work; }, red.Return);

        /// <summary>A thread's work space for <see cref="ReduceKeyframe"/>: the scaled values of one keyframe, column by column
        /// (kept by the <see cref="Reduction"/> across iterations: hundreds of kilobytes, which a fresh array per call would
        /// put on the large-object heap every iteration).</summary>
        private sealed class Columns
        {
            public double[] U = Array.Empty<double>();
            public double[] Ensure(int n) => U.Length >= n ? U : (U = new double[n]);
        }

        private static void ReduceKeyframe(BundleProblem p, Layout L, BundleLinearization lin, List<int> outE, int k, Reduction red, Columns work)
        {
            // The pattern: every camera-block column of the keyframe's outgoing edges, and each edge's columns in it.
            var cols = new SortedSet<int>();
            Span<int> map = stackalloc int[14];
            foreach (int e in outE)
            {
                MapEdge(p, L, e, map);
                foreach (int g in map) if (g >= 0) cols.Add(g);
            }
            var pat = new int[cols.Count];
            cols.CopyTo(pat);
            int m = pat.Length;
            var at = new int[outE.Count * 14];
            for (int i = 0; i < outE.Count; i++)
            {
                MapEdge(p, L, outE[i], map);
                for (int a = 0; a < 14; a++) at[i * 14 + a] = map[a] < 0 ? -1 : Array.BinarySearch(pat, map[a]);
            }
            if (red.Q[k] == null || red.Q[k].Length != m * m) { red.Q[k] = new double[m * m]; red.R[k] = new double[m]; }
            var q = red.Q[k];
            var r = red.R[k];
            Array.Clear(q, 0, q.Length); Array.Clear(r, 0, r.Length);
            red.Pattern[k] = pat;
            if (m == 0) return;
            // Q = sum_d e_d e_d^T / C_d and r = sum_d e_d g_d / C_d as dot products of columns over the cells: with
            // u_a(d) = e_d[a] / sqrt(C_d) and u_g(d) = g_d / sqrt(C_d), Q[a, b] = u_a . u_b and r[a] = u_a . u_g. Long
            // contiguous dot products (one per entry) vectorise where the per-cell rank-one updates (short rows) did not.
            int cells = p.Cells;
            var U = work.Ensure((m + 1) * cells);
            int nc = 0;
            for (int cell = 0; cell < cells; cell++)
            {
                var (C, g) = CellSums(lin, outE, cell);
                if (!(C > 0)) continue;
                double s = 1 / Math.Sqrt(C);
                for (int a = 0; a < m; a++) U[a * cells + nc] = 0;
                int b0 = cell * BundleLinearization.PixelWidth;
                for (int i = 0; i < outE.Count; i++)
                {
                    var px = lin.Pixels[outE[i]];
                    for (int a = 0; a < 14; a++) { int c = at[i * 14 + a]; if (c >= 0) U[c * cells + nc] += px[b0 + a] * s; }
                }
                U[m * cells + nc] = g * s;
                nc++;
            }
            for (int a = 0; a < m; a++)
            {
                var ua = new ReadOnlySpan<double>(U, a * cells, nc);
                for (int b = 0; b <= a; b++) q[a * m + b] = Dot(ua, new ReadOnlySpan<double>(U, b * cells, nc));
                r[a] = Dot(ua, new ReadOnlySpan<double>(U, m * cells, nc));
            }
        }

        /// <summary>x . y (vectorised).</summary>
        private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
        {
            double sum = 0;
            int i = 0;
            if (System.Numerics.Vector.IsHardwareAccelerated && x.Length >= 2 * System.Numerics.Vector<double>.Count)
            {
                var xv = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(x);
                var yv = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(y);
                var acc = System.Numerics.Vector<double>.Zero;
                for (int j = 0; j < xv.Length; j++) acc += xv[j] * yv[j];
                sum = System.Numerics.Vector.Dot(acc, System.Numerics.Vector<double>.One);
                i = xv.Length * System.Numerics.Vector<double>.Count;
            }
            for (; i < x.Length; i++) sum += x[i] * y[i];
            return sum;
        }

        /// <summary>Camera-block column of each of an edge's 14 Jacobian columns (-1 = not a variable).</summary>
        private static void MapEdge(BundleProblem p, Layout L, int e, Span<int> map)
        {
            var ed = p.Edges[e];
            for (int a = 0; a < 6; a++)
            {
                map[a] = L.Slot[ed.I] < 0 ? -1 : L.Slot[ed.I] + a;
                map[6 + a] = L.Slot[ed.J] < 0 ? -1 : L.Slot[ed.J] + a;
            }
            map[12] = L.LogF; map[13] = L.K1;
        }

        private static BundleState Apply(BundleProblem p, BundleState s, Layout L, double[] dx, double[][] dRho, int anchor, double baseline0, double[] floor)
        {
            var t = s.Clone();
            Span<double> d = stackalloc double[6];
            for (int k = 0; k < p.Keyframes; k++)
            {
                if (L.Slot[k] < 0) continue;
                for (int a = 0; a < 6; a++) d[a] = dx[L.Slot[k] + a];
                t.Poses[k] = BundleModel.Retract(s.Poses[k], d);
            }
            if (L.LogF >= 0) t.Focal = s.Focal * Math.Exp(Math.Max(-0.5, Math.Min(0.5, dx[L.LogF])));
            if (L.K1 >= 0) t.K1 = s.K1 + dx[L.K1];
            for (int k = 0; k < p.Keyframes; k++)
                for (int c = 0; c < p.Cells; c++)
                    t.InverseDepth[k][c] = Math.Max(Math.Max(s.InverseDepth[k][c] + dRho[k][c], 0.1 * s.InverseDepth[k][c]), floor[k]);
            if (anchor > 0)
            {
                double bl = Baseline(t, anchor);
                if (bl > 0)
                {
                    double sc = baseline0 / bl;
                    var c0 = t.Poses[0];
                    for (int k = 1; k < p.Keyframes; k++)
                    {
                        var pk = t.Poses[k];
                        t.Poses[k] = new CameraPose(pk.Rotation, new[]
                        {
                            c0.T(0) + sc * (pk.T(0) - c0.T(0)), c0.T(1) + sc * (pk.T(1) - c0.T(1)), c0.T(2) + sc * (pk.T(2) - c0.T(2)),
                        });
                    }
                    for (int k = 0; k < p.Keyframes; k++)
                        for (int c = 0; c < p.Cells; c++) t.InverseDepth[k][c] /= sc;
                }
            }
            return t;
        }

        /// <summary>A depth cell's Hessian C and gradient g, summed over the edges leaving its keyframe.</summary>
        private static (double C, double G) CellSums(BundleLinearization lin, List<int> outE, int cell)
        {
            double C = 0, g = 0;
            int b0 = cell * BundleLinearization.PixelWidth;
            foreach (int e in outE)
            {
                var px = lin.Pixels[e];
                C += px[b0 + BundleLinearization.PixC]; g += px[b0 + BundleLinearization.PixG];
            }
            return (C, g);
        }

        private static bool Cholesky(double[] a, int n)
        {
            for (int j = 0; j < n; j++)
            {
                double d = a[j * n + j];
                for (int k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
                if (!(d > 0)) return false;
                d = Math.Sqrt(d);
                a[j * n + j] = d;
                for (int i = j + 1; i < n; i++)
                {
                    double v = a[i * n + j];
                    for (int k = 0; k < j; k++) v -= a[i * n + k] * a[j * n + k];
                    a[i * n + j] = v / d;
                }
            }
            return true;
        }

        private static void CholeskySolve(double[] a, int n, double[] x)
        {
            for (int i = 0; i < n; i++)
            {
                double v = x[i];
                for (int k = 0; k < i; k++) v -= a[i * n + k] * x[k];
                x[i] = v / a[i * n + i];
            }
            for (int i = n - 1; i >= 0; i--)
            {
                double v = x[i];
                for (int k = i + 1; k < n; k++) v -= a[k * n + i] * x[k];
                x[i] = v / a[i * n + i];
            }
        }
    }
}
