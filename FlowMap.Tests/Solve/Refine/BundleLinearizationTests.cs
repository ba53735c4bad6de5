using System;
using FlowMap.Solve.Refine;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve.Refine
{
    /// <summary>
    /// BundleLinearization sums only pose J's columns per pixel and expands pose I's blocks once per edge (J_I = J_J M,
    /// M minus the adjoint of G_JI; BundleLinearization.ExpandPoseI). Checked here against the direct sums over all 12 pose
    /// columns of BundleModel.Residual's Jacobian (whose columns are checked against finite differences elsewhere), in
    /// double: the two differ by the order of the additions only, so by rounding: a sum of n products within n eps of
    /// the sum of their magnitudes, n ~ 1e3 cells x 12 terms: 1e-9 of each block's largest magnitude bounds it by 1e3.
    /// Odd size (61x47, stride 4: 15x11 cells), a perturbed state (no residual cancels), distortion, both robust losses.
    /// </summary>
    public sealed class BundleLinearizationTests : GpuTest
    {
        public BundleLinearizationTests(GpuFixture f) : base(f) { }

        [Theory]
        [InlineData(0.0, 0)]
        [InlineData(-0.2, 1)]
        public void Pose_I_blocks_expanded_from_pose_J_equal_the_direct_sums(double k1, int robust)
        {
            var rng = Rng.Fresh(out int seed);
            var (seq, scene) = BundleScene.Small(Ctx, k1);
            using var sequence = seq;
            var s = scene.SmallStart(rng);
            var kind = robust == 1 ? BundleRobust.Cauchy : BundleRobust.Huber;
            var p = scene.Problem;
            var lin = new BundleLinearization(p.Edges.Count, p.Cells);
            BundleLinearization.Compute(p, s, kind, 1.5, lin, true);

            int RW = BundleLinearization.RecordWidth, PW = BundleLinearization.PixelWidth;
            var rec = new double[p.Edges.Count][];
            var pix = new double[p.Edges.Count][];
            var R = new double[9]; var t = new double[3]; var jac = new double[2 * BundleModel.Cols];
            var used = new int[p.Edges.Count];
            for (int e = 0; e < p.Edges.Count; e++)
            {
                rec[e] = new double[RW]; pix[e] = new double[p.Cells * PW];
                BundleModel.Relative(s.Poses[p.Edges[e].I], s.Poses[p.Edges[e].J], R, t);
                BundleModel.Robust(kind, 1.5, (double)p.Width * p.Width, out _, out double penalty);
                for (int c = 0; c < p.Cells; c++)
                {
                    var obs = p.Obs[e];
                    double conf = obs[4 * c + 2];
                    if (!(conf > 0)) continue;
                    if (!BundleModel.Residual(R, t, p.PrincipalX, p.PrincipalY, s.Focal, s.K1, p.CellCenter(c % p.Gw), p.CellCenter(c / p.Gw),
                            s.InverseDepth[p.Edges[e].I][c], obs[4 * c], obs[4 * c + 1], out double rx, out double ry, jac)) continue;
                    BundleModel.Robust(kind, 1.5, rx * rx + ry * ry, out double rw, out double cost);
                    if (cost > penalty) continue;
                    used[e]++;
                    double w = conf * rw;
                    var cols = new int[14];
                    for (int a = 0; a < 12; a++) cols[a] = a;
                    cols[12] = BundleModel.ColLogF; cols[13] = BundleModel.ColK1;
                    for (int row = 0; row < 2; row++)
                    {
                        double r = row == 0 ? rx : ry;
                        double J(int col) => jac[row * BundleModel.Cols + col];
                        for (int a = 0; a < 12; a++)
                        {
                            for (int b = a; b < 12; b++) rec[e][BundleLinearization.Upper(a, b)] += w * J(a) * J(b);
                            rec[e][BundleLinearization.OffHpc + 2 * a] += w * J(a) * J(BundleModel.ColLogF);
                            rec[e][BundleLinearization.OffHpc + 2 * a + 1] += w * J(a) * J(BundleModel.ColK1);
                            rec[e][BundleLinearization.OffGp + a] += w * J(a) * r;
                            pix[e][c * PW + BundleLinearization.PixE + a] += w * J(BundleModel.ColRho) * J(a);
                        }
                        rec[e][BundleLinearization.OffHcc] += w * J(BundleModel.ColLogF) * J(BundleModel.ColLogF);
                        rec[e][BundleLinearization.OffHcc + 1] += w * J(BundleModel.ColLogF) * J(BundleModel.ColK1);
                        rec[e][BundleLinearization.OffHcc + 2] += w * J(BundleModel.ColK1) * J(BundleModel.ColK1);
                        rec[e][BundleLinearization.OffGc] += w * J(BundleModel.ColLogF) * r;
                        rec[e][BundleLinearization.OffGc + 1] += w * J(BundleModel.ColK1) * r;
                        pix[e][c * PW + BundleLinearization.PixEc] += w * J(BundleModel.ColRho) * J(BundleModel.ColLogF);
                        pix[e][c * PW + BundleLinearization.PixEc + 1] += w * J(BundleModel.ColRho) * J(BundleModel.ColK1);
                    }
                }
            }
            // Every edge's blocks exercised (each edge has residuals in use at this start).
            for (int e = 0; e < p.Edges.Count; e++) Assert.True(used[e] > 0, $"seed {seed}: edge {e} has no residual in use");
            void Same(double[][] direct, double[][] expanded, int from, int to, int width, string what)
            {
                double scale = 0;
                foreach (var a in direct) for (int i = 0; i < a.Length; i++) if (i % width >= from && i % width < to) scale = Math.Max(scale, Math.Abs(a[i]));
                Assert.True(scale > 0, $"seed {seed}: {what} all zero");
                for (int e = 0; e < direct.Length; e++)
                    for (int i = 0; i < direct[e].Length; i++)
                        if (i % width >= from && i % width < to)
                            Assert.True(Math.Abs(direct[e][i] - expanded[e][i]) <= 1e-9 * scale,
                                $"seed {seed}: {what} edge {e} [{i}]: direct {direct[e][i]:G17}, expanded {expanded[e][i]:G17} (block scale {scale:G6})");
            }
            Same(rec, lin.Records, 0, 78, RW, "H_pp");
            Same(rec, lin.Records, 78, 102, RW, "H_pc");
            Same(rec, lin.Records, 102, 105, RW, "H_cc");
            Same(rec, lin.Records, 105, 117, RW, "g_p");
            Same(rec, lin.Records, 117, 119, RW, "g_c");
            Same(pix, lin.Pixels, 0, 14, PW, "E");
        }
    }
}
