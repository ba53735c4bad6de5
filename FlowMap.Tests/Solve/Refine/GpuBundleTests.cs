using System;
using System.Linq;
using FlowMap.Solve.Refine;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve.Refine
{
    /// <summary>
    /// ba_linearize.comp against the double-precision BundleLinearization at an odd size (61x47, stride 4: 15x11 = 165
    /// cells, not a multiple of the 32-wide work group) and a perturbed state (residuals of pixels, so nothing cancels to
    /// zero), with and without distortion. Tolerance: float32 has eps 6e-8; a residual is a difference of pixel positions
    /// of ~100 px, so it carries ~1e-5 px of rounding from ~50 operations, each Jacobian entry a relative 1e-5; a sum of
    /// 165 such terms (32 in float, then groups in double) is then within 165 x 1e-5 of the sum of the magnitudes. Each
    /// block (H_pp, H_pc, H_cc, g_p, g_c, per-pixel E, C, g_d, weights) is compared with atol = 2e-3 x its largest
    /// magnitude over all edges, rtol 2e-3, which bounds that with margin and still catches a wrong index or sign.
    /// </summary>
    public sealed class GpuBundleTests : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public GpuBundleTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        private static void Close(double[][] cpu, double[][] gpu, int from, int to, int width, string what)
        {
            double scale = 1e-30;
            foreach (var a in cpu) for (int i = 0; i < a.Length; i++) if (i % width >= from && i % width < to) scale = Math.Max(scale, Math.Abs(a[i]));
            for (int e = 0; e < cpu.Length; e++)
            {
                var sel = Enumerable.Range(0, cpu[e].Length).Where(i => i % width >= from && i % width < to).ToArray();
                Compare.AllClose(sel.Select(i => cpu[e][i]).ToArray(), sel.Select(i => (float)gpu[e][i]).ToArray(), 2e-3 * scale, 2e-3, $"{what} edge {e}");
            }
        }

        [Theory]
        [InlineData(0.0, 0, false)]
        [InlineData(-0.2, 1, false)]
        [InlineData(0.0, 0, true)]
        public void Linearization_matches_the_cpu_reference(double k1, int robust, bool nearPoints)
        {
            var rng = Rng.Fresh(out int seed);
            var (seq, scene) = BundleScene.Small(Ctx, k1);
            using var sequence = seq;
            var s = scene.SmallStart(rng);
            var kind = robust == 1 ? BundleRobust.Cauchy : BundleRobust.Huber;
            var p = scene.Problem;
            if (nearPoints)
            {
                // Every 5th cell 30x nearer: some points behind their target camera, some just in front of its plane with a
                // residual costlier than a dropped one (dropped too, FlowMap.Tests/Issues/BundleStepCrossedBehindACamera.cs).
                foreach (var g in s.InverseDepth) for (int c = 0; c < g.Length; c += 5) g[c] *= 30;
                int large = 0;
                var rot = new double[9]; var t = new double[3];
                for (int e = 0; e < p.Edges.Count; e++)
                {
                    BundleModel.Relative(s.Poses[p.Edges[e].I], s.Poses[p.Edges[e].J], rot, t);
                    for (int c = 0; c < p.Cells; c++)
                        if (p.Obs[e][4 * c + 2] > 0 && BundleModel.Residual(rot, t, p.PrincipalX, p.PrincipalY, s.Focal, s.K1, p.CellCenter(c % p.Gw), p.CellCenter(c / p.Gw),
                                s.InverseDepth[p.Edges[e].I][c], p.Obs[e][4 * c], p.Obs[e][4 * c + 1], out double rx, out double ry, Span<double>.Empty)
                            && Math.Sqrt(rx * rx + ry * ry) > p.Width)
                            large++;
                }
                Assert.True(large > 0, $"seed {seed}: no residual beyond the image width to drop");
                _out.WriteLine($"seed {seed}: {large} residuals beyond the image width");
            }
            var cpu = new BundleLinearization(p.Edges.Count, p.Cells);
            BundleLinearization.Compute(p, s, kind, 1.5, cpu, true);
            var gpu = new BundleLinearization(p.Edges.Count, p.Cells);
            using (var lin = new GpuBundleLinearizer(Ctx, p, new BundleOptions(), guardFloats: 37))
            {
                foreach (var (buffer, _) in lin.Outputs) buffer.Fill(Compare.GuardBits);
                lin.Linearize(s, kind, 1.5, gpu, true);
                // Every output finite, and nothing written past the outputs.
                foreach (var (buffer, payload) in lin.Outputs)
                {
                    var all = new float[buffer.SizeBytes / 4];
                    buffer.Read<float>(all);
                    for (int i = 0; i < payload; i++) Assert.True(float.IsFinite(all[i]), $"seed {seed}: {buffer.Name}[{i}] = {all[i]}");
                    Compare.GuardIntact(all, payload, $"seed {seed} {buffer.Name}");
                }
            }
            _out.WriteLine($"seed {seed}: cost cpu {cpu.Cost} gpu {gpu.Cost}, valid {cpu.Records.Sum(r => r[BundleLinearization.OffCount])}");
            int R = BundleLinearization.RecordWidth, P = BundleLinearization.PixelWidth;
            Close(cpu.Records, gpu.Records, 0, 78, R, $"seed {seed} H_pp");
            Close(cpu.Records, gpu.Records, 78, 102, R, $"seed {seed} H_pc");
            Close(cpu.Records, gpu.Records, 102, 105, R, $"seed {seed} H_cc");
            Close(cpu.Records, gpu.Records, 105, 117, R, $"seed {seed} g_p");
            Close(cpu.Records, gpu.Records, 117, 119, R, $"seed {seed} g_c");
            Close(cpu.Records, gpu.Records, 119, 120, R, $"seed {seed} cost");
            Close(cpu.Records, gpu.Records, 120, 123, R, $"seed {seed} sums");
            Close(cpu.Pixels, gpu.Pixels, 0, 14, P, $"seed {seed} E");
            Close(cpu.Pixels, gpu.Pixels, 14, 15, P, $"seed {seed} C");
            Close(cpu.Pixels, gpu.Pixels, 15, 16, P, $"seed {seed} g_d");
            Close(cpu.Pixels, gpu.Pixels, 16, 17, P, $"seed {seed} weight");
        }

        [Fact]
        public void Gpu_path_converges_like_the_cpu_path()
        {
            var rng = Rng.Fresh(out int seed);
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                new SyntheticSequenceOptions { Path = "walk", Frames = 16, Width = 160, Height = 120, Seed = 1, Samples = 1 }, Ctx, ownsContext: false);
            var scene = BundleScene.Create(seq, keyframes: 6, step: 3, stride: 4);
            var start = scene.Perturbed(rng, degrees: 2, translation: 0.1, depthNoise: 0.2, focalFactor: 1.07);
            var r = BundleAdjuster.Refine(scene.Problem, start, new BundleOptions { Iterations = 15, UseGpu = true }, Ctx, TestContext.Current.CancellationToken);
            var s = scene.Score(r.State);
            _out.WriteLine($"gpu seed {seed}: rms {r.InitialRmsPx:F3} -> {r.FinalRmsPx:F4} in {r.Iterations}, focal {r.State.Focal:F3}, rot {s.MaxRotDeg:F4}, AbsRel {s.AbsRel:F4}; lin {r.LinearizeMs:F0} ms solve {r.SolveMs:F0} ms cost {r.CostMs:F0} ms");
            // float32 linearisation changes only the Gauss-Newton step's rounding (the accept test is on the float cost,
            // relative precision ~1e-6 of the cost), so the same targets as the CPU path hold.
            Assert.True(Math.Abs(r.State.Focal / scene.Truth.Focal - 1) < 0.005, $"seed {seed}: focal {r.State.Focal}");
            Assert.True(s.MaxRotDeg < 0.1, $"seed {seed}: rotation error {s.MaxRotDeg} deg");
            Assert.True(s.AbsRel < 0.02, $"seed {seed}: AbsRel {s.AbsRel}");
        }
    }
}
