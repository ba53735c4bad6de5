using System;

namespace FlowMap.Solve
{
    /// <summary>
    /// The solver's stages in plain double precision: the reference of every kernel in FlowMap.Shaders/solve/ and the CPU
    /// backend. Pair k relates frame i = k and j = k + 1; the pose T_k maps camera-i points to camera-j points (Y = R X + t).
    /// </summary>
    internal static class SolverReference
    {
        /// <summary>Unit-depth ray of pixel (x, y): ((x - cx) / f, (y - cy) / f, 1).</summary>
        public static void Ray(SolverProblem p, double f, double x, double y, out double rx, out double ry)
        {
            rx = (x - p.Cx) / f; ry = (y - p.Cy) / f;
        }

        /// <summary>Bilinear sample of a depth map at a real position inside the image; false outside.</summary>
        public static bool SampleInside(int w, int h, double px, double py, out int x0, out int y0, out double ax, out double ay)
        {
            x0 = y0 = 0; ax = ay = 0;
            if (!(px >= 0 && py >= 0 && px <= w - 1 && py <= h - 1)) return false;
            x0 = Math.Min((int)px, Math.Max(0, w - 2)); y0 = Math.Min((int)py, Math.Max(0, h - 2));
            ax = px - x0; ay = py - y0;
            return true;
        }

        private static double Tap(ReadOnlySpan<double> z, int w, int h, int x, int y) => z[Math.Min(y, h - 1) * w + Math.Min(x, w - 1)];

        /// <summary>
        /// Stage "procrustes_sums": the 16 weighted sums of pair k. For pixel u of frame i with weight w = conf_fwd(u)
        /// (zero when u + flow leaves the image): X = z_i(u) ray(u), Y = z_j(u + flow(u)) ray(u + flow(u)) (bilinear z).
        /// </summary>
        public static double[] ProcrustesSums(SolverProblem p, int k, ReadOnlySpan<double> zi, ReadOnlySpan<double> zj, double f, int stride = 1)
        {
            var s = new double[Procrustes.SumCount];
            var flow = p.Forward[k]; var conf = p.ForwardConf[k];
            int w = p.W, h = p.H;
            for (int y = 0; y < h; y += stride)
                for (int x = 0; x < w; x += stride)
                {
                    int i = y * w + x;
                    double wt = conf[i];
                    if (wt <= 0) continue;
                    double px = x + (double)flow[2 * i], py = y + (double)flow[2 * i + 1];
                    if (!SampleInside(w, h, px, py, out int x0, out int y0, out double ax, out double ay)) continue;
                    double zs = (Tap(zj, w, h, x0, y0) * (1 - ax) + Tap(zj, w, h, x0 + 1, y0) * ax) * (1 - ay)
                              + (Tap(zj, w, h, x0, y0 + 1) * (1 - ax) + Tap(zj, w, h, x0 + 1, y0 + 1) * ax) * ay;
                    Ray(p, f, x, y, out double rx, out double ry);
                    Ray(p, f, px, py, out double sx, out double sy);
                    double X0 = zi[i] * rx, X1 = zi[i] * ry, X2 = zi[i];
                    double Y0 = zs * sx, Y1 = zs * sy, Y2 = zs;
                    s[0] += wt;
                    s[1] += wt * X0; s[2] += wt * X1; s[3] += wt * X2;
                    s[4] += wt * Y0; s[5] += wt * Y1; s[6] += wt * Y2;
                    s[7] += wt * X0 * Y0; s[8] += wt * X0 * Y1; s[9] += wt * X0 * Y2;
                    s[10] += wt * X1 * Y0; s[11] += wt * X1 * Y1; s[12] += wt * X1 * Y2;
                    s[13] += wt * X2 * Y0; s[14] += wt * X2 * Y1; s[15] += wt * X2 * Y2;
                }
            return s;
        }

        /// <summary>Huber on the end-point error in units of delta: 0.5 e^2 below 1, e - 0.5 above; and dh/dr (r in pixels).</summary>
        public static double Huber(double rx, double ry, double delta, out double gx, out double gy)
        {
            double e = Math.Sqrt(rx * rx + ry * ry) / delta;
            if (e < 1)
            {
                gx = rx / (delta * delta); gy = ry / (delta * delta);
                return 0.5 * e * e;
            }
            double n = Math.Sqrt(rx * rx + ry * ry);
            gx = rx / (delta * n); gy = ry / (delta * n);
            return e - 0.5;
        }

