using System;
using System.Collections.Generic;

namespace FlowMap.Solve.Geometry
{
    /// <summary>A robust fundamental-matrix fit: x_b^T F x_a = 0 (pixels, homogeneous).</summary>
    internal sealed class FundamentalFit
    {
        /// <summary>double[9], row-major, rank 2, unit Frobenius norm.</summary>
        public double[] F { get; internal set; } = Array.Empty<double>();
        /// <summary>double[Count]: Sampson distance of each correspondence, pixels (first-order distance in the joint image space).</summary>
        public double[] Residual { get; internal set; } = Array.Empty<double>();
        /// <summary>double[Count]: the final robust weight (input weight x Tukey weight) of each correspondence; 0 = outlier.</summary>
        public double[] RobustWeight { get; internal set; } = Array.Empty<double>();
        /// <summary>Correspondences with a residual below 3 <see cref="Sigma"/>.</summary>
        public int InlierCount { get; internal set; }
        /// <summary>Robust noise scale of the inliers' residuals (1.4826 x median), pixels.</summary>
        public double Sigma { get; internal set; }
        /// <summary>False when there were too few correspondences (fewer than 8) or the fit failed.</summary>
        public bool Valid { get; internal set; }
        /// <summary>Epipole in a (right null vector of F), homogeneous unit vector.</summary>
        public double[] EpipoleA { get; internal set; } = Array.Empty<double>();
    }

    /// <summary>A robust homography fit: x_b ~ H x_a (pixels, homogeneous).</summary>
    internal sealed class HomographyFit
    {
        /// <summary>double[9], row-major, unit Frobenius norm.</summary>
        public double[] H { get; internal set; } = Array.Empty<double>();
        /// <summary>double[Count]: one-way transfer error |x_b - H(x_a)|, pixels.</summary>
        public double[] Residual { get; internal set; } = Array.Empty<double>();
        /// <summary>double[Count]: final robust weight; 0 = outlier.</summary>
        public double[] RobustWeight { get; internal set; } = Array.Empty<double>();
        public int InlierCount { get; internal set; }
        /// <summary>Robust noise scale of the inliers' transfer errors per coordinate, pixels (median magnitude / 1.1774).</summary>
        public double Sigma { get; internal set; }
        public bool Valid { get; internal set; }
    }

    /// <summary>Relative pose of camera b with respect to camera a: X_b = R X_a + T, |T| = 1.</summary>
    internal sealed class RelativePose
    {
        /// <summary>double[9], row-major rotation a -> b.</summary>
        public double[] R { get; internal set; } = Array.Empty<double>();
        /// <summary>double[3], unit translation (camera a's origin seen in camera b, up to scale).</summary>
        public double[] T { get; internal set; } = Array.Empty<double>();
        /// <summary>double[9], the essential matrix [T]_x R (unit Frobenius norm times sqrt 2).</summary>
        public double[] E { get; internal set; } = Array.Empty<double>();
        /// <summary>Share of inlier correspondences in front of both cameras for the chosen solution.</summary>
        public double CheiralityRatio { get; internal set; }
        /// <summary>Median triangulation angle of the inliers, degrees.</summary>
        public double MedianParallaxDeg { get; internal set; }
        /// <summary>The fundamental fit this pose came from.</summary>
        public FundamentalFit Fit { get; internal set; } = new FundamentalFit();
    }

    /// <summary>What the motion between two views lets one estimate (Torr's model selection, see <see cref="TwoViewGeometry.Analyse"/>).</summary>
    internal enum PairMotion
    {
        /// <summary>Too few correspondences.</summary>
        Insufficient,
        /// <summary>A fundamental matrix explains the data better than a homography: translation with parallax.</summary>
        General,
        /// <summary>A homography explains the data as well: rotation about the centre, or a planar scene, or too little translation.</summary>
        HomographyDominant,
    }

    /// <summary>Both models fitted to one pair, and Torr's GRIC scores.</summary>
    internal sealed class PairGeometry
    {
        public FundamentalFit Fundamental { get; internal set; } = new FundamentalFit();
        public HomographyFit Homography { get; internal set; } = new HomographyFit();
        public double GricF { get; internal set; }
        public double GricH { get; internal set; }
        /// <summary>The noise scale used for model selection, pixels (the F fit's, at least <see cref="TwoViewGeometry.MinFlowNoisePx"/>).</summary>
        public double NoiseSigma { get; internal set; }
        public PairMotion Motion { get; internal set; }
    }

