using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;

namespace FlowMap.Solve.Geometry
{
    /// <summary>The focal the motion determines, with its uncertainty.</summary>
    internal sealed class FocalEstimate
    {
        /// <summary>Focal in pixels at the processing size; the best guess even when not <see cref="Determined"/>; NaN when no pair told anything.</summary>
        public double Focal;
        /// <summary>Relative standard deviation of <see cref="Focal"/> (= standard deviation of ln f).</summary>
        public double RelStd;
        /// <summary>True when <see cref="RelStd"/> is at most <see cref="SelfCalibration.MaxDeterminedRelStd"/>.</summary>
        public bool Determined;
        /// <summary>Why the focal is not determined and how to give it (null when determined).</summary>
        public string? Warning;
        /// <summary>Pairs whose focal constraint entered the estimate (after outlier rejection).</summary>
        public int PairsUsed;
        /// <summary>Standard deviation of ln f between pairs beyond their own spreads (DerSimonian-Laird), a diagnostic of shared flow errors.</summary>
        public double BetweenPairStd;
        /// <summary>Per-pair diagnostics, in input order.</summary>
        public List<PairFocal> Pairs = new List<PairFocal>();
    }

    /// <summary>What one pair says about the focal.</summary>
    internal sealed class PairFocal
    {
        public PairMotion Motion;
        /// <summary>"essential" (Mendonca-Cipolla on F), "rotation" (infinite homography), "planar" (H is not a rotation: no constraint), or "none".</summary>
        public string Kind = "none";
        /// <summary>The pair's minimiser, pixels (NaN when none).</summary>
        public double Focal = double.NaN;
        /// <summary>Standard deviation of ln f for this pair (bootstrap over correspondences combined with the cost's flatness).</summary>
        public double LogStd = double.PositiveInfinity;
        /// <summary>Second derivative of the pair's cost in ln f at its minimum.</summary>
        public double Curvature;
        /// <summary>Distance of the epipole in a from the principal point over sqrt(W H) (small = forward motion); NaN when not General.</summary>
        public double EpipoleOffset = double.NaN;
        /// <summary>True when the robust combination kept this pair.</summary>
        public bool Used;
        public int Points;

        /// <summary>A copy not yet marked <see cref="Used"/> (a kept analysis combined again).</summary>
        internal PairFocal Unused() { var c = (PairFocal)MemberwiseClone(); c.Used = false; return c; }

        public override string ToString() => string.Format(CultureInfo.InvariantCulture,
            "{0}/{1}: f={2:F2} logstd={3:G3} curv={4:G3} epi={5:F2} used={6} n={7}", Motion, Kind, Focal, LogStd, Curvature, EpipoleOffset, Used, Points);
    }

    /// <summary>A pair's analysis kept for <see cref="SelfCalibration.Estimate(IReadOnlyList{Correspondences}, int, int, ConditionalWeakTable{Correspondences, AnalysedPair})"/>, with the seed it was made with.</summary>
    internal sealed class AnalysedPair
    {
        public ulong Seed;
        public PairFocal Result = null!;
    }