        /// <summary>Fraction of the source depth below which a transformed point counts as behind the camera (masked).</summary>
        public const double MinDepthRatio = 0.01;

        /// <summary>Gradients of one pair's flow loss.</summary>
        public sealed class PairGrad
        {
            public double[] GZi, GZj, GR = new double[9], GT = new double[3];
            public double GF;
            public double Loss;
            public PairGrad(int pixels) { GZi = new double[pixels]; GZj = new double[pixels]; }
        }

        /// <summary>
        /// Stage "flow_loss": the induced-flow loss of pair k, both directions, sum over pixels of
        /// conf * huber(|induced - observed| / delta) / FlowTerms, and its gradient w.r.t. z_i, z_j, R, t and f.
        /// Forward: X = z_i(u) ray(u), P = R X + t. Backward: X = z_j(u) ray(u), P = R^T (X - t). Induced flow = f P.xy / P.z + c - u.
        /// </summary>
        public static PairGrad FlowLoss(SolverProblem p, int k, ReadOnlySpan<double> zi, ReadOnlySpan<double> zj,
            double[] r, double[] t, double f, bool gradient = true, int stride = 1)
        {
            var g = new PairGrad(gradient ? p.Pixels : 0);
            double scale = 1.0 / p.FlowTerms * stride * stride;
            for (int dir = 0; dir < 2; dir++)
            {
                var flow = dir == 0 ? p.Forward[k] : p.Backward[k];
                var conf = dir == 0 ? p.ForwardConf[k] : p.BackwardConf[k];
                var z = dir == 0 ? zi : zj;
                for (int y = 0; y < p.H; y += stride)
                    for (int x = 0; x < p.W; x += stride)
                    {
                        int i = y * p.W + x;
                        double c = conf[i] * scale;
                        if (c <= 0) continue;
                        Ray(p, f, x, y, out double rx, out double ry);
                        double X0 = z[i] * rx, X1 = z[i] * ry, X2 = z[i];
                        double P0, P1, P2, D0 = 0, D1 = 0, D2 = 0;
                        if (dir == 0)
                        {
                            P0 = r[0] * X0 + r[1] * X1 + r[2] * X2 + t[0];
                            P1 = r[3] * X0 + r[4] * X1 + r[5] * X2 + t[1];
                            P2 = r[6] * X0 + r[7] * X1 + r[8] * X2 + t[2];
                        }
                        else
                        {
                            D0 = X0 - t[0]; D1 = X1 - t[1]; D2 = X2 - t[2];
                            P0 = r[0] * D0 + r[3] * D1 + r[6] * D2;
                            P1 = r[1] * D0 + r[4] * D1 + r[7] * D2;
                            P2 = r[2] * D0 + r[5] * D1 + r[8] * D2;
                        }
                        if (!(P2 > MinDepthRatio * X2)) continue;
                        double a = P0 / P2, b = P1 / P2;
                        double resx = f * a + p.Cx - x - flow[2 * i];
                        double resy = f * b + p.Cy - y - flow[2 * i + 1];
                        g.Loss += c * Huber(resx, resy, p.DeltaPx, out double hx, out double hy);
                        if (!gradient) continue;
                        hx *= c; hy *= c;
                        // d/dP of the projection, d/df of the projection.
                        double gP0 = f / P2 * hx, gP1 = f / P2 * hy, gP2 = -f / P2 * (hx * a + hy * b);
                        g.GF += hx * a + hy * b;
                        double gX0, gX1, gX2;
                        if (dir == 0)
                        {
                            g.GR[0] += gP0 * X0; g.GR[1] += gP0 * X1; g.GR[2] += gP0 * X2;
                            g.GR[3] += gP1 * X0; g.GR[4] += gP1 * X1; g.GR[5] += gP1 * X2;
                            g.GR[6] += gP2 * X0; g.GR[7] += gP2 * X1; g.GR[8] += gP2 * X2;
                            g.GT[0] += gP0; g.GT[1] += gP1; g.GT[2] += gP2;
                            gX0 = r[0] * gP0 + r[3] * gP1 + r[6] * gP2;
                            gX1 = r[1] * gP0 + r[4] * gP1 + r[7] * gP2;
                            gX2 = r[2] * gP0 + r[5] * gP1 + r[8] * gP2;
                        }
                        else
                        {
                            // P_a = sum_b R_ba D_b: dL/dR_ba = gP_a D_b.
                            g.GR[0] += D0 * gP0; g.GR[1] += D0 * gP1; g.GR[2] += D0 * gP2;
                            g.GR[3] += D1 * gP0; g.GR[4] += D1 * gP1; g.GR[5] += D1 * gP2;
                            g.GR[6] += D2 * gP0; g.GR[7] += D2 * gP1; g.GR[8] += D2 * gP2;
                            gX0 = r[0] * gP0 + r[1] * gP1 + r[2] * gP2;
                            gX1 = r[3] * gP0 + r[4] * gP1 + r[5] * gP2;
                            gX2 = r[6] * gP0 + r[7] * gP1 + r[8] * gP2;
                            g.GT[0] -= gX0; g.GT[1] -= gX1; g.GT[2] -= gX2;
                        }
                        // X = z ray(u; f): dX/dz = ray, dX/df = -(X0 / f, X1 / f, 0).
                        double gz = gX0 * rx + gX1 * ry + gX2;
                        if (dir == 0) g.GZi[i] += gz; else g.GZj[i] += gz;
                        g.GF -= (gX0 * X0 + gX1 * X1) / f;
                    }
            }
            return g;
        }

