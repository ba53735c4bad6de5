using System;
using System.Linq;
using FlowMap.Gpu;
using FlowMap.Solve;
using FlowMap.Tests.Support;
using Xunit;
using K = FlowMap.Solve.SolverKernels;

namespace FlowMap.Tests.Solve
{
    /// <summary>
    /// The solver kernels against the double-precision reference, at odd sizes (37x23, 29x31, 131x71: not multiples of the
    /// 16x16 work group), with random parameters. Tolerances are for float32 arithmetic and are relative to the largest
    /// magnitude of the compared quantity (sums over many pixels lose a few digits in float).
    /// </summary>
    public sealed class GpuSolverKernelTests : GpuTest
    {
        public GpuSolverKernelTests(GpuFixture f) : base(f) { }

        public static TheoryData<int, int, bool> Cases() => new TheoryData<int, int, bool>
        {
            { 37, 23, false }, { 37, 23, true }, { 29, 31, false }, { 131, 71, true },
        };

        private static (SolverProblem P, double[] Prm, double F) Setup(int w, int h, bool prior, int seed)
        {
            var scene = new AnalyticScene(w, h, 3, 0.9 * Math.Sqrt(w * h), "walk", seed: seed, boards: 2);
            var p = SolverReferenceTests.Problem(scene, new SolverTuning { Cell = 5, HuberDelta = 0.02 }, prior);
            var rng = new Random(seed);
            var prm = new double[p.ParamCount];
            for (int i = 0; i < p.N * p.Nodes; i++) prm[i] = -0.7 + 0.4 * (rng.NextDouble() - 0.5);
            if (prior) for (int fr = 0; fr < p.N; fr++) { prm[p.ScaleOffset(fr)] = -1.1 + 0.1 * fr; prm[p.ShiftOffset(fr)] = 0.03 * fr; }
            double f = 0.95 * p.Norm;
            prm[p.FocalOffset] = Math.Log(f);
            return (p, prm, f);
        }

        private void Run(Action<CommandBatch> record)
        {
            using var batch = Ctx.BeginBatch("solver test");
            record(batch);
            batch.Submit();
            batch.Wait();
        }

        private static void Close(double[] reference, float[] gpu, double rel, string what)
        {
            double scale = reference.Length == 0 ? 1 : reference.Max(Math.Abs);
            var r = reference.Select(v => v).ToArray();
            Compare.AllClose(r, gpu, rel * Math.Max(scale, 1e-30), rel, what);
        }

        private static float[] Floats(double[] a) => a.Select(v => (float)v).ToArray();

        [Theory, MemberData(nameof(Cases))]
        public void Depth_forward_matches_the_grid_reference(int w, int h, bool prior)
        {
            var (p, prm, _) = Setup(w, h, prior, 3);
            using var s = new GpuWindowSolver.State(Ctx, p);
            s.Params.Write<float>(Floats(prm));
            Run(b => s.RecordDepth(b));
            var gpu = s.Depth.ReadAll<float>(p.N * p.Pixels);
            var refz = SolverReference.Depths(p, prm).SelectMany(a => a).ToArray();
            Compare.AllClose(refz, gpu, 1e-6, 2e-5, $"depth {w}x{h} prior={prior}");
        }

        [Theory, MemberData(nameof(Cases))]
        public void Procrustes_of_pairs_and_candidates_matches_the_reference(int w, int h, bool prior)
        {
            var (p, prm, f) = Setup(w, h, prior, 5);
            using var s = new GpuWindowSolver.State(Ctx, p);
            s.Params.Write<float>(Floats(prm));
            Run(b => { s.RecordDepth(b); s.RecordProcrustes(b, false); s.RecordProcrustes(b, true); });
            var z = SolverReference.Depths(p, prm);
            var fits = s.ReadFits();
            for (int k = 0; k < p.N - 1; k++)
            {
                var fit = Procrustes.Solve(SolverReference.ProcrustesSums(p, k, z[k], z[k + 1], Math.Exp((float)Math.Log(f))));
                Compare.AllClose(fit.R, Floats(fits[k].R), 2e-5, 0, $"R of pair {k}");
                Compare.AllClose(fit.T, Floats(fits[k].T), 2e-5 * z[k].Max(), 0, $"t of pair {k}");
            }
            var cands = SolverReference.FocalCandidates(p);
            var cfits = s.ReadCandidateFits();
            foreach (int c in new[] { 0, 17, cands.Length - 1 })
            {
                var fit = Procrustes.Solve(SolverReference.ProcrustesSums(p, 0, z[0], z[1], (float)cands[c]));
                Compare.AllClose(fit.R, Floats(cfits[c].R), 2e-5, 0, $"R of candidate {c}");
            }
        }