    /// <summary>
    /// One focal (square pixels, principal point at the image centre) from many keyframe pairs' correspondences.
    /// Method, per pair:
    ///  1. Fit F and H robustly and select between them by GRIC (<see cref="TwoViewGeometry.Analyse"/>).
    ///  2a. General pairs: Mendonca and Cipolla, "A simple technique for self-calibration" (CVPR 1999): at the true focal
    ///      E = K^T F K has two equal non-zero singular values; cost c(g) = ((s1 - s2) / (s1 + s2))^2 over g = ln f.
    ///  2b. Homography-dominant pairs: for a rotation about the centre H = K R K^-1 (Hartley, "Self-calibration from multiple
    ///      views with a rotating camera", ECCV 1994), so K^-1 H K is a scaled rotation: cost = variance of the log
    ///      singular values of K^-1 H K. The pair counts only when the rotation model then explains the matches about as
    ///      well as H itself (else the homography comes from a plane under translation and says nothing about f).
    ///  3. Each cost is minimised by a dense scan of ln f over [0.25, 4] x sqrt(W H) and golden-section refinement.
    ///  4. The pair's uncertainty: a Poisson block bootstrap over its correspondences (8 x 6 image blocks, the model
    ///      refitted linearly with the final robust weights, fixed seed) gives the spread of the minimiser; a flat cost (curvature h) adds
    ///      sqrt(2 delta / h) with delta the cost level noise reaches at the minimum (at least 1e-12, the resolution of
    ///      float32 flow), so an exactly degenerate pair (pure translation, forward motion, rotation about the optical
    ///      axis) is never certain even with exact matches.
    /// Across pairs: a robust (Cauchy) M-estimate of ln f from the pairs' minimisers weighted by 1 / std^2, found by a dense
    /// scan then refinement, so an outlier pair cannot drag it; then a random-effects combination of the inlier pairs
    /// (DerSimonian and Laird, Controlled Clinical Trials 1986): the between-pair variance the pairs' own spreads do not
    /// explain widens every pair's, so one over-confident pair cannot decide the focal, and the reported standard
    /// deviation includes the disagreement between pairs.
    /// Known degeneracies (Sturm, "On focal length calibration from two views", CVPR 2001; Kahl and Triggs 1999): parallel
    /// optical axes (pure translation, forward motion), optical axes meeting at a point equidistant from both centres
    /// (an orbit looking at one point), planar scenes; they show as a large <see cref="FocalEstimate.RelStd"/>.
    /// </summary>
    internal static class SelfCalibration
    {
        /// <summary>A focal is called determined when its relative standard deviation is at most this (5 %).</summary>
        public const double MaxDeterminedRelStd = 0.05;
        /// <summary>Search range of the focal relative to sqrt(W H).</summary>
        public const double MinFocalRatio = 0.25, MaxFocalRatio = 4;
        private const int ScanPoints = 241;
        private const int BootstrapReplicates = 32;
        private const int BlocksX = 8, BlocksY = 6;
        /// <summary>
        /// Cost level indistinguishable from zero whatever the data: a 1e-6 relative mismatch of singular values, squared
        /// (float32 flow resolves 1e-7 of a few hundred pixels; F amplifies that by its conditioning, about 10).
        /// </summary>
        private const double CostResolution = 1e-12;

        public static FocalEstimate Estimate(IReadOnlyList<Correspondences> pairs, int width, int height) => Estimate(pairs, width, height, null);

        /// <summary>
        /// As <see cref="Estimate(IReadOnlyList{Correspondences}, int, int)"/>, the same result; each pair's analysis (steps
        /// 1-4, the costly part: robust F and H, the scans, the bootstrap) is kept in <paramref name="analysed"/> and taken
        /// from there when the same pair (the same object) comes again with the same seed of its sampling: online
        /// the recent pairs are combined again as new ones are appended, and re-analysing all of them was 664 ms of a live
        /// session's 12-keyframe window solve on ICL-NUIM. The seeds are the pairs' positions in <paramref name="pairs"/>,
        /// or <paramref name="seeds"/> (one per pair) where the caller gives each pair its own: online, the pair's ordinal
        /// in the session, which stays when the oldest pairs leave (by position, every pair moved and was analysed again
        /// at every estimate once the most recent pairs were held). (A kept result reused under another seed made the
        /// result depend on the order of the calls: online walk ATE 0.29 -> 1.07-1.20 % of the path.)
        /// </summary>
        internal static FocalEstimate Estimate(IReadOnlyList<Correspondences> pairs, int width, int height, ConditionalWeakTable<Correspondences, AnalysedPair>? analysed,
            IReadOnlyList<ulong>? seeds = null)
        {
            if (pairs == null) throw new ArgumentNullException(nameof(pairs));
            if (seeds != null && seeds.Count != pairs.Count) throw new ArgumentException("One seed per pair.", nameof(seeds));
            if (width < 2 || height < 2) throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}x{height} is too small.");
            double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
            double gLo = Math.Log(MinFocalRatio * Math.Sqrt((double)width * height)), gHi = Math.Log(MaxFocalRatio * Math.Sqrt((double)width * height));
            var result = new FocalEstimate { Focal = double.NaN, RelStd = double.PositiveInfinity };
            // Pairs are independent (each has its own fixed seed): analysed in parallel, the result does not depend on the order.
            var perPair = new PairFocal[pairs.Count];
            for (int p = 0; p < pairs.Count; p++)
                if (pairs[p] == null) throw new ArgumentException($"Pair {p} is null.", nameof(pairs));
            System.Threading.Tasks.Parallel.For(0, pairs.Count, p =>
            {
                ulong seed = seeds?[p] ?? (ulong)p;
                if (analysed != null && analysed.TryGetValue(pairs[p], out var kept) && kept.Seed == seed) { perPair[p] = kept.Result.Unused(); return; }
                perPair[p] = AnalysePair(pairs[p], width, height, gLo, gHi, seed);
                analysed?.AddOrUpdate(pairs[p], new AnalysedPair { Seed = seed, Result = perPair[p].Unused() });
            });
            result.Pairs.AddRange(perPair);