        /// <summary>
        /// Stage "procrustes_points_backward": from dL/dC, dL/dmuX, dL/dmuY of pair k to dL/dz_i, dL/dz_j (added) and
        /// returned dL/df. gX(u) = w (gC Y'(u) + gMuX / W), gY(u) = w (gC^T X'(u) + gMuY / W).
        /// </summary>
        public static double ProcrustesPointsBackward(SolverProblem p, int k, ReadOnlySpan<double> zi, ReadOnlySpan<double> zj, double f,
            Procrustes.Fit fit, double[] gC, double[] gMuX, double[] gMuY, Span<double> gzi, Span<double> gzj)
        {
            if (!(fit.Weight > 1e-12)) return 0;
            var flow = p.Forward[k]; var conf = p.ForwardConf[k];
            int w = p.W, h = p.H;
            double gf = 0, invW = 1 / fit.Weight;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x;
                    double wt = conf[i];
                    if (wt <= 0) continue;
                    double px = x + (double)flow[2 * i], py = y + (double)flow[2 * i + 1];
                    if (!SampleInside(w, h, px, py, out int x0, out int y0, out double ax, out double ay)) continue;
                    double zs = (Tap(zj, w, h, x0, y0) * (1 - ax) + Tap(zj, w, h, x0 + 1, y0) * ax) * (1 - ay)
                              + (Tap(zj, w, h, x0, y0 + 1) * (1 - ax) + Tap(zj, w, h, x0 + 1, y0 + 1) * ax) * ay;
                    Ray(p, f, x, y, out double rx, out double ry);
                    Ray(p, f, px, py, out double sx, out double sy);
                    double X0 = zi[i] * rx, X1 = zi[i] * ry, X2 = zi[i];
                    double Y0 = zs * sx, Y1 = zs * sy, Y2 = zs;
                    double x0c = X0 - fit.MuX[0], x1c = X1 - fit.MuX[1], x2c = X2 - fit.MuX[2];
                    double y0c = Y0 - fit.MuY[0], y1c = Y1 - fit.MuY[1], y2c = Y2 - fit.MuY[2];
                    double gX0 = wt * (gC[0] * y0c + gC[1] * y1c + gC[2] * y2c + gMuX[0] * invW);
                    double gX1 = wt * (gC[3] * y0c + gC[4] * y1c + gC[5] * y2c + gMuX[1] * invW);
                    double gX2 = wt * (gC[6] * y0c + gC[7] * y1c + gC[8] * y2c + gMuX[2] * invW);
                    double gY0 = wt * (gC[0] * x0c + gC[3] * x1c + gC[6] * x2c + gMuY[0] * invW);
                    double gY1 = wt * (gC[1] * x0c + gC[4] * x1c + gC[7] * x2c + gMuY[1] * invW);
                    double gY2 = wt * (gC[2] * x0c + gC[5] * x1c + gC[8] * x2c + gMuY[2] * invW);
                    gzi[i] += gX0 * rx + gX1 * ry + gX2;
                    double gzs = gY0 * sx + gY1 * sy + gY2;
                    // Transpose of the bilinear tap (clamped taps at the last row/column carry zero weight).
                    gzj[y0 * w + x0] += gzs * (1 - ax) * (1 - ay);
                    if (ax > 0) gzj[y0 * w + x0 + 1] += gzs * ax * (1 - ay);
                    if (ay > 0) gzj[(y0 + 1) * w + x0] += gzs * (1 - ax) * ay;
                    if (ax > 0 && ay > 0) gzj[(y0 + 1) * w + x0 + 1] += gzs * ax * ay;
                    gf -= (gX0 * X0 + gX1 * X1 + gY0 * Y0 + gY1 * Y1) / f;
                }
            return gf;
        }