    /// <summary>
    /// Two-view geometry from dense correspondences, double precision, deterministic (fixed-seed sampler).
    /// Method: Hartley, "In defense of the eight-point algorithm" (PAMI 1997) normalisation; Hartley and Zisserman,
    /// "Multiple View Geometry" (2nd ed.) 11.1-11.6 (8-point, rank-2, Sampson distance), 4.1-4.2 (DLT homography),
    /// 9.6 (essential matrix decomposition and cheirality); MSAC sampling (Torr and Zisserman, CVIU 2000) followed by
    /// iteratively reweighted least squares with Tukey weights (the "local optimisation" of LO-RANSAC, Chum et al. 2003);
    /// model selection by GRIC (Torr, "Geometric motion segmentation and model selection", Phil. Trans. 1998), as in
    /// COLMAP's two_view_geometry.cc which also compares F and H support to flag planar / panoramic pairs.
    /// </summary>
    internal static class TwoViewGeometry
    {
        /// <summary>Inlier threshold of the robust sampler, pixels (before the noise scale is estimated from the data).</summary>
        public const double SamplerThresholdPx = 1.0;
        /// <summary>
        /// Lower bound of the flow noise used for model selection, pixels: no dense flow estimator is more precise than a
        /// tenth of a pixel, and exact synthetic flow would otherwise make every sub-pixel parallax decisive.
        /// </summary>
        public const double MinFlowNoisePx = 0.1;
        private const double Tukey = 4.685;
        private const int IrlsIterations = 20;

        // ---------------------------------------------------------------- fundamental matrix

        /// <summary>
        /// Robust fundamental matrix: 1. Hartley normalisation of both point sets; 2. MSAC over 8-point minimal samples
        /// (fixed seed, adaptive iteration count for 99.9 % confidence, at most 1000, scored on an even subset); 3. IRLS from the best sample:
        /// weighted 8-point with weights (input weight) x Tukey(Sampson / 4.685 sigma) / |grad|^2 (the Sampson
        /// linearisation), sigma re-estimated each round from the median residual; 4. rank 2 by zeroing the smallest
        /// singular value.
        /// </summary>
        public static FundamentalFit EstimateFundamental(Correspondences c)
        {
            if (c == null) throw new ArgumentNullException(nameof(c));
            int n = c.Count;
            var fit = new FundamentalFit { Residual = new double[n], RobustWeight = new double[n] };
            if (n < 8) return fit;
            var (ta, tb) = (Normalisation(c.A, c.Weight), Normalisation(c.B, c.Weight));
            var na = Apply(ta, c.A); var nb = Apply(tb, c.B);

            // 2. MSAC.
            double[]? best = null;
            double bestScore = double.PositiveInfinity;
            var rng = new GeometryRng(0x5EEDF00DUL ^ (ulong)n);
            var sample = new int[8];
            var omega = new double[n];
            var r = new double[n];
            double t2 = SamplerThresholdPx * SamplerThresholdPx;
            var scoring = ScoringSubset(n);
            int maxIter = 1000, iter = 0;
            for (; iter < maxIter; iter++)
            {
                DrawSample(ref rng, n, sample);
                Array.Clear(omega, 0, n);
                foreach (int k in sample) omega[k] = 1;
                var fh = SolveF(na, nb, omega, ta, tb, sample);
                if (fh == null) continue;
                double score = 0; int inl = 0;
                foreach (int i in scoring)
                {
                    double d = Sampson(fh, c.A[2 * i], c.A[2 * i + 1], c.B[2 * i], c.B[2 * i + 1]);
                    double e = d * d;
                    if (e < t2) { score += e; inl++; } else score += t2;
                }
                if (score < bestScore)
                {
                    bestScore = score; best = fh;
                    double w = Math.Max(1e-3, (double)inl / scoring.Length);
                    int need = (int)Math.Ceiling(Math.Log(1e-3) / Math.Log(Math.Max(1e-12, 1 - Math.Pow(w, 8))));
                    maxIter = Math.Min(1000, Math.Max(64, need));
                }
            }
            if (best == null) return fit;

            // 3. IRLS with Tukey weights on the Sampson distance.
            var f = best;
            SampsonAll(f, c.A, c.B, r);
            double sigma = RobustSigma(r, 2.5 * SamplerThresholdPx);
            var grad = new double[n];
            for (int it = 0; it < IrlsIterations; it++)
            {
                SampsonGradient(f, c.A, c.B, grad);
                double cut = Tukey * sigma;
                for (int i = 0; i < n; i++)
                {
                    double u = r[i] / cut;
                    double tw = u < 1 ? (1 - u * u) * (1 - u * u) : 0;
                    omega[i] = c.Weight[i] * tw / Math.Max(grad[i], 1e-300);
                }
                var fn = SolveF(na, nb, omega, ta, tb, null);
                if (fn == null) break;
                double change = Math.Min(Diff(fn, f), Diff(fn, Mat3.Scale(f, -1)));
                f = fn;
                SampsonAll(f, c.A, c.B, r);
                sigma = RobustSigma(r, cut);
                if (change < 1e-13) break;
            }
            fit.F = f;
            Array.Copy(r, fit.Residual, n);
            fit.Sigma = sigma;
            double cutF = Tukey * sigma;
            int inliers = 0;
            for (int i = 0; i < n; i++)
            {
                double u = r[i] / cutF;
                fit.RobustWeight[i] = u < 1 ? c.Weight[i] * (1 - u * u) * (1 - u * u) : 0;
                if (r[i] < 3 * sigma) inliers++;
            }
            fit.InlierCount = inliers;
            fit.Valid = inliers >= 8;
            Mat3.Svd(f, 3, out _, out _, out var v);
            fit.EpipoleA = new[] { v[2], v[5], v[8] };
            return fit;
        }

