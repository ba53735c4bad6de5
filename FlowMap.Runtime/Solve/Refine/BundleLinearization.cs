using System;
using System.Threading.Tasks;

namespace FlowMap.Solve.Refine
{
    /// <summary>
    /// The normal-equation blocks of every edge at a state: the linearisation the reduced camera system is built from.
    /// Per edge a record of <see cref="RecordWidth"/> sums over its valid coarse pixels (w = confidence x robust weight,
    /// J_p the 2 x 12 pose Jacobian of (I, J), J_c the 2 x 2 intrinsics Jacobian (log f, k1), r the residual):
    ///   [0, 78)    H_pp = sum w J_p^T J_p, upper triangle of 12 x 12 row by row (H_II, H_IJ, H_JJ)
    ///   [78, 102)  H_pc = sum w J_p^T J_c, 12 x 2 row-major
    ///   [102, 105) H_cc = sum w J_c^T J_c: (0,0), (0,1), (1,1)
    ///   [105, 117) g_p = sum w J_p^T r;  [117, 119) g_c = sum w J_c^T r
    ///   119 robust cost sum conf rho(|r|); 120 sum conf; 121 sum conf |r|^2; 122 valid residual count
    /// and per coarse pixel <see cref="PixelWidth"/> values (zero when dropped): E_I (6), E_J (6), E_c (2) = w J^T J_rho,
    /// C = w |J_rho|^2, g_d = w J_rho . r, and w.
    /// </summary>
    internal sealed class BundleLinearization
    {
        public const int RecordWidth = 123;
        public const int PixelWidth = 17;
        public const int OffHpc = 78, OffHcc = 102, OffGp = 105, OffGc = 117, OffCost = 119, OffConf = 120, OffSq = 121, OffCount = 122;
        public const int PixE = 0, PixEc = 12, PixC = 14, PixG = 15, PixW = 16;

        public BundleLinearization(int edges, int cells)
        {
            Records = new double[edges][];
            Pixels = new double[edges][];
            for (int e = 0; e < edges; e++) { Records[e] = new double[RecordWidth]; Pixels[e] = new double[cells * PixelWidth]; }
        }

        public double[][] Records { get; }
        public double[][] Pixels { get; }

        public double Cost { get { double s = 0; foreach (var r in Records) s += r[OffCost]; return s; } }

        /// <summary>Sum of the confidence of the observations that projected (the weight behind <see cref="RmsPx"/>).</summary>
        public double ConfidenceSum { get { double c = 0; foreach (var r in Records) c += r[OffConf]; return c; } }

        public double RmsPx
        {
            get
            {
                double c = 0, q = 0;
                foreach (var r in Records) { c += r[OffConf]; q += r[OffSq]; }
                return c > 0 ? Math.Sqrt(q / c) : 0;
            }
        }

        /// <summary>Index of (row, col), row &lt;= col, in the upper triangle of a 12 x 12 matrix stored row by row.</summary>
        public static int Upper(int row, int col) => row * 12 - row * (row - 1) / 2 + (col - row);

        /// <summary>The CPU reference: linearises every edge at <paramref name="s"/> with robust scale <paramref name="robustPx"/>
        /// (Jacobian blocks and per-pixel values only when <paramref name="jacobians"/>; the cost sums always). A residual
        /// dropped at this state (behind J, outside the radial model's range) costs as a residual of W pixels, so a step
        /// that pushes points behind a camera is not rewarded; and a residual that would cost more than that is dropped too, so
        /// the cost of an observation is continuous where its point crosses the camera plane: a point pushed behind a camera
        /// (whose residual is dropped and has no gradient) is no wall against the steps of the other variables, which
        /// would bring it back with a huge residual (FlowMap.Tests/Issues/BundleStepCrossedBehindACamera.cs).</summary>
        public static void Compute(BundleProblem p, BundleState s, BundleRobust kind, double robustPx, BundleLinearization into, bool jacobians)
        {
            Parallel.For(0, p.Edges.Count, e => Edge(p, s, kind, robustPx, e, into.Records[e], jacobians ? into.Pixels[e] : null, jacobians));
        }

