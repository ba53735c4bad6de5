using System;
using System.Numerics;
using System.Runtime.InteropServices;
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
            var rays = Rays(p, s);
            Parallel.For(0, p.Edges.Count, e => Edge(p, s, rays, kind, robustPx, e, into.Records[e], jacobians ? into.Pixels[e] : null, jacobians));
        }

        /// <summary>The undistorted ray of every coarse cell at the state's f and k1 (step 1 of <see cref="BundleModel"/>), shared
        /// by all edges: every keyframe has the same cells.</summary>
        public static BundleModel.Ray[] Rays(BundleProblem p, BundleState s)
        {
            var rays = new BundleModel.Ray[p.Cells];
            for (int gy = 0; gy < p.Gh; gy++)
                for (int gx = 0; gx < p.Gw; gx++)
                    rays[gy * p.Gw + gx] = BundleModel.Ray.Of(p.CellCenter(gx), p.CellCenter(gy), p.PrincipalX, p.PrincipalY, s.Focal, s.K1);
            return rays;
        }

        public static void Edge(BundleProblem p, BundleState s, BundleRobust kind, double robustPx, int e, double[] rec, double[]? pix, bool jacobians) =>
            Edge(p, s, Rays(p, s), kind, robustPx, e, rec, pix, jacobians);

        private static void Edge(BundleProblem p, BundleState s, BundleModel.Ray[] rays, BundleRobust kind, double robustPx, int e, double[] rec, double[]? pix, bool jacobians)
        {
            Array.Clear(rec, 0, rec.Length);
            if (pix != null) Array.Clear(pix, 0, pix.Length);
            var ed = p.Edges[e];
            Span<double> R = stackalloc double[9];
            Span<double> t = stackalloc double[3];
            BundleModel.Relative(s.Poses[ed.I], s.Poses[ed.J], R, t);
            Span<double> jac = stackalloc double[2 * BundleModel.Cols];
            // The sums over the edge's pixels in the reduced columns (pose J's six, log f, k1; see ExpandPoseI for why pose
            // I's columns are not summed): the full 8 x 8 row by row, summed in SIMD vectors of 8 / Vector<double>.Count a
            // row, and the gradient.
            Span<double> h = stackalloc double[64];
            Span<double> g = stackalloc double[8];
            Span<double> jr = stackalloc double[8];
            h.Clear(); g.Clear();
            var hv = MemoryMarshal.Cast<double, Vector<double>>(h);
            var jv = MemoryMarshal.Cast<double, Vector<double>>(jr);
            int perRow = jv.Length;
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
                    bool ok = BundleModel.Transfer(R, t, cx, cy, f, k1, rays[cell], rho[cell],
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
                        // Pose J's six columns, then log f and k1 (the Jacobian's columns 6-11, 13, 14).
                        j.Slice(6, 6).CopyTo(jr);
                        jr[6] = j[BundleModel.ColLogF]; jr[7] = j[BundleModel.ColK1];
                        for (int a = 0; a < 8; a++)
                        {
                            double wa = w * jr[a];
                            var wav = new Vector<double>(wa);
                            for (int k = 0; k < perRow; k++) hv[a * perRow + k] += wav * jv[k];
                            g[a] += wa * r;
                        }
                        if (pix != null)
                        {
                            // E_J and E_c lie side by side in a pixel's values (PixE + 6 .. PixEc + 1), in jr's order.
                            int b0 = cell * PixelWidth;
                            double wr = w * j[BundleModel.ColRho];
                            var wrv = new Vector<double>(wr);
                            var pv = MemoryMarshal.Cast<double, Vector<double>>(pix.AsSpan(b0 + PixE + 6, 8));
                            for (int k = 0; k < perRow; k++) pv[k] += wrv * jv[k];
                            pix[b0 + PixC] += wr * j[BundleModel.ColRho];
                            pix[b0 + PixG] += wr * r;
                        }
                    }
                    if (pix != null) pix[cell * PixelWidth + PixW] = w;
                }
            if (!jacobians) return;
            ExpandPoseI(R, t, h, g, rec, pix);
        }

        /// <summary>
        /// Pose I's columns of an edge's Jacobian follow from pose J's: with q = R x_n + rho t, a right increment (v_I, w_I)
        /// of T_I moves q by rho R v_I + R (w_I x x_n), the same as the increment v_J = -R v_I - [t]x R w_I, w_J = -R w_I of
        /// T_J (which moves q by -rho v_J - w_J x q). So J_I = J_J M for every pixel of the edge, with
        ///   M = -[[R, [t]x R], [0, R]]   (6 x 6, (v, w) order: minus the adjoint of G_JI),
        /// and the sums need only pose J's columns: H_IJ = M^T H_JJ, H_II = M^T H_JJ M, H_Ic = M^T H_Jc, g_I = M^T g_J and per
        /// pixel E_I = M^T E_J. The pixel loop then sums 36 products per residual row instead of 105 (the 12 pose and 2
        /// intrinsics columns), and the expansion runs once per edge (once per cell for E). Exact up to rounding.
        /// </summary>
        /// <param name="h">The 8 x 8 sums (pose J's six columns, log f, k1), row by row (the upper triangle is read).</param>
        /// <param name="g">The gradient in the same columns.</param>
        private static void ExpandPoseI(ReadOnlySpan<double> R, ReadOnlySpan<double> t, ReadOnlySpan<double> h, ReadOnlySpan<double> g, double[] rec, double[]? pix)
        {
            Span<double> M = stackalloc double[36];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                {
                    // ([t]x R)[a, b] = t x (column b of R), component a.
                    int a1 = (a + 1) % 3, a2 = (a + 2) % 3;
                    double txr = t[a1] * R[3 * a2 + b] - t[a2] * R[3 * a1 + b];
                    M[6 * a + b] = -R[3 * a + b];
                    M[6 * a + 3 + b] = -txr;
                    M[6 * (3 + a) + b] = 0;
                    M[6 * (3 + a) + 3 + b] = -R[3 * a + b];
                }
            Span<double> H = stackalloc double[64];
            for (int a = 0; a < 8; a++)
                for (int b = a; b < 8; b++) { H[8 * a + b] = h[8 * a + b]; H[8 * b + a] = h[8 * a + b]; }
            // Pose J's own blocks, the intrinsics and their gradient.
            for (int a = 0; a < 6; a++)
            {
                for (int b = a; b < 6; b++) rec[Upper(6 + a, 6 + b)] = H[8 * a + b];
                rec[OffHpc + 2 * (6 + a)] = H[8 * a + 6];
                rec[OffHpc + 2 * (6 + a) + 1] = H[8 * a + 7];
                rec[OffGp + 6 + a] = g[a];
            }
            rec[OffHcc] = H[8 * 6 + 6]; rec[OffHcc + 1] = H[8 * 6 + 7]; rec[OffHcc + 2] = H[8 * 7 + 7];
            rec[OffGc] = g[6]; rec[OffGc + 1] = g[7];
            // X = M^T [H_JJ | H_Jc | g_J] (6 x 9): the I-J block, the I-intrinsics block and g_I; then H_II = X M.
            Span<double> X = stackalloc double[54];
            for (int a = 0; a < 6; a++)
                for (int b = 0; b < 9; b++)
                {
                    double v = 0;
                    for (int k = 0; k < 6; k++) v += M[6 * k + a] * (b < 8 ? H[8 * k + b] : g[k]);
                    X[9 * a + b] = v;
                }
            for (int a = 0; a < 6; a++)
            {
                for (int b = 0; b < 6; b++) rec[Upper(a, 6 + b)] = X[9 * a + b];
                for (int b = a; b < 6; b++)
                {
                    double v = 0;
                    for (int k = 0; k < 6; k++) v += X[9 * a + k] * M[6 * k + b];
                    rec[Upper(a, b)] = v;
                }
                rec[OffHpc + 2 * a] = X[9 * a + 6];
                rec[OffHpc + 2 * a + 1] = X[9 * a + 7];
                rec[OffGp + a] = X[9 * a + 8];
            }
            if (pix == null) return;
            // Per pixel E_I = M^T E_J = sum_k E_J[k] (row k of M), in SIMD vectors over the rows padded to 8.
            Span<double> rows = stackalloc double[48];
            rows.Clear();
            for (int k = 0; k < 6; k++) M.Slice(6 * k, 6).CopyTo(rows.Slice(8 * k, 6));
            var rv = MemoryMarshal.Cast<double, Vector<double>>(rows);
            Span<double> ei = stackalloc double[8];
            var ev = MemoryMarshal.Cast<double, Vector<double>>(ei);
            int perRow = ev.Length;
            for (int b0 = 0; b0 < pix.Length; b0 += PixelWidth)
            {
                if (pix[b0 + PixW] == 0) continue;
                ev.Clear();
                for (int k = 0; k < 6; k++)
                {
                    var ek = new Vector<double>(pix[b0 + PixE + 6 + k]);
                    for (int q = 0; q < perRow; q++) ev[q] += ek * rv[k * perRow + q];
                }
                ei.Slice(0, 6).CopyTo(pix.AsSpan(b0 + PixE, 6));
            }
        }
    }
}