        /// <summary>
        /// Weighted 8-point solve in normalised coordinates (rows of the Kronecker form x_b^T F x_a), rank 2 enforced,
        /// denormalised to pixels: F = Tb^T Fn Ta, unit Frobenius norm, sign with a positive largest entry.
        /// Returns null when the weighted system is degenerate. <paramref name="subset"/> restricts the sum to those indices.
        /// </summary>
        internal static double[]? SolveF(double[] na, double[] nb, double[] omega, double[] ta, double[] tb, int[]? subset)
        {
            var m = new double[81];
            int count = subset?.Length ?? omega.Length;
            var row = new double[9];
            for (int s = 0; s < count; s++)
            {
                int i = subset != null ? subset[s] : s;
                double w = omega[i];
                if (w <= 0) continue;
                double xa = na[2 * i], ya = na[2 * i + 1], xb = nb[2 * i], yb = nb[2 * i + 1];
                row[0] = xb * xa; row[1] = xb * ya; row[2] = xb; row[3] = yb * xa; row[4] = yb * ya; row[5] = yb; row[6] = xa; row[7] = ya; row[8] = 1;
                AddOuter(m, row, w, 9);
            }
            Symmetrise(m, 9);
            var fn = Mat3.SmallestEigenvector(m, 9, out double l0, out double l1);
            if (!(l1 > 0) || !double.IsFinite(fn[0])) return null;
            // Rank 2 (Hartley and Zisserman 11.1.1): the closest singular matrix in the Frobenius norm.
            Mat3.Svd(fn, 3, out var u, out var sv, out var v);
            if (!(sv[1] > 0)) return null;
            var f2 = Mat3.Mul(u, new double[] { sv[0], 0, 0, 0, sv[1], 0, 0, 0, 0 }, Mat3.Transpose(v));
            var f = Mat3.Mul(Mat3.Transpose(tb), f2, ta);
            return Normalised(f);
        }

        /// <summary>Sampson distance (Hartley and Zisserman eq. 11.9) of every correspondence, pixels.</summary>
        internal static void SampsonAll(double[] f, double[] a, double[] b, double[] r)
        {
            for (int i = 0; i < r.Length; i++) r[i] = Sampson(f, a[2 * i], a[2 * i + 1], b[2 * i], b[2 * i + 1]);
        }