            // Robust combination over pairs with a finite spread.
            var used = result.Pairs.Where(q => double.IsFinite(q.Focal) && double.IsFinite(q.LogStd) && q.LogStd > 0).ToList();
            if (used.Count > 0)
            {
                var g = used.Select(q => Math.Log(q.Focal)).ToArray();
                var s = used.Select(q => q.LogStd).ToArray();
                // 1. Robust location with the pairs' own spreads.
                double best = CombineRobust(g, s, 0, gLo, gHi);
                // 2. Between-pair spread the pairs' own spreads do not explain (random effects: flow errors shared by a
                //    pair's matches, lens distortion, rolling shutter): a robust moment estimate from the median deviation.
                var absDev = g.Select(x => Math.Abs(x - best)).OrderBy(x => x).ToArray();
                var own = s.Select(x => x * x).OrderBy(x => x).ToArray();
                double tau2 = used.Count > 2 ? Math.Max(0, Math.Pow(1.4826 * absDev[absDev.Length / 2], 2) - own[own.Length / 2]) : 0;
                // 3. Again with the widened spreads, then the inliers (within 3 widened standard deviations).
                best = CombineRobust(g, s, tau2, gLo, gHi);
                var inl = new List<int>();
                for (int i = 0; i < g.Length; i++)
                    if (Math.Abs(g[i] - best) <= 3 * Math.Sqrt(s[i] * s[i] + tau2)) inl.Add(i);
                if (inl.Count > 0)
                {
                    // 4. DerSimonian-Laird between-pair variance over the inliers, the inverse-variance mean with it, and
                    //    its standard deviation (Birge-inflated if the inliers still disagree more than they say).
                    double sw = 0, swg = 0, sw2 = 0;
                    foreach (int i in inl) { double w = 1 / (s[i] * s[i]); sw += w; swg += w * g[i]; sw2 += w * w; }
                    double fixedMean = swg / sw, q = 0;
                    foreach (int i in inl) q += Math.Pow(g[i] - fixedMean, 2) / (s[i] * s[i]);
                    double dl = inl.Count > 1 ? Math.Max(0, (q - (inl.Count - 1)) / (sw - sw2 / sw)) : 0;
                    double sW = 0, sWg = 0;
                    foreach (int i in inl) { double w = 1 / (s[i] * s[i] + dl); sW += w; sWg += w * g[i]; }
                    double mean = sWg / sW, chi2 = 0;
                    foreach (int i in inl) chi2 += Math.Pow(g[i] - mean, 2) / (s[i] * s[i] + dl);
                    double std = Math.Sqrt(1 / sW);
                    if (inl.Count > 1) std *= Math.Max(1, Math.Sqrt(chi2 / (inl.Count - 1)));
                    foreach (int i in inl) used[i].Used = true;
                    result.Focal = Math.Exp(mean);
                    result.RelStd = std;
                    result.PairsUsed = inl.Count;
                    result.BetweenPairStd = Math.Sqrt(dl);
                }
                else result.Focal = Math.Exp(best);
            }
            result.Determined = result.RelStd <= MaxDeterminedRelStd && result.PairsUsed > 0;
            if (!result.Determined) result.Warning = Explain(result);
            return result;
        }