        /// <summary>Uploads the reference fits so that the loss kernels are compared on identical poses.</summary>
        private static void UploadFits(GpuWindowSolver.State s, Procrustes.Fit[] fits)
        {
            var a = new float[fits.Length * K.FitStride];
            for (int k = 0; k < fits.Length; k++)
            {
                int o = k * K.FitStride;
                for (int i = 0; i < 9; i++) { a[o + i] = (float)fits[k].R[i]; a[o + 19 + i] = (float)fits[k].V[i]; }
                for (int i = 0; i < 3; i++)
                {
                    a[o + 9 + i] = (float)fits[k].T[i]; a[o + 12 + i] = (float)fits[k].MuX[i];
                    a[o + 15 + i] = (float)fits[k].MuY[i]; a[o + 28 + i] = (float)fits[k].Lambda[i];
                }
                a[o + 18] = (float)fits[k].Weight;
            }
            s.Fits.Write<float>(a);
        }

        [Theory, MemberData(nameof(Cases))]
        public void Flow_loss_and_its_gradient_match_the_reference(int w, int h, bool prior)
        {
            var (p, prm, _) = Setup(w, h, prior, 7);
            double f = Math.Exp((float)prm[p.FocalOffset]);
            using var s = new GpuWindowSolver.State(Ctx, p);
            s.Params.Write<float>(Floats(prm));
            var z = SolverReference.Depths(p, prm);
            var fits = Enumerable.Range(0, p.N - 1).Select(k => Procrustes.Solve(SolverReference.ProcrustesSums(p, k, z[k], z[k + 1], f))).ToArray();
            // Disturb the poses so that the residuals are large (both Huber branches).
            foreach (var fit in fits) { fit.T[0] += 0.05; fit.T[2] -= 0.03; }
            UploadFits(s, fits);
            Run(b => { s.RecordDepth(b); s.RecordLoss(b, false, true); });
            var losses = s.Losses.ReadAll<float>((p.N - 1) * K.LossStride);
            var gzA = s.GzA.ReadAll<float>((p.N - 1) * p.Pixels);
            var gzB = s.GzB.ReadAll<float>((p.N - 1) * p.Pixels);
            for (int k = 0; k < p.N - 1; k++)
            {
                var g = SolverReference.FlowLoss(p, k, z[k], z[k + 1], fits[k].R, fits[k].T, f);
                var rec = new double[K.LossStride];
                rec[0] = g.Loss;
                for (int i = 0; i < 9; i++) rec[1 + i] = g.GR[i];
                for (int i = 0; i < 3; i++) rec[10 + i] = g.GT[i];
                rec[13] = g.GF;
                Close(rec, losses.Skip(k * K.LossStride).Take(K.LossStride).ToArray(), 2e-4, $"loss record of pair {k}");
                Close(g.GZi, gzA.Skip(k * p.Pixels).Take(p.Pixels).ToArray(), 2e-4, $"dL/dz source of pair {k}");
                Close(g.GZj, gzB.Skip(k * p.Pixels).Take(p.Pixels).ToArray(), 2e-4, $"dL/dz target of pair {k}");
            }
        }

        [Theory, MemberData(nameof(Cases))]
        public void Whole_gradient_of_one_step_matches_the_reference(int w, int h, bool prior)
        {
            var (p, prm, _) = Setup(w, h, prior, 9);
            double f = Math.Exp((float)prm[p.FocalOffset]);
            foreach (bool through in new[] { true, false })
            {
                using var s = new GpuWindowSolver.State(Ctx, p);
                s.Params.Write<float>(Floats(prm));
                s.WriteRates(new bool[p.ParamCount], 0); // nothing trainable: the step leaves the parameters, Grad holds the gradient
                Run(b => s.RecordStep(b, softmin: false, throughPoses: through, lr: 0.01, step: 1));
                var ev = SolverReference.Evaluate(p, prm, f, through);
                var grad = s.Grad.ReadAll<float>(p.ParamCount);
                Close(ev.Grad, grad, 1e-3, $"gradient {w}x{h} prior={prior} throughPoses={through}");
                Assert.True(Math.Abs(s.ReadLoss() - ev.Loss) <= 1e-4 * ev.Loss, $"loss {s.ReadLoss()} vs {ev.Loss}");
                Assert.Equal(Floats(prm), s.Params.ReadAll<float>(p.ParamCount));
            }
        }