        /// <summary>
        /// Stage "smoothness": lambda / (N nodes) * sum over frames and both grid levels of squared second differences along x and y;
        /// adds its gradient into <paramref name="grad"/>.
        /// </summary>
        public static double Smoothness(SolverProblem p, ReadOnlySpan<double> prm, Span<double> grad)
        {
            double lam = p.SmoothnessWeight;
            double loss = 0;
            var g = p.Grid;
            for (int fr = 0; fr < p.N; fr++)
            {
                loss += SecondDifferences(prm.Slice(p.ThetaOffset(fr), g.FineCount), grad.Slice(p.ThetaOffset(fr), g.FineCount), g.GridWidth, g.GridHeight, lam);
                int o = p.ThetaOffset(fr) + g.FineCount, n = g.CoarseWidth * g.CoarseHeight;
                loss += SecondDifferences(prm.Slice(o, n), grad.Slice(o, n), g.CoarseWidth, g.CoarseHeight, lam);
            }
            return loss;
        }

        private static double SecondDifferences(ReadOnlySpan<double> th, Span<double> grad, int gw, int gh, double lam)
        {
            double loss = 0;
            for (int b = 0; b < gh; b++)
                for (int a = 0; a < gw; a++)
                {
                    if (a >= 1 && a + 1 < gw)
                    {
                        double d = th[b * gw + a - 1] - 2 * th[b * gw + a] + th[b * gw + a + 1];
                        loss += lam * d * d;
                        grad[b * gw + a - 1] += 2 * lam * d; grad[b * gw + a] -= 4 * lam * d; grad[b * gw + a + 1] += 2 * lam * d;
                    }
                    if (b >= 1 && b + 1 < gh)
                    {
                        double d = th[(b - 1) * gw + a] - 2 * th[b * gw + a] + th[(b + 1) * gw + a];
                        loss += lam * d * d;
                        grad[(b - 1) * gw + a] += 2 * lam * d; grad[b * gw + a] -= 4 * lam * d; grad[(b + 1) * gw + a] += 2 * lam * d;
                    }
                }
            return loss;
        }

        /// <summary>Depth of every frame from the parameters.</summary>
        public static double[][] Depths(SolverProblem p, ReadOnlySpan<double> prm)
        {
            var z = new double[p.N][];
            var q = new double[p.Pixels];
            for (int fr = 0; fr < p.N; fr++)
            {
                z[fr] = new double[p.Pixels];
                p.Grid.Forward(prm.Slice(p.ThetaOffset(fr), p.Nodes), p.Prior != null ? p.Prior[fr] : default,
                    p.Prior != null ? prm[p.ScaleOffset(fr)] : 0, p.Prior != null ? prm[p.ShiftOffset(fr)] : 0, q, z[fr]);
            }
            return z;
        }

        /// <summary>Everything one evaluation produces.</summary>
        public sealed class Evaluation
        {
            public double Loss, FlowLoss, SmoothLoss;
            public double[] Grad = Array.Empty<double>();
            public double[][] Depth = Array.Empty<double[]>();
            public Procrustes.Fit[] Fits = Array.Empty<Procrustes.Fit>();
        }