        internal static double Sampson(double[] f, double xa, double ya, double xb, double yb)
        {
            double fa0 = f[0] * xa + f[1] * ya + f[2], fa1 = f[3] * xa + f[4] * ya + f[5], fa2 = f[6] * xa + f[7] * ya + f[8];
            double fb0 = f[0] * xb + f[3] * yb + f[6], fb1 = f[1] * xb + f[4] * yb + f[7];
            double e = xb * fa0 + yb * fa1 + fa2;
            double g = fa0 * fa0 + fa1 * fa1 + fb0 * fb0 + fb1 * fb1;
            return g > 0 ? Math.Abs(e) / Math.Sqrt(g) : double.PositiveInfinity;
        }

        private static void SampsonGradient(double[] f, double[] a, double[] b, double[] g)
        {
            for (int i = 0; i < g.Length; i++)
            {
                double xa = a[2 * i], ya = a[2 * i + 1], xb = b[2 * i], yb = b[2 * i + 1];
                double fa0 = f[0] * xa + f[1] * ya + f[2], fa1 = f[3] * xa + f[4] * ya + f[5];
                double fb0 = f[0] * xb + f[3] * yb + f[6], fb1 = f[1] * xb + f[4] * yb + f[7];
                g[i] = fa0 * fa0 + fa1 * fa1 + fb0 * fb0 + fb1 * fb1;
            }
        }

        // ---------------------------------------------------------------- homography

        /// <summary>
        /// Robust homography: normalised DLT (Hartley and Zisserman alg. 4.2) inside MSAC over 4-point samples, then IRLS
        /// with Tukey weights on the transfer error, each row weighted by 1/w'^2 (w' the third coordinate of H x_a) so the
        /// algebraic error approximates the geometric one.
        /// </summary>
        public static HomographyFit EstimateHomography(Correspondences c)
        {
            if (c == null) throw new ArgumentNullException(nameof(c));
            int n = c.Count;
            var fit = new HomographyFit { Residual = new double[n], RobustWeight = new double[n] };
            if (n < 4) return fit;
            var ta = Normalisation(c.A, c.Weight); var tb = Normalisation(c.B, c.Weight);
            var na = Apply(ta, c.A); var nb = Apply(tb, c.B);
            double[]? best = null;
            double bestScore = double.PositiveInfinity;
            var rng = new GeometryRng(0x40A3F00DUL ^ (ulong)n);
            var sample = new int[4];
            var omega = new double[n];
            var r = new double[n];
            double t2 = SamplerThresholdPx * SamplerThresholdPx;
            var scoring = ScoringSubset(n);
            int maxIter = 1000;
            for (int iter = 0; iter < maxIter; iter++)
            {
                DrawSample(ref rng, n, sample);
                Array.Clear(omega, 0, n);
                foreach (int k in sample) omega[k] = 1;
                var hh = SolveH(na, nb, omega, ta, tb, sample, null);
                if (hh == null) continue;
                double score = 0; int inl = 0;
                foreach (int i in scoring)
                {
                    double xa = c.A[2 * i], ya = c.A[2 * i + 1];
                    double w3 = hh[6] * xa + hh[7] * ya + hh[8];
                    double dx = (hh[0] * xa + hh[1] * ya + hh[2]) / w3 - c.B[2 * i], dy = (hh[3] * xa + hh[4] * ya + hh[5]) / w3 - c.B[2 * i + 1];
                    double e = dx * dx + dy * dy;
                    if (e < t2) { score += e; inl++; } else score += t2;
                }
                if (score < bestScore)
                {
                    bestScore = score; best = hh;
                    double w = Math.Max(1e-3, (double)inl / scoring.Length);
                    int need = (int)Math.Ceiling(Math.Log(1e-3) / Math.Log(Math.Max(1e-12, 1 - Math.Pow(w, 4))));
                    maxIter = Math.Min(1000, Math.Max(64, need));
                }
            }
            if (best == null) return fit;
            var h = best;
            TransferAll(h, c.A, c.B, r);
            double sigma = RobustSigma(r, 2.5 * SamplerThresholdPx, planar: true);
            for (int it = 0; it < IrlsIterations; it++)
            {
                double cut = Tukey * sigma;
                for (int i = 0; i < n; i++)
                {
                    double u = r[i] / cut;
                    omega[i] = c.Weight[i] * (u < 1 ? (1 - u * u) * (1 - u * u) : 0);
                }
                var hn = SolveH(na, nb, omega, ta, tb, null, h);
                if (hn == null) break;
                double change = Math.Min(Diff(hn, h), Diff(hn, Mat3.Scale(h, -1)));
                h = hn;
                TransferAll(h, c.A, c.B, r);
                sigma = RobustSigma(r, cut, planar: true);
                if (change < 1e-13) break;
            }
            fit.H = h;
            Array.Copy(r, fit.Residual, n);
            fit.Sigma = sigma;
            int inliers = 0;
            for (int i = 0; i < n; i++)
            {
                double u = r[i] / (Tukey * sigma);
                fit.RobustWeight[i] = u < 1 ? c.Weight[i] * (1 - u * u) * (1 - u * u) : 0;
                if (r[i] < 3 * sigma) inliers++;
            }
            fit.InlierCount = inliers;
            fit.Valid = inliers >= 4;
            return fit;
        }