        private static string Explain(FocalEstimate r)
        {
            var ps = r.Pairs;
            int general = ps.Count(p => p.Motion == PairMotion.General), homog = ps.Count(p => p.Motion == PairMotion.HomographyDominant);
            int forward = ps.Count(p => p.Motion == PairMotion.General && p.EpipoleOffset < 0.5);
            int planar = ps.Count(p => p.Kind == "planar");
            string why;
            if (ps.Count == 0 || general + homog == 0) why = "too few consistent matches between keyframes";
            else if (forward * 2 > general && general >= homog) why = "the camera moves mostly along its optical axis (forward motion), which does not determine the focal";
            else if (planar * 2 > homog && homog > general) why = "the scene is nearly planar, which does not determine the focal";
            else why = "the motion has too little rotation and translation across the view (or only pure translation), which does not determine the focal";
            // The guess itself is in pixels of the size the flow was computed at, not the user's input size: report.json's focal_px
            // carries it in input pixels; the message gives only how uncertain it is.
            string value = double.IsFinite(r.Focal) && double.IsFinite(r.RelStd) ? string.Format(CultureInfo.InvariantCulture, " (relative uncertainty of the best guess {0:P0})", Math.Min(r.RelStd, 9.99)) : "";
            return $"The focal length is not determined by this camera motion: {why}{value}. Give it with --focal PX (pixels at the input size).";
        }

        /// <summary>Cauchy M-estimate of location over ln f: a dense scan of sum ln(1 + (g - g_i)^2 / (2.385^2 (s_i^2 + tau2))), then golden section.</summary>
        internal static double CombineRobust(double[] g, double[] s, double tau2, double lo, double hi)
        {
            double Cost(double x)
            {
                double c = 0;
                for (int i = 0; i < g.Length; i++) { double z2 = (x - g[i]) * (x - g[i]) / (2.385 * 2.385 * (s[i] * s[i] + tau2)); c += Math.Log(1 + z2); }
                return c;
            }
            return ScanMinimum(Cost, lo, hi, 2001);
        }

        /// <summary>Dense scan of [lo, hi] then golden-section refinement inside the best sample's neighbours. Deterministic.</summary>
        internal static double ScanMinimum(Func<double, double> cost, double lo, double hi, int points)
        {
            double step = (hi - lo) / (points - 1);
            int bi = 0; double bc = double.PositiveInfinity;
            for (int i = 0; i < points; i++)
            {
                double c = cost(lo + i * step);
                if (c < bc) { bc = c; bi = i; }
            }
            double a = lo + Math.Max(0, bi - 1) * step, b = lo + Math.Min(points - 1, bi + 1) * step;
            const double phi = 0.6180339887498949;
            double x1 = b - phi * (b - a), x2 = a + phi * (b - a), f1 = cost(x1), f2 = cost(x2);
            for (int it = 0; it < 60 && b - a > 1e-12; it++)
            {
                if (f1 <= f2) { b = x2; x2 = x1; f2 = f1; x1 = b - phi * (b - a); f1 = cost(x1); }
                else { a = x1; x1 = x2; f1 = f2; x2 = a + phi * (b - a); f2 = cost(x2); }
            }
            double xm = 0.5 * (a + b);
            return cost(xm) <= bc ? xm : lo + bi * step;
        }

        /// <summary>Mendonca-Cipolla cost of F at focal e^g: ((s1 - s2) / (s1 + s2))^2 of K^T F K.</summary>
        internal static double EssentialCost(double[] f, double g, double cx, double cy)
        {
            var k = Mat3.K(Math.Exp(g), cx, cy);
            var e = Mat3.Mul(Mat3.Transpose(k), f, k);
            Mat3.Svd(e, 3, out _, out var s, out _);
            double d = (s[0] - s[1]) / (s[0] + s[1]);
            return d * d;
        }