        /// <summary>
        /// The whole loss at focal <paramref name="f"/> (pixels) and its gradient w.r.t. every parameter (the log-focal entry
        /// receives dL/dlog f). With <paramref name="gradientThroughPoses"/> false the poses are treated as constants.
        /// </summary>
        public static Evaluation Evaluate(SolverProblem p, ReadOnlySpan<double> prm, double f, bool gradientThroughPoses, bool gradient = true)
        {
            var ev = new Evaluation { Grad = new double[p.ParamCount] };
            ev.Depth = Depths(p, prm);
            ev.Fits = new Procrustes.Fit[p.N - 1];
            var gz = new double[p.N][];
            for (int fr = 0; fr < p.N; fr++) gz[fr] = new double[p.Pixels];
            double gf = 0;
            for (int k = 0; k < p.N - 1; k++)
            {
                var fit = Procrustes.Solve(ProcrustesSums(p, k, ev.Depth[k], ev.Depth[k + 1], f));
                ev.Fits[k] = fit;
                var pg = FlowLoss(p, k, ev.Depth[k], ev.Depth[k + 1], fit.R, fit.T, f, gradient);
                ev.FlowLoss += pg.Loss;
                if (!gradient) continue;
                for (int i = 0; i < p.Pixels; i++) { gz[k][i] += pg.GZi[i]; gz[k + 1][i] += pg.GZj[i]; }
                gf += pg.GF;
                if (gradientThroughPoses)
                {
                    var gC = new double[9]; var gMuX = new double[3]; var gMuY = new double[3];
                    Procrustes.Backward(fit, pg.GR, pg.GT, gC, gMuX, gMuY);
                    gf += ProcrustesPointsBackward(p, k, ev.Depth[k], ev.Depth[k + 1], f, fit, gC, gMuX, gMuY, gz[k], gz[k + 1]);
                }
            }
            ev.SmoothLoss = Smoothness(p, prm, gradient ? ev.Grad : new double[p.ParamCount]);
            ev.Loss = ev.FlowLoss + ev.SmoothLoss;
            if (!gradient) return ev;
            for (int fr = 0; fr < p.N; fr++)
            {
                var (gs, gb) = p.Grid.Backward(prm.Slice(p.ThetaOffset(fr), p.Nodes), p.Prior != null ? p.Prior[fr] : default,
                    p.Prior != null ? prm[p.ScaleOffset(fr)] : 0, p.Prior != null ? prm[p.ShiftOffset(fr)] : 0,
                    gz[fr], ev.Grad.AsSpan(p.ThetaOffset(fr), p.Nodes));
                if (p.Prior != null) { ev.Grad[p.ScaleOffset(fr)] += gs; ev.Grad[p.ShiftOffset(fr)] += gb; }
            }
            ev.Grad[p.FocalOffset] = gf * f;
            return ev;
        }

        /// <summary>Log-spaced candidate focals in pixels.</summary>
        public static double[] FocalCandidates(SolverProblem p)
        {
            int n = Math.Max(2, p.Tuning.FocalCandidates);
            var c = new double[n];
            double l0 = Math.Log(p.Tuning.FocalMin), l1 = Math.Log(p.Tuning.FocalMax);
            for (int i = 0; i < n; i++) c[i] = Math.Exp(l0 + (l1 - l0) * i / (n - 1)) * p.Norm;
            return c;
        }

        /// <summary>
        /// Stage "focal_candidates": each candidate focal scored on pair 0 (pixels every CandidateStride) by the flow loss its own Procrustes pose induces;
        /// returns the softmin-weighted focal (weights exp(-k (E_c / E_min - 1))) and the errors.
        /// </summary>
        public static double SoftminFocal(SolverProblem p, double[][] depth, double[] candidates, out double[] errors)
        {
            errors = new double[candidates.Length];
            for (int c = 0; c < candidates.Length; c++)
            {
                var fit = Procrustes.Solve(ProcrustesSums(p, 0, depth[0], depth[1], candidates[c], p.CandidateStride));
                errors[c] = FlowLoss(p, 0, depth[0], depth[1], fit.R, fit.T, candidates[c], gradient: false, stride: p.CandidateStride).Loss;
            }
            return SoftminCombine(p, candidates, errors);
        }

        public static double SoftminCombine(SolverProblem p, double[] candidates, double[] errors)
        {
            double emin = double.MaxValue;
            foreach (var e in errors) emin = Math.Min(emin, e);
            double den = Math.Max(emin, 1e-30), sw = 0, sf = 0;
            for (int c = 0; c < candidates.Length; c++)
            {
                double wgt = Math.Exp(-p.Tuning.SoftminSharpness * (errors[c] / den - 1));
                sw += wgt; sf += wgt * Math.Log(candidates[c]);
            }
            return Math.Exp(sf / sw);
        }
    }
}