        /// <summary>Weighted normalised DLT; <paramref name="previous"/> (pixels) supplies the 1/w'^2 row weights when given.</summary>
        internal static double[]? SolveH(double[] na, double[] nb, double[] omega, double[] ta, double[] tb, int[]? subset, double[]? previous)
        {
            var m = new double[81];
            var r1 = new double[9]; var r2 = new double[9];
            int count = subset?.Length ?? omega.Length;
            double[]? prevN = null;
            if (previous != null) prevN = Mat3.Mul(tb, previous, Invert(ta));
            for (int s = 0; s < count; s++)
            {
                int i = subset != null ? subset[s] : s;
                double w = omega[i];
                if (w <= 0) continue;
                double xa = na[2 * i], ya = na[2 * i + 1], xb = nb[2 * i], yb = nb[2 * i + 1];
                if (prevN != null)
                {
                    double wp = prevN[6] * xa + prevN[7] * ya + prevN[8];
                    w /= Math.Max(wp * wp, 1e-12);
                }
                r1[0] = 0; r1[1] = 0; r1[2] = 0; r1[3] = -xa; r1[4] = -ya; r1[5] = -1; r1[6] = yb * xa; r1[7] = yb * ya; r1[8] = yb;
                r2[0] = xa; r2[1] = ya; r2[2] = 1; r2[3] = 0; r2[4] = 0; r2[5] = 0; r2[6] = -xb * xa; r2[7] = -xb * ya; r2[8] = -xb;
                AddOuter(m, r1, w, 9);
                AddOuter(m, r2, w, 9);
            }
            Symmetrise(m, 9);
            var hn = Mat3.SmallestEigenvector(m, 9, out _, out double l1);
            if (!(l1 > 0) || !double.IsFinite(hn[0])) return null;
            var h = Mat3.Mul(Invert(tb), hn, ta);
            if (Math.Abs(Mat3.Det(h)) < 1e-14 * Math.Pow(Mat3.Norm(h), 3)) return null;
            return Normalised(h);
        }

        internal static void TransferAll(double[] h, double[] a, double[] b, double[] r)
        {
            for (int i = 0; i < r.Length; i++)
            {
                double xa = a[2 * i], ya = a[2 * i + 1];
                double w = h[6] * xa + h[7] * ya + h[8];
                if (!(Math.Abs(w) > 1e-300)) { r[i] = double.PositiveInfinity; continue; }
                double dx = (h[0] * xa + h[1] * ya + h[2]) / w - b[2 * i], dy = (h[3] * xa + h[4] * ya + h[5]) / w - b[2 * i + 1];
                r[i] = Math.Sqrt(dx * dx + dy * dy);
            }
        }

        // ---------------------------------------------------------------- model selection