        /// <summary>Rotation cost of H at focal e^g: the variance of ln s_k, s the singular values of K^-1 H K (zero for a scaled rotation).</summary>
        internal static double RotationCost(double[] h, double g, double cx, double cy)
        {
            double f = Math.Exp(g);
            var m = Mat3.Mul(Mat3.KInverse(f, cx, cy), h, Mat3.K(f, cx, cy));
            Mat3.Svd(m, 3, out _, out var s, out _);
            if (!(s[2] > 0)) return double.PositiveInfinity;
            double l0 = Math.Log(s[0]), l1 = Math.Log(s[1]), l2 = Math.Log(s[2]), mean = (l0 + l1 + l2) / 3;
            return ((l0 - mean) * (l0 - mean) + (l1 - mean) * (l1 - mean) + (l2 - mean) * (l2 - mean)) / 3;
        }

        private static PairFocal AnalysePair(Correspondences c, int width, int height, double gLo, double gHi, ulong seed)
        {
            double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
            var pf = new PairFocal { Points = c.Count };
            var geo = TwoViewGeometry.Analyse(c);
            pf.Motion = geo.Motion;
            if (geo.Motion == PairMotion.Insufficient) return pf;
            var ta = TwoViewGeometry.Normalisation(c.A, c.Weight); var tb = TwoViewGeometry.Normalisation(c.B, c.Weight);
            var na = TwoViewGeometry.Apply(ta, c.A); var nb = TwoViewGeometry.Apply(tb, c.B);
            int n = c.Count;
            Func<double[], double, double> costOf;
            double[] model;
            Func<double[], double[]?> refit;
            if (geo.Motion == PairMotion.General)
            {
                pf.Kind = "essential";
                model = geo.Fundamental.F;
                var e = geo.Fundamental.EpipoleA;
                pf.EpipoleOffset = Math.Abs(e[2]) < 1e-12 ? double.PositiveInfinity
                    : Math.Sqrt(Math.Pow(e[0] / e[2] - cx, 2) + Math.Pow(e[1] / e[2] - cy, 2)) / Math.Sqrt((cx + 0.5) * (cy + 0.5) * 4);
                costOf = (m, g) => EssentialCost(m, g, cx, cy);
                // Bootstrap refit: one weighted 8-point solve with the final IRLS weights (Sampson-normalised) x Poisson counts.
                var baseW = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double xa = c.A[2 * i], ya = c.A[2 * i + 1], xb = c.B[2 * i], yb = c.B[2 * i + 1];
                    var f = model;
                    double fa0 = f[0] * xa + f[1] * ya + f[2], fa1 = f[3] * xa + f[4] * ya + f[5];
                    double fb0 = f[0] * xb + f[3] * yb + f[6], fb1 = f[1] * xb + f[4] * yb + f[7];
                    baseW[i] = geo.Fundamental.RobustWeight[i] / Math.Max(1e-300, fa0 * fa0 + fa1 * fa1 + fb0 * fb0 + fb1 * fb1);
                }
                refit = w => TwoViewGeometry.SolveF(na, nb, Mul(baseW, w), ta, tb, null);
            }
            else
            {
                model = geo.Homography.H;
                costOf = (m, g) => RotationCost(m, g, cx, cy);
                var baseW = geo.Homography.RobustWeight;
                refit = w => TwoViewGeometry.SolveH(na, nb, Mul(baseW, w), ta, tb, null, model);
            }
            double gBest = ScanMinimum(x => costOf(model, x), gLo, gHi, ScanPoints);
            // Curvature by central differences in ln f (step 1 %).
            const double hstep = 0.01;
            double c0 = costOf(model, gBest), cp = costOf(model, gBest + hstep), cm = costOf(model, gBest - hstep);
            double curv = (cp - 2 * c0 + cm) / (hstep * hstep);
            pf.Curvature = curv;
            pf.Focal = Math.Exp(gBest);
            if (geo.Motion == PairMotion.HomographyDominant)
            {
                // The rotation model must explain the matches about as well as H (else: a plane under translation).
                double rotRms = RotationModelRms(c, geo.Homography, Math.Exp(gBest), cx, cy, out double hRms);
                double allowed = 2 * Math.Max(hRms, TwoViewGeometry.MinFlowNoisePx);
                if (!(rotRms <= allowed)) { pf.Kind = "planar"; return pf; }
                pf.Kind = "rotation";
            }
            // Block bootstrap over correspondences (Kuensch 1989): flow errors are correlated between neighbouring pixels,
            // so whole blocks of an 8 x 6 grid over the image get one Poisson(1) weight each; resampling single points
            // would treat 4000 correlated matches as independent and understate the spread.
            var rng = new GeometryRng(0xB0075EEDUL + 7919 * seed);
            var counts = new double[n];
            var block = new int[n];
            for (int i = 0; i < n; i++)
            {
                int bx = Math.Min(BlocksX - 1, Math.Max(0, (int)(c.A[2 * i] * BlocksX / width)));
                int by = Math.Min(BlocksY - 1, Math.Max(0, (int)(c.A[2 * i + 1] * BlocksY / height)));
                block[i] = by * BlocksX + bx;
            }
            var blockWeight = new double[BlocksX * BlocksY];
            var reps = new List<double>();
            var repCosts = new List<double>();
            for (int b = 0; b < BootstrapReplicates; b++)
            {
                for (int q = 0; q < blockWeight.Length; q++) blockWeight[q] = rng.Poisson1();
                for (int i = 0; i < n; i++) counts[i] = blockWeight[block[i]];
                var mb = refit(counts);
                if (mb == null) continue;
                // Within +-0.7 of the full-data minimiser (a factor 2 in f): a replicate that leaves it marks the pair undetermined anyway.
                double lo = Math.Max(gLo, gBest - 0.7), hi = Math.Min(gHi, gBest + 0.7);
                reps.Add(ScanMinimum(x => costOf(mb, x), lo, hi, 57));
                repCosts.Add(costOf(mb, gBest));
            }
            double spread = double.PositiveInfinity;
            if (reps.Count >= BootstrapReplicates / 2)
            {
                // Robust standard deviation (1.4826 MAD) around the full-data minimiser.
                var dev = reps.Select(x => Math.Abs(x - gBest)).OrderBy(x => x).ToList();
                spread = 1.4826 * dev[dev.Count / 2];
            }
            // The cost level the noise reaches at the minimum (the full fit's and the replicates' median), at least the
            // resolution of float32 flow; a cost this flat within sigma_flat of the minimum cannot be told apart.
            repCosts.Sort();
            double noiseCost = Math.Max(CostResolution, Math.Max(c0, repCosts.Count > 0 ? repCosts[repCosts.Count / 2] : 0));
            double flat = curv > 0 ? Math.Sqrt(2 * noiseCost / curv) : double.PositiveInfinity;
            pf.LogStd = Math.Sqrt(spread * spread + flat * flat);
            return pf;
        }

        /// <summary>Weighted RMS transfer error of the rotation-only model K R K^-1 (R the rotation nearest K^-1 H K) over H's inliers, and H's own.</summary>
        private static double RotationModelRms(Correspondences c, HomographyFit h, double f, double cx, double cy, out double hRms)
        {
            var m = Mat3.Mul(Mat3.KInverse(f, cx, cy), h.H, Mat3.K(f, cx, cy));
            if (Mat3.Det(m) < 0) m = Mat3.Scale(m, -1);
            var r = Mat3.NearestRotation(m);
            var hr = Mat3.Mul(Mat3.K(f, cx, cy), r, Mat3.KInverse(f, cx, cy));
            var er = new double[c.Count];
            TwoViewGeometry.TransferAll(hr, c.A, c.B, er);
            double sw = 0, sr = 0, sh = 0;
            for (int i = 0; i < c.Count; i++)
            {
                double w = h.RobustWeight[i];
                if (w <= 0) continue;
                sw += w; sr += w * er[i] * er[i]; sh += w * h.Residual[i] * h.Residual[i];
            }
            hRms = sw > 0 ? Math.Sqrt(sh / sw) : double.PositiveInfinity;
            return sw > 0 ? Math.Sqrt(sr / sw) : double.PositiveInfinity;
        }

        private static double[] Mul(double[] a, double[] b)
        {
            var r = new double[a.Length];
            for (int i = 0; i < a.Length; i++) r[i] = a[i] * b[i];
            return r;
        }
    }
}