        /// <summary>
        /// The fused consumers reduce per-work-group partials themselves (fixed_sum.glsl) in the order of reduce_partials.comp;
        /// its float mirror K.FixedSum must give the dispatch's result exactly (same float operations in the same order), at
        /// group counts below, at and above the 64 strided lanes, and an odd width. Against the double sum the bound is the
        /// float error of two serial sums of at most n terms: |error| <= 2 n eps32 sum |x| (n = groups / 64 + 64).
        /// </summary>
        [Theory]
        [InlineData(1, 1, 3)]
        [InlineData(3, 63, 9)]
        [InlineData(2, 64, 16)]
        [InlineData(4, 197, 5)]
        public void Fixed_sum_mirror_equals_the_reduce_dispatch(int rows, int groups, int width)
        {
            var rng = Rng.Fresh(out int seed);
            var src = Enumerable.Range(0, rows * groups * width).Select(_ => (float)((rng.NextDouble() - 0.3) * Math.Exp(4 * rng.NextDouble()))).ToArray();
            using var bs = GpuBuffer.FromData<float>(Ctx, src);
            using var bd = new GpuBuffer(Ctx, (rows * width + 7) * 4L, "test.fixed_sum_dst");
            bd.Write<float>(Enumerable.Repeat(-7f, rows * width + 7).ToArray()); // guard after the output
            Run(b => K.RecordReduce(b, Ctx, bs, rows, groups, width, bd));
            var gpu = bd.ReadAll<float>(rows * width + 7);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < width; c++)
                {
                    float mirror = K.FixedSum(src, r, groups, width, c);
                    Assert.True(float.IsFinite(gpu[r * width + c]), $"reduce not finite (seed {seed})");
                    Assert.Equal(mirror, gpu[r * width + c]);
                    double exact = 0, abs = 0;
                    for (int g = 0; g < groups; g++) { double x = src[(r * groups + g) * width + c]; exact += x; abs += Math.Abs(x); }
                    double bound = 2 * (groups / 64 + 64) * Math.Pow(2, -24) * abs;
                    Assert.True(Math.Abs(mirror - exact) <= bound, $"row {r} col {c}: {mirror} vs {exact} (bound {bound}, seed {seed})");
                }
            for (int i = rows * width; i < rows * width + 7; i++) Assert.Equal(-7f, gpu[i]);
        }

        /// <summary>
        /// Several descent steps per queue submission change nothing: the same dispatches in the same order, only fewer
        /// submissions (and the boundaries where the host rewrites the rates or reads the loss still hold). Bit-identical
        /// to one step per submission, fresh (softmin and coarse-only phases) and warm-started.
        /// </summary>
        [Fact]
        public void Steps_batched_into_one_submission_give_the_result_of_one_step_per_submission()
        {
            var scene = new AnalyticScene(37, 29, 4, 0.9 * Math.Sqrt(37 * 29), "walk", seed: 4, boards: 2);
            using var solver = new GpuWindowSolver(Ctx);
            SolverResult Solve(int per, SolverWarmStart? warm) =>
                solver.Solve(scene.Window, new SolverOptions { Steps = 23, StepsPerSubmission = per }, warm);
            var one = Solve(1, null);
            var many = Solve(7, null);
            Assert.Equal(23, one.StageMilliseconds["submissions"]);
            Assert.True(many.StageMilliseconds["submissions"] < 23 / 2, $"{many.StageMilliseconds["submissions"]} submissions for 23 steps at 7 per submission");
            Same(one, many);
            var warm = new SolverWarmStart { InitialDepth = one.Depth.Select((d, i) => i < 3 ? d : null).ToList(), Focal = one.Focal, FrozenFrames = 1 };
            Same(Solve(1, warm), Solve(25, warm));
            // Background work (a live session's mapping thread) cut into chunks of a few dispatches, each waited for:
            // the same result (issue 12: tracking no longer waits behind a whole solve on the one queue).
            using (var background = (FlowMap.Gpu.GpuContext.BackgroundScope)FlowMap.Gpu.GpuContext.Background(1e-6))
            {
                var chunked = Solve(25, null);
                Assert.True(background.Chunks > 23, $"{background.Chunks} chunks for 23 steps of 11 dispatches at one dispatch per chunk");
                Same(one, chunked);
                Same(Solve(1, warm), Solve(25, warm));
            }

            static void Same(SolverResult a, SolverResult b)
            {
                Assert.True(double.IsFinite(a.FinalLoss) && double.IsFinite(a.Focal), "non-finite solve");
                Assert.Equal(a.Focal, b.Focal);
                Assert.Equal(a.FinalLoss, b.FinalLoss);
                for (int f = 0; f < a.Depth.Length; f++) Assert.Equal(a.Depth[f].Data, b.Depth[f].Data);
                for (int f = 0; f < a.Poses.Length; f++) Assert.Equal(a.Poses[f].Rotation, b.Poses[f].Rotation);
            }
        }

