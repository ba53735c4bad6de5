using System;
using System.Collections.Generic;
using FlowMap.Flow.Kernels;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Flow
{
    /// <summary>
    /// Each optical-flow kernel against its double-precision CPU reference: odd sizes (never multiples of the work group),
    /// fresh random inputs (seed in every message), a guard region after every output and a NaN/Inf check.
    /// </summary>
    public sealed class FlowKernelTests : GpuTest
    {
        public FlowKernelTests(GpuFixture f) : base(f) { }

        public static IEnumerable<object[]> Sizes() => new[]
        {
            new object[] { 2, 2 }, new object[] { 9, 8 }, new object[] { 37, 23 }, new object[] { 61, 47 }, new object[] { 130, 67 },
        };

        private const int Guard = 37;

        private GpuImage Output(int w, int h, int channels)
        {
            var img = new GpuImage(Ctx, w, h, channels, "out", Guard);
            img.Buffer.Fill(Compare.GuardBits);
            return img;
        }

        private GpuImage Input(float[] data, int w, int h, int channels)
        {
            var img = new GpuImage(Ctx, w, h, channels, "in");
            img.Upload(data);
            return img;
        }

        private void Run(Action<CommandBatch> record)
        {
            using var batch = Ctx.BeginBatch("test");
            record(batch);
            batch.Submit();
            batch.Wait();
        }

        private static void Check(GpuImage img, double[] reference, double atol, double rtol, string what)
        {
            var all = img.DownloadWithGuard();
            Compare.AllClose(reference, all, atol, rtol, what);
            Compare.GuardIntact(all, img.PixelCount * img.Channels, what);
        }

        /// <summary>A smooth random image in [0, 1] (sum of random sinusoids), so sub-pixel motion is well defined.</summary>
        internal static float[] SmoothImage(Random r, int w, int h, double shiftX = 0, double shiftY = 0, double period = 6)
        {
            var fx = new double[6]; var fy = new double[6]; var ph = new double[6];
            for (int k = 0; k < 6; k++)
            {
                double ang = r.NextDouble() * Math.PI, f = 2 * Math.PI / (period * (1 + 2 * r.NextDouble()));
                fx[k] = f * Math.Cos(ang); fy[k] = f * Math.Sin(ang); ph[k] = r.NextDouble() * 6.28;
            }
            var img = new float[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double s = 0;
                    for (int k = 0; k < 6; k++) s += Math.Sin(fx[k] * (x - shiftX) + fy[k] * (y - shiftY) + ph[k]);
                    img[y * w + x] = (float)(0.5 + s / 12);
                }
            return img;
        }

        /// <summary>Features and quads of an image, from the CPU reference of flow_prep (the kernels' input format).</summary>
        private (GpuImage Feat, GpuImage Quad) Prep(float[] img, int w, int h)
        {
            var (f, q) = FlowPrep.ReferenceFloats(img, w, h);
            return (Input(f, w, h, 4), Input(q, w, h, 4));
        }

        private static float[] Gradient(float[] img, int w, int h)
        {
            var g = FlowMap.Gpu.Kernels.Gradient.Reference(img, w, h);
            var f = new float[g.Length];
            for (int i = 0; i < g.Length; i++) f[i] = (float)g[i];
            return f;
        }

        [Theory, MemberData(nameof(Sizes))]
        public void FlowPrep_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var img = Rng.Floats(rng, w * h);
            using var src = Input(img, w, h, 1);
            using var feat = Output(w, h, 4);
            using var quad = Output(w, h, 4);
            Run(b => FlowPrep.Record(b, Ctx, src, feat, quad));
            var (f, q) = FlowPrep.Reference(img, w, h);
            // Sobel / 8 of values in [0, 1]: six float32 products and sums, each within half an ulp of numbers <= 4: 1e-6.
            Check(feat, f, 1e-6, 1e-6, $"flow_prep features {w}x{h} seed {seed}");
            Check(quad, q, 0, 0, $"flow_prep quads {w}x{h} seed {seed}");
        }

        [Theory, MemberData(nameof(Sizes))]
        public void RgbHalf_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var rgb = new byte[w * h * 3];
            rng.NextBytes(rgb);
            using var src = GpuBuffer.FromData<byte>(Ctx, rgb, "rgb");
            var (hw, hh) = Downsample.SizeOf(w, h);
            using var dst = Output(hw, hh, 1);
            Run(b => RgbHalf.Record(b, Ctx, src, w, h, dst));
            Check(dst, RgbHalf.Reference(rgb, w, h), 1e-6, 1e-6, $"rgb_half {w}x{h} seed {seed}");
        }

        [Theory, MemberData(nameof(Sizes))]
        public void FlowFinalize_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            foreach (var (sw, sh) in new[] { Downsample.SizeOf(w, h), (Math.Max(1, w / 3), Math.Max(1, h / 4)), (w, h), (Math.Max(1, w - 1), h) })
                Finalize(w, h, sw, sh, rng, seed);
        }

        private void Finalize(int w, int h, int sw, int sh, Random rng, int seed)
        {
            var flow = Rng.Floats(rng, sw * sh * 2, -5, 5);
            var conf = Rng.Floats(rng, sw * sh);
            using var f = Input(flow, sw, sh, 2);
            using var c = Input(conf, sw, sh, 1);
            using var df = Output(w, h, 2);
            using var dc = Output(w, h, 1);
            Run(b => FlowFinalize.Record(b, Ctx, f, c, df, dc));
            var (rf, rc) = FlowFinalize.Reference(flow, conf, sw, sh, w, h);
            // float32 sample coordinates on random fields (see flow_upsample): 3e-4.
            Check(df, rf, 3e-4, 1e-5, $"flow_finalize flow {sw}x{sh}->{w}x{h} seed {seed}");
            Check(dc, rc, 3e-5, 1e-5, $"flow_finalize confidence {sw}x{sh}->{w}x{h} seed {seed}");
        }

        [Theory, MemberData(nameof(Sizes))]
        public void FlowUpsample_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            // From the coarser pyramid level (ceil halving) and from an unrelated size.
            foreach (var (sw, sh) in new[] { Downsample.SizeOf(w, h), (Math.Max(1, w / 3 + 1), Math.Max(1, h / 2 + 2)) })
            {
                var src = Rng.Floats(rng, sw * sh * 2, -5, 5);
                using var s = Input(src, sw, sh, 2);
                using var d = Output(w, h, 2);
                Run(b => FlowUpsample.Record(b, Ctx, s, d));
                // Sample coordinates are computed in float32 (error ~1e-5 px at x ~ 100) on a random field whose values jump by
                // up to 10 between pixels: 3e-4 absolute.
                Check(d, FlowUpsample.Reference(src, sw, sh, w, h), 3e-4, 1e-5, $"flow_upsample {sw}x{sh}->{w}x{h} seed {seed}");
            }
        }

        [Theory, MemberData(nameof(Sizes))]
        public void DisSearch_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            double tx = rng.NextDouble() * 2 - 1, ty = rng.NextDouble() * 2 - 1;
            var i0 = SmoothImage(new Random(seed), w, h);
            var i1 = SmoothImage(new Random(seed), w, h, tx, ty);
            var g0 = Gradient(i0, w, h);
            var init = Rng.Floats(rng, w * h * 2, -0.3f, 0.3f);
            int p = Math.Min(8, Math.Min(w, h)), stride = Math.Min(3, p);
            // One Gauss-Newton step (more steps are covered by the translation test below: iterates that straddle the
            // kinks of bilinear sampling at integer offsets may take different float32 / float64 paths), and integer search.
            foreach (var (radius, iters) in new[] { (0, 1), (2, 1), (1, 0) })
            {
                var push = new DisSearch.Push
                {
                    Width = w, Height = h, PatchSize = p, Stride = stride, GridWidth = DisSearch.GridSize(w, p, stride), GridHeight = DisSearch.GridSize(h, p, stride),
                    Iterations = iters, SearchRadius = radius,
                };
                var (fa, qa) = Prep(i0, w, h);
                var (fb, qb) = Prep(i1, w, h);
                using (fa) using (qa) using (fb) using (qb)
                {
                using var u = Input(init, w, h, 2);
                using var o = Output(push.GridWidth, push.GridHeight, 2);
                Run(bt => DisSearch.Record(bt, Ctx, fa, qb, u, o, push));
                CheckPatchFlows(o.DownloadWithGuard(), DisSearch.Reference(i0, g0, i1, init, push), push, i0, i1, $"dis_search {w}x{h} radius {radius} iterations {iters} seed {seed}");
                Compare.GuardIntact(o.DownloadWithGuard(), push.GridWidth * push.GridHeight * 2, "dis_search guard");
                }
            }
        }

        /// <summary>
        /// Patch flows: equal to the reference within 2e-3 px, or, where float32 rounding made the kernel keep a different
        /// iterate of equal quality (the best visited flow is kept; iterates can tie), a flow whose patch cost (in double)
        /// is within 2e-5 of the reference's (absolute; float32 cancellation in the cost sums).
        /// </summary>
        private static void CheckPatchFlows(float[] gpu, double[] reference, DisSearch.Push pc, float[] i0, float[] i1, string what)
        {
            int P = pc.PatchSize, exact = 0;
            for (int py = 0; py < pc.GridHeight; py++)
                for (int px = 0; px < pc.GridWidth; px++)
                {
                    int k = py * pc.GridWidth + px;
                    float gu = gpu[2 * k], gv = gpu[2 * k + 1];
                    Assert.True(float.IsFinite(gu) && float.IsFinite(gv), $"{what}: patch {k} not finite");
                    if (Math.Abs(gu - reference[2 * k]) <= 2e-3 && Math.Abs(gv - reference[2 * k + 1]) <= 2e-3) { exact++; continue; }
                    int ox = Math.Min(px * pc.Stride, pc.Width - P), oy = Math.Min(py * pc.Stride, pc.Height - P);
                    double mean = 0;
                    for (int j = 0; j < P; j++) for (int i = 0; i < P; i++) mean += i0[(oy + j) * pc.Width + ox + i];
                    mean /= P * P;
                    double cg = DisSearch.Cost(i0, i1, pc.Width, pc.Height, ox, oy, P, gu, gv, mean);
                    double cr = DisSearch.Cost(i0, i1, pc.Width, pc.Height, ox, oy, P, reference[2 * k], reference[2 * k + 1], mean);
                    // float32 sums of 64 squared intensities (~0.25 each) cancel to ~1e-5 absolute; near-tied integer candidates
                    // start different iterations: 2 %.
                    Assert.True(cg <= cr * 1.02 + 2e-5,
                        $"{what}: patch {k}: gpu ({gu}, {gv}) cost {cg:E4} vs reference ({reference[2 * k]:F5}, {reference[2 * k + 1]:F5}) cost {cr:E4}");
                }
            int n = pc.GridWidth * pc.GridHeight;
            // On grids large enough for a fraction to mean something, nearly all patches must match exactly.
            if (n >= 20) Assert.True(exact >= 0.98 * n, $"{what}: only {exact} of {n} patches equal the reference within 2e-3 px");
        }

        [Fact]
        public void DisSearch_recovers_a_subpixel_translation()
        {
            var rng = Rng.Fresh(out int seed);
            int w = 61, h = 47;
            var (tx, ty) = SubpixelShift.DrawShift(rng);
            // Six sinusoids, one orientation per 30 degree sector (an image of nearly parallel stripes would leave the
            // motion along them undetermined), periods 16 to 48 px.
            var shift = new SubpixelShift(new Random(seed), w, h, tx, ty, 16);
            var push = new DisSearch.Push { Width = w, Height = h, PatchSize = 8, Stride = 4, GridWidth = DisSearch.GridSize(w, 8, 4), GridHeight = DisSearch.GridSize(h, 8, 4), Iterations = 10 };
            var (fa, qa) = Prep(shift.I0, w, h);
            var (fb, qb) = Prep(shift.I1, w, h);
            using var _1 = fa; using var _2 = qa; using var _3 = fb; using var _4 = qb;
            using var u = Input(new float[w * h * 2], w, h, 2);
            using var o = Output(push.GridWidth, push.GridHeight, 2);
            Run(bt => DisSearch.Record(bt, Ctx, fa, qb, u, o, push));
            var f = o.Download();
            var cpu = DisSearch.Reference(shift.I0, shift.Grad0, shift.I1, new float[w * h * 2], push);
            var (checkedPatches, interior) = SubpixelShift.CheckPatches(shift, push, f, cpu, $"seed {seed}");
            // Which patches contract is a property of the texture, not a tolerance: the fewest in 300 seeds was 81 of 117.
            Assert.True(checkedPatches >= interior / 4, $"only {checkedPatches} of {interior} patches determine the shift ({tx:F4}, {ty:F4}), seed {seed}");
        }

        [Theory, MemberData(nameof(Sizes))]
        public void DisDensify_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var i0 = Rng.Floats(rng, w * h);
            var i1 = Rng.Floats(rng, w * h);
            int p = Math.Min(8, Math.Min(w, h));
            foreach (int stride in new[] { 1, Math.Max(1, p / 2), p })
            {
                var push = new DisDensify.Push
                {
                    Width = w, Height = h, PatchSize = p, Stride = stride, GridWidth = DisSearch.GridSize(w, p, stride), GridHeight = DisSearch.GridSize(h, p, stride),
                    MinDiff = 1f / 255,
                };
                var patches = Rng.Floats(rng, push.GridWidth * push.GridHeight * 2, -3, 3);
                var (fa, qa) = Prep(i0, w, h);
                var (fb, qb) = Prep(i1, w, h);
                using var _1 = fa; using var _2 = qa; using var _3 = fb; using var _4 = qb;
                using var pf = Input(patches, push.GridWidth, push.GridHeight, 2);
                using var o = Output(w, h, 2);
                Run(bt => DisDensify.Record(bt, Ctx, fa, qb, pf, o, push));
                // The reference samples at the kernel's float32 positions (DisDensify.Reference), so only the float32 bilinear
                // mix differs: |delta d| <= ~3 ulp(1) = 3.6e-7, a relative weight change <= 3.6e-7 * 255 = 9.2e-5 (weights
                // 1 / max(|d|, 1/255)), moving the weighted mean of patch flows that differ by at most 6 px by <= 5.5e-4 px: 2e-3.
                Check(o, DisDensify.Reference(i0, i1, patches, push), 2e-3, 1e-3, $"dis_densify {w}x{h} stride {stride} seed {seed}");
            }
        }

        [Theory, MemberData(nameof(Sizes))]
        public void VarData_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var i0 = SmoothImage(rng, w, h);
            var i1 = SmoothImage(rng, w, h);
            var g0 = Gradient(i0, w, h);
            var g1 = Gradient(i1, w, h);
            var flow = Rng.Floats(rng, w * h * 2, -2, 2);
            var push = new VarData.Push { Width = w, Height = h, Delta = 1, Alpha = 0.3f, EpsData = 0.01f, EpsSmooth = 0.05f, Edge = 5 };
            var (fa, qa) = Prep(i0, w, h);
            var (fb, qb) = Prep(i1, w, h);
            using var _1 = fa; using var _2 = qa; using var _3 = fb; using var _4 = qb;
            using var f = Input(flow, w, h, 2);
            using var ca = Output(w, h, 4);
            using var cb = Output(w, h, 2);
            Run(bt => VarData.Record(bt, Ctx, fa, fb, qb, f, ca, cb, push));
            var r = VarData.Reference(i0, i1, g0, g1, flow, push);
            var ra = new double[w * h * 4]; var rb = new double[w * h * 2];
            for (int i = 0; i < w * h; i++)
            {
                for (int k = 0; k < 4; k++) ra[4 * i + k] = r[6 * i + k];
                rb[2 * i] = r[6 * i + 4]; rb[2 * i + 1] = r[6 * i + 5];
            }
            Check(ca, ra, 1e-5, 2e-4, $"var_data coefA {w}x{h} seed {seed}");
            Check(cb, rb, 1e-5, 2e-4, $"var_data coefB {w}x{h} seed {seed}");
        }

        [Theory, MemberData(nameof(Sizes))]
        public void VarSor_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var coef = new float[w * h * 6];
            for (int i = 0; i < w * h; i++)
            {
                double d = rng.NextDouble() * 2, gx = rng.NextDouble() - 0.5, gy = rng.NextDouble() - 0.5, c = rng.NextDouble() * 4 - 2;
                coef[6 * i] = (float)(d * gx * gx); coef[6 * i + 1] = (float)(d * gx * gy); coef[6 * i + 2] = (float)(d * gy * gy);
                coef[6 * i + 3] = (float)(d * gx * c); coef[6 * i + 4] = (float)(d * gy * c); coef[6 * i + 5] = (float)(0.01 + rng.NextDouble());
            }
            var flow = Rng.Floats(rng, w * h * 2, -3, 3);
            var reference = new double[flow.Length];
            for (int i = 0; i < flow.Length; i++) reference[i] = flow[i];
            var a4 = new float[w * h * 4]; var b2 = new float[w * h * 2];
            for (int i = 0; i < w * h; i++)
            {
                for (int k = 0; k < 4; k++) a4[4 * i + k] = coef[6 * i + k];
                b2[2 * i] = coef[6 * i + 4]; b2[2 * i + 1] = coef[6 * i + 5];
            }
            using var ca = Input(a4, w, h, 4);
            using var cb = Input(b2, w, h, 2);
            using var f = Output(w, h, 2);
            f.Upload(flow);
            // Two full sweeps (red, black, red, black): the black half reads the red half's new values.
            Run(bt =>
            {
                for (int sweep = 0; sweep < 2; sweep++)
                    for (int parity = 0; parity < 2; parity++)
                        VarSor.Record(bt, Ctx, ca, cb, f, parity, 1.6f);
            });
            var refCoef = new double[coef.Length];
            for (int i = 0; i < coef.Length; i++) refCoef[i] = coef[i];
            for (int sweep = 0; sweep < 2; sweep++)
                for (int parity = 0; parity < 2; parity++)
                    VarSor.Reference(refCoef, reference, w, h, parity, 1.6);
            Check(f, reference, 1e-4, 1e-4, $"var_sor {w}x{h} seed {seed}");
        }

        [Theory, MemberData(nameof(Sizes))]
        public void FlowConfidence_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var i0 = Rng.Floats(rng, w * h);
            var i1 = Rng.Floats(rng, w * h);
            var fwd = Rng.Floats(rng, w * h * 2, -3, 3);
            var bwd = Rng.Floats(rng, w * h * 2, -3, 3);
            // Make part of the field consistent so both ends of [0, 1] are exercised.
            for (int i = 0; i < w * h; i += 3) { bwd[2 * i] = -fwd[2 * i]; bwd[2 * i + 1] = -fwd[2 * i + 1]; }
            var push = new FlowConfidence.Push { Width = w, Height = h, FbAbs = 0.5f, FbRel = 0.1f, SigmaPhoto = 0.2f };
            var (pa, qa) = Prep(i0, w, h);
            var (pb, qb) = Prep(i1, w, h);
            using var _1 = pa; using var _2 = qa; using var _3 = pb; using var _4 = qb;
            using var fa = Input(fwd, w, h, 2);
            using var fb = Input(bwd, w, h, 2);
            using var c = Output(w, h, 1);
            Run(bt => FlowConfidence.Record(bt, Ctx, pa, qb, fa, fb, c, push));
            var reference = FlowConfidence.Reference(i0, i1, fwd, bwd, push);
            // The reference samples at the kernel's float32 positions (FlowConfidence.Reference), so only float32 arithmetic
            // differs: bilinear mixes within ~3 ulp of values up to 3 (1e-6 in u_b, 3.6e-7 in I1), slopes of
            // exp(-e^2 / 2 tau^2) and exp(-r^2 / 2 sigma^2) at most 0.61 / tau (tau >= 0.5) and 0.61 / sigma (sigma = 0.2):
            // a few 1e-6 in the product; 2e-5.
            Check(c, reference, 2e-5, 1e-4, $"flow_confidence {w}x{h} seed {seed}");
            var got = c.Download();
            foreach (var v in got) Assert.InRange(v, 0f, 1f);
        }
    }
}