        /// <summary>
        /// Fits F and H and selects between them with GRIC (Torr 1998): GRIC = sum rho(e^2 / sigma^2) + lambda1 d n + lambda2 k,
        /// rho(x) = min(x, lambda3 (r - d)), r = 4 (two 2D points), lambda1 = ln r, lambda2 = ln(r n), lambda3 = 2; F: d = 3,
        /// k = 7, e = Sampson distance; H: d = 2, k = 8, e = transfer error / sqrt 2 (its share of the 4D distance).
        /// </summary>
        public static PairGeometry Analyse(Correspondences c)
        {
            var g = new PairGeometry { Fundamental = EstimateFundamental(c), Homography = EstimateHomography(c) };
            int n = c.Count;
            if (!g.Fundamental.Valid || !g.Homography.Valid || n < 16) { g.Motion = PairMotion.Insufficient; return g; }
            double sigma = Math.Max(MinFlowNoisePx, g.Fundamental.Sigma);
            g.NoiseSigma = sigma;
            double s2 = sigma * sigma, l1 = Math.Log(4), l2 = Math.Log(4.0 * n);
            double gf = 0, gh = 0;
            for (int i = 0; i < n; i++)
            {
                double ef = g.Fundamental.Residual[i], eh = g.Homography.Residual[i];
                gf += Math.Min(ef * ef / s2, 2 * (4 - 3));
                gh += Math.Min(eh * eh / 2 / s2, 2 * (4 - 2));
            }
            g.GricF = gf + l1 * 3 * n + l2 * 7;
            g.GricH = gh + l1 * 2 * n + l2 * 8;
            g.Motion = g.GricF < g.GricH ? PairMotion.General : PairMotion.HomographyDominant;
            return g;
        }

        // ---------------------------------------------------------------- relative pose

        /// <summary>
        /// Relative pose a -> b (X_b = R X_a + t, |t| = 1) from E = K^T F K (Hartley and Zisserman 9.6): E's two non-zero
        /// singular values are set equal, the four (R, t) candidates U W V^T / U W^T V^T, +-u3 are tested for cheirality by
        /// triangulating the inliers (midpoint method), the one with most points in front of both cameras wins.
        /// Returns null when degenerate: too few inliers, a homography explains the pair (no usable parallax), or fewer
        /// than 70 % of the inliers in front of both cameras.
        /// </summary>
        public static RelativePose? RelativePose(Correspondences c, double focal, double cx, double cy)
        {
            if (c == null) throw new ArgumentNullException(nameof(c));
            if (!(focal > 0) || !double.IsFinite(focal)) throw new ArgumentOutOfRangeException(nameof(focal), focal, "The focal must be a positive number of pixels.");
            var geo = Analyse(c);
            if (geo.Motion != PairMotion.General) return null;
            return PoseFromFundamental(c, geo.Fundamental, focal, cx, cy);
        }

        /// <summary>The pose step of <see cref="RelativePose(Correspondences, double, double, double)"/> for a given F fit.</summary>
        internal static RelativePose? PoseFromFundamental(Correspondences c, FundamentalFit fit, double focal, double cx, double cy)
        {
            if (!fit.Valid) return null;
            var k = Mat3.K(focal, cx, cy);
            var e = Mat3.Mul(Mat3.Transpose(k), fit.F, k);
            Mat3.Svd(e, 3, out var u, out _, out var v);
            if (Mat3.Det(u) < 0) for (int i = 0; i < 3; i++) u[i * 3 + 2] = -u[i * 3 + 2];
            if (Mat3.Det(v) < 0) for (int i = 0; i < 3; i++) v[i * 3 + 2] = -v[i * 3 + 2];
            var w = new double[] { 0, -1, 0, 1, 0, 0, 0, 0, 1 };
            var vt = Mat3.Transpose(v);
            var ra = Mat3.Mul(u, w, vt);
            var rb = Mat3.Mul(u, Mat3.Transpose(w), vt);
            var t = new[] { u[2], u[5], u[8] };
            var cand = new (double[] R, double[] T)[] { (ra, t), (ra, Neg(t)), (rb, t), (rb, Neg(t)) };
            // Rays of the inliers in normalised camera coordinates.
            var idx = new List<int>();
            for (int i = 0; i < c.Count; i++) if (fit.RobustWeight[i] > 0) idx.Add(i);
            if (idx.Count < 8) return null;
            int bestFront = -1; int bestK = 0;
            for (int q = 0; q < 4; q++)
            {
                int front = 0;
                foreach (int i in idx)
                {
                    var (za, zb, _) = Triangulate(cand[q].R, cand[q].T, (c.A[2 * i] - cx) / focal, (c.A[2 * i + 1] - cy) / focal, (c.B[2 * i] - cx) / focal, (c.B[2 * i + 1] - cy) / focal);
                    if (za > 0 && zb > 0) front++;
                }
                if (front > bestFront) { bestFront = front; bestK = q; }
            }
            double ratio = (double)bestFront / idx.Count;
            if (ratio < 0.7) return null;
            var (r, tt) = cand[bestK];
            var angles = new List<double>();
            foreach (int i in idx)
            {
                var (za, zb, ang) = Triangulate(r, tt, (c.A[2 * i] - cx) / focal, (c.A[2 * i + 1] - cy) / focal, (c.B[2 * i] - cx) / focal, (c.B[2 * i + 1] - cy) / focal);
                if (za > 0 && zb > 0) angles.Add(ang);
            }
            angles.Sort();
            return new RelativePose
            {
                R = r, T = tt, E = Mat3.Mul(Mat3.Skew(tt[0], tt[1], tt[2]), r), CheiralityRatio = ratio,
                MedianParallaxDeg = angles.Count > 0 ? angles[angles.Count / 2] * 180 / Math.PI : 0, Fit = fit,
            };
        }