        [Fact]
        public void Softmin_focal_matches_the_reference()
        {
            var (p, prm, _) = Setup(37, 23, false, 13);
            using var s = new GpuWindowSolver.State(Ctx, p);
            s.Params.Write<float>(Floats(prm));
            s.WriteRates(new bool[p.ParamCount], 0);
            Run(b => s.RecordStep(b, softmin: true, throughPoses: true, lr: 0, step: 1));
            double gpu = Math.Exp(s.Params.ReadAll<float>(p.ParamCount)[p.FocalOffset]);
            double cpu = SolverReference.SoftminFocal(p, SolverReference.Depths(p, prm), SolverReference.FocalCandidates(p), out _);
            Assert.True(Math.Abs(gpu / cpu - 1) < 1e-3, $"softmin focal gpu {gpu} vs reference {cpu}");
        }

        [Fact]
        public void Adam_matches_the_reference()
        {
            var rng = Rng.Fresh(out int seed);
            int n = 1000 + rng.Next(0, 100);
            var prm = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
            var grad = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * 1e-3).ToArray();
            var m = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * 1e-4).ToArray();
            var v = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 1e-7).ToArray();
            var rate = Enumerable.Range(0, n).Select(i => i % 7 == 0 ? 0.0 : i % 5 == 0 ? 0.5 : 1).ToArray();
            // Round the inputs to float first so both sides start equal.
            prm = Floats(prm).Select(x => (double)x).ToArray(); grad = Floats(grad).Select(x => (double)x).ToArray();
            m = Floats(m).Select(x => (double)x).ToArray(); v = Floats(v).Select(x => (double)x).ToArray();
            using var bp = GpuBuffer.FromData<float>(Ctx, Floats(prm)); using var bg = GpuBuffer.FromData<float>(Ctx, Floats(grad));
            using var bm = GpuBuffer.FromData<float>(Ctx, Floats(m)); using var bv = GpuBuffer.FromData<float>(Ctx, Floats(v));
            using var br = GpuBuffer.FromData<float>(Ctx, Floats(rate));
            int step = 1 + rng.Next(0, 50);
            double lr = 0.02;
            Run(b => K.RecordLinear(b, Ctx, K.Adam, n, 64, new K.AdamPush
            {
                Count = n, Lr = (float)lr, Beta1 = (float)Adam.Beta1, Beta2 = (float)Adam.Beta2,
                C1 = (float)(1 - Math.Pow(Adam.Beta1, step)), C2 = (float)(1 - Math.Pow(Adam.Beta2, step)), Eps = (float)Adam.Epsilon,
            }, bp, bg, bm, bv, br));
            Adam.Step(prm, grad, m, v, rate.Select(r => r > 0).ToArray(), rate.Select(r => r * lr).ToArray(), step);
            Compare.AllClose(prm, bp.ReadAll<float>(n), 2e-6, 1e-5, $"adam params seed {seed}");
            Compare.AllClose(m, bm.ReadAll<float>(n), 1e-10, 1e-5, $"adam m seed {seed}");
        }
    }
}