        public static void Edge(BundleProblem p, BundleState s, BundleRobust kind, double robustPx, int e, double[] rec, double[]? pix, bool jacobians)
        {
            Array.Clear(rec, 0, rec.Length);
            if (pix != null) Array.Clear(pix, 0, pix.Length);
            var ed = p.Edges[e];
            Span<double> R = stackalloc double[9];
            Span<double> t = stackalloc double[3];
            BundleModel.Relative(s.Poses[ed.I], s.Poses[ed.J], R, t);
            Span<double> jac = stackalloc double[2 * BundleModel.Cols];
            var obs = p.Obs[e];
            var rho = s.InverseDepth[ed.I];
            double cx = p.PrincipalX, cy = p.PrincipalY, f = s.Focal, k1 = s.K1;
            double penalty;
            BundleModel.Robust(kind, robustPx, (double)p.Width * p.Width, out _, out penalty);
            for (int gy = 0; gy < p.Gh; gy++)
                for (int gx = 0; gx < p.Gw; gx++)
                {
                    int cell = gy * p.Gw + gx;
                    double conf = obs[4 * cell + 2];
                    if (!(conf > 0)) continue;
                    bool ok = BundleModel.Residual(R, t, cx, cy, f, k1, p.CellCenter(gx), p.CellCenter(gy), rho[cell],
                        obs[4 * cell], obs[4 * cell + 1], out double rx, out double ry, jacobians ? jac : Span<double>.Empty);
                    if (!ok) { rec[OffCost] += conf * penalty; continue; }
                    double n2 = rx * rx + ry * ry;
                    BundleModel.Robust(kind, robustPx, n2, out double rw, out double cost);
                    // Costlier than a dropped residual: dropped too. Approaching the camera plane the residual grows without
                    // bound, so without this the cost would be a wall in front of the plane and a plateau behind it.
                    if (cost > penalty) { rec[OffCost] += conf * penalty; continue; }
                    rec[OffCost] += conf * cost;
                    rec[OffConf] += conf;
                    rec[OffSq] += conf * n2;
                    rec[OffCount] += 1;
                    if (!jacobians) continue;
                    double w = conf * rw;
                    for (int row = 0; row < 2; row++)
                    {
                        var j = jac.Slice(row * BundleModel.Cols, BundleModel.Cols);
                        double r = row == 0 ? rx : ry;
                        for (int a = 0; a < 12; a++)
                        {
                            double wa = w * j[a];
                            if (wa == 0) continue;
                            int baseIdx = Upper(a, a);
                            for (int b = a; b < 12; b++) rec[baseIdx + b - a] += wa * j[b];
                            rec[OffHpc + 2 * a] += wa * j[BundleModel.ColLogF];
                            rec[OffHpc + 2 * a + 1] += wa * j[BundleModel.ColK1];
                            rec[OffGp + a] += wa * r;
                        }
                        double wf = w * j[BundleModel.ColLogF], wk = w * j[BundleModel.ColK1];
                        rec[OffHcc] += wf * j[BundleModel.ColLogF];
                        rec[OffHcc + 1] += wf * j[BundleModel.ColK1];
                        rec[OffHcc + 2] += wk * j[BundleModel.ColK1];
                        rec[OffGc] += wf * r;
                        rec[OffGc + 1] += wk * r;
                        if (pix != null)
                        {
                            int b0 = cell * PixelWidth;
                            double wr = w * j[BundleModel.ColRho];
                            for (int a = 0; a < 12; a++) pix[b0 + PixE + a] += wr * j[a];
                            pix[b0 + PixEc] += wr * j[BundleModel.ColLogF];
                            pix[b0 + PixEc + 1] += wr * j[BundleModel.ColK1];
                            pix[b0 + PixC] += wr * j[BundleModel.ColRho];
                            pix[b0 + PixG] += wr * r;
                        }
                    }
                    if (pix != null) pix[cell * PixelWidth + PixW] = w;
                }
        }
    }
}