        /// <summary>
        /// Midpoint triangulation (Hartley and Zisserman 12.5 / Beardsley et al.): rays d_a = (xa, ya, 1) from a's centre and
        /// d_b = R^T (xb, yb, 1) from b's centre C_b = -R^T t, both in a's frame; the depths (z in a, z in b) of the point
        /// midway between their closest points, and the angle between the rays (radians).
        /// </summary>
        internal static (double Za, double Zb, double Angle) Triangulate(double[] r, double[] t, double xa, double ya, double xb, double yb)
        {
            // d_b in a's frame = R^T (xb, yb, 1); C_b = -R^T t.
            double dbx = r[0] * xb + r[3] * yb + r[6], dby = r[1] * xb + r[4] * yb + r[7], dbz = r[2] * xb + r[5] * yb + r[8];
            double cbx = -(r[0] * t[0] + r[3] * t[1] + r[6] * t[2]), cby = -(r[1] * t[0] + r[4] * t[1] + r[7] * t[2]), cbz = -(r[2] * t[0] + r[5] * t[1] + r[8] * t[2]);
            double dax = xa, day = ya, daz = 1;
            // Solve [da.da, -da.db; da.db, -db.db] [la; lb] = [da.cb; db.cb].
            double aa = dax * dax + day * day + daz * daz, bb = dbx * dbx + dby * dby + dbz * dbz, ab = dax * dbx + day * dby + daz * dbz;
            double ac = dax * cbx + day * cby + daz * cbz, bc = dbx * cbx + dby * cby + dbz * cbz;
            double det = -aa * bb + ab * ab;
            double cosang = ab / Math.Sqrt(aa * bb);
            double angle = Math.Acos(Math.Max(-1, Math.Min(1, cosang)));
            if (Math.Abs(det) < 1e-18 * aa * bb) return (double.NaN, double.NaN, angle);
            double la = (-bb * ac + ab * bc) / det, lb = (aa * bc - ab * ac) / det;
            // Midpoint in a's frame.
            double px = 0.5 * (la * dax + cbx + lb * dbx), py = 0.5 * (la * day + cby + lb * dby), pz = 0.5 * (la * daz + cbz + lb * dbz);
            double zb = r[6] * px + r[7] * py + r[8] * pz + t[2];
            if (la <= 0 || lb <= 0) return (Math.Min(pz, la), Math.Min(zb, lb), angle);
            return (pz, zb, angle);
        }

        // ---------------------------------------------------------------- helpers

        /// <summary>Hartley normalisation: weighted centroid to the origin, mean distance sqrt 2. Row-major 3x3.</summary>
        internal static double[] Normalisation(double[] p, double[] w)
        {
            int n = w.Length;
            double sw = 0, mx = 0, my = 0;
            for (int i = 0; i < n; i++) { sw += w[i]; mx += w[i] * p[2 * i]; my += w[i] * p[2 * i + 1]; }
            if (!(sw > 0)) return Mat3.Identity();
            mx /= sw; my /= sw;
            double md = 0;
            for (int i = 0; i < n; i++) md += w[i] * Math.Sqrt((p[2 * i] - mx) * (p[2 * i] - mx) + (p[2 * i + 1] - my) * (p[2 * i + 1] - my));
            md /= sw;
            double s = md > 0 ? Math.Sqrt(2) / md : 1;
            return new double[] { s, 0, -s * mx, 0, s, -s * my, 0, 0, 1 };
        }

        internal static double[] Apply(double[] t, double[] p)
        {
            var q = new double[p.Length];
            for (int i = 0; i < p.Length / 2; i++)
            {
                q[2 * i] = t[0] * p[2 * i] + t[2];
                q[2 * i + 1] = t[4] * p[2 * i + 1] + t[5];
            }
            return q;
        }

        /// <summary>Inverse of a normalisation (similarity) matrix [s 0 a; 0 s b; 0 0 1].</summary>
        internal static double[] Invert(double[] t) => new double[] { 1 / t[0], 0, -t[2] / t[0], 0, 1 / t[4], -t[5] / t[4], 0, 0, 1 };

        /// <summary>
        /// Robust noise scale: 1.4826 x the median of the residuals below <paramref name="cut"/> (a Gaussian's median
        /// absolute value; truncation at 4.7 sigma changes it by less than 0.1 %), or for 2D error magnitudes
        /// (<paramref name="planar"/>) the median / 1.1774, the per-coordinate sigma. At least 1e-9 px.
        /// </summary>
        internal static double RobustSigma(double[] r, double cut, bool planar = false)
        {
            var list = new List<double>(r.Length);
            foreach (var v in r) if (v < cut) list.Add(v);
            if (list.Count == 0) return Math.Max(1e-9, cut / Tukey);
            list.Sort();
            double med = list.Count % 2 == 1 ? list[list.Count / 2] : 0.5 * (list[list.Count / 2 - 1] + list[list.Count / 2]);
            // A 2D error's magnitude is Rayleigh distributed: its median is sqrt(2 ln 2) = 1.1774 sigma per coordinate.
            return Math.Max(1e-9, (planar ? 1 / 1.1774 : 1.4826) * med);
        }

        /// <summary>
        /// The points hypotheses are scored on: all when few, else an even subset of 600 (by index). The MSAC score of a
        /// 600-point subset ranks hypotheses as the full one does up to a 4 % sampling error of the inlier share; the
        /// final fit uses every point.
        /// </summary>
        private static int[] ScoringSubset(int n)
        {
            int m = Math.Min(n, 600);
            var idx = new int[m];
            for (int k = 0; k < m; k++) idx[k] = (int)((long)k * n / m);
            return idx;
        }

        private static void DrawSample(ref GeometryRng rng, int n, int[] sample)
        {
            for (int k = 0; k < sample.Length; k++)
            {
                int j;
                bool dup;
                do
                {
                    j = rng.Below(n);
                    dup = false;
                    for (int q = 0; q < k; q++) if (sample[q] == j) { dup = true; break; }
                } while (dup);
                sample[k] = j;
            }
        }

        internal static void AddOuter(double[] m, double[] row, double w, int n)
        {
            for (int p = 0; p < n; p++)
            {
                double wp = w * row[p];
                if (wp == 0) continue;
                for (int q = p; q < n; q++) m[p * n + q] += wp * row[q];
            }
        }

        internal static void Symmetrise(double[] m, int n)
        {
            for (int p = 0; p < n; p++) for (int q = 0; q < p; q++) m[p * n + q] = m[q * n + p];
        }

        internal static double[] Normalised(double[] f)
        {
            double nrm = Mat3.Norm(f);
            int big = 0;
            for (int i = 1; i < 9; i++) if (Math.Abs(f[i]) > Math.Abs(f[big])) big = i;
            return Mat3.Scale(f, (f[big] < 0 ? -1 : 1) / nrm);
        }

        private static double Diff(double[] a, double[] b)
        {
            double s = 0;
            for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
            return Math.Sqrt(s);
        }

        private static double[] Neg(double[] t) => new[] { -t[0], -t[1], -t[2] };
    }
}
