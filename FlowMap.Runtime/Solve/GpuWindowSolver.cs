using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using FlowMap.Gpu;
using K = FlowMap.Solve.SolverKernels;

namespace FlowMap.Solve
{
    /// <summary>
    /// The solver on Vulkan: a descent step (depth, Procrustes, loss, backward, Adam, and the softmin focal while it runs)
    /// is 11 dispatches; up to <see cref="SolverOptions.StepsPerSubmission"/> steps are recorded into one command batch
    /// and submitted once, with no host round-trip between them (learning rate and Adam's bias corrections are push
    /// constants computed at record time from the step index). A batch ends where the host must act: after a step whose
    /// loss is read back (every <see cref="LossEvery"/> steps with <see cref="OnLoss"/> set) and before a step whose trainable set
    /// changes. Reductions are fixed-order (deterministic; the same order however many steps a batch holds). Mirrors
    /// <see cref="CpuWindowSolver"/>; where the window's first frames are frozen and the focal held, the steps leave out the
    /// pairs that cannot change (<see cref="FrozenPrefix"/>), with the same result to the bit.
    /// </summary>
    internal sealed class GpuWindowSolver : IWindowSolver
    {
        private readonly GpuContext _ctx;
        private readonly bool _ownsContext;

        public GpuWindowSolver(GpuContext ctx, bool ownsContext = false) { _ctx = ctx; _ownsContext = ownsContext; }

        /// <summary>The Vulkan device the solver runs on (shared with the multi-view refinement).</summary>
        internal GpuContext Context => _ctx;

        public static GpuWindowSolver CreateOwned()
        {
            GpuContext ctx;
            try { ctx = GpuContext.Create(); }
            catch (GpuUnavailableException e) { throw new InvalidOperationException("No usable Vulkan device for the GPU solver: " + e.Message, e); }
            return new GpuWindowSolver(ctx, ownsContext: true);
        }

        public SolverTuning Tuning { get; } = new SolverTuning();
        /// <summary>With <see cref="OnLoss"/> set: steps between loss read-backs (each ends a batch).</summary>
        public int LossEvery { get; set; } = 25;
        /// <summary>Per-kernel GPU timestamps, summed per kernel into the result's stage times as "gpu:NAME" (slower; for benches).</summary>
        public bool KernelTimings { get; set; }
        /// <summary>Optional: called with (step, loss, focal) whenever the loss is read back.</summary>
        public Action<int, double, double>? OnLoss { get; set; }

        /// <summary>
        /// Descends only over the part of the window that can change (<see cref="FrozenPrefix"/>); false runs every pair
        /// through every step (tests compare the two).
        /// </summary>
        internal bool SkipFrozenPairs { get; set; } = true;

        /// <summary>
        /// The leading frames descent can leave out of its steps: with the focal held, the depth of the warm start's first
        /// FrozenFrames frames fixed and no loss read during the steps, a pair of two frozen frames has a constant loss and
        /// no gradient (its fit follows from its fixed depth, and the loss is a sum over pairs), so frames
        /// 0 .. FrozenFrames - 2 and their pairs change nothing in any step; the newest frozen frame stays (its pair with
        /// the first free one has a gradient). 0 when nothing can be left out.
        /// </summary>
        internal int FrozenPrefix(SolverProblem p, SolverOptions options, SolverWarmStart? warm) =>
            SkipFrozenPairs && OnLoss == null && options.Steps > 0 && p.FixedFocal.HasValue && warm?.InitialDepth != null && warm.FrozenFrames >= 2
                ? Math.Min(warm.FrozenFrames, p.N - 1) - 1 : 0;

        public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default)
        {
            SolverCommon.Validate(window, options, warmStart);
            var total = Stopwatch.StartNew();
            var p = new SolverProblem(window, Tuning);
            double f0 = SolverCommon.StartFocal(p, warmStart);
            var init = SolverCommon.InitialParameters(p, warmStart, f0);
            int cut = FrozenPrefix(p, options, warmStart);
            var ms = new Dictionary<string, double> { ["record"] = 0, ["gpu"] = 0, ["readback"] = 0 };
            if (cut == 0)
            {
                using var whole = new State(_ctx, p);
                whole.Params.Write<float>(ToFloat(init));
                ms["upload"] = total.Elapsed.TotalMilliseconds;
                Descend(whole, p, options, warmStart, ms, token);
                return Result(whole, p, options, ms, total);
            }
            // The steps over frames cut .. N-1 (the loss normalised as the whole window's, so every gradient is the whole
            // window's), then the whole window evaluated at the parameters they reached: depth, poses, confidence and loss
            // as if every pair had taken every step.
            var sub = new SolverWindow(Skip(window.Images, cut), Skip(window.Pairs, cut),
                window.PriorInverseDepth == null ? null : Skip(window.PriorInverseDepth, cut), window.FixedFocal);
            var sp = new SolverProblem(sub, Tuning, normFrames: p.NormFrames);
            var subWarm = new SolverWarmStart { InitialDepth = Skip(warmStart!.InitialDepth!, cut), Focal = warmStart.Focal, FrozenFrames = warmStart.FrozenFrames - cut };
            var subParams = new float[sp.ParamCount];
            using (var s = new State(_ctx, sp))
            {
                s.Params.Write<float>(ToFloat(Cut(p, sp, init, cut)));
                ms["upload"] = total.Elapsed.TotalMilliseconds;
                Descend(s, sp, options, subWarm, ms, token);
                s.Params.ReadAll<float>(sp.ParamCount).CopyTo(subParams, 0);
            }
            var sw = Stopwatch.StartNew();
            using var all = new State(_ctx, p);
            all.Params.Write<float>(Merge(p, sp, ToFloat(init), subParams, cut));
            ms["upload"] += sw.Elapsed.TotalMilliseconds;
            ms["frozen_prefix"] = cut;
            return Result(all, p, options, ms, total);
        }

        private static List<T> Skip<T>(IReadOnlyList<T> a, int n)
        {
            var r = new List<T>(a.Count - n);
            for (int i = n; i < a.Count; i++) r.Add(a[i]);
            return r;
        }

        /// <summary>The parameters of frames cut .. N-1 (their depth grids, prior scale and shift) and the focal, in the cut problem's layout.</summary>
        internal static double[] Cut(SolverProblem p, SolverProblem sp, double[] prm, int cut)
        {
            var r = new double[sp.ParamCount];
            for (int fr = 0; fr < sp.N; fr++)
            {
                Array.Copy(prm, p.ThetaOffset(fr + cut), r, sp.ThetaOffset(fr), p.Nodes);
                if (p.Prior != null) { r[sp.ScaleOffset(fr)] = prm[p.ScaleOffset(fr + cut)]; r[sp.ShiftOffset(fr)] = prm[p.ShiftOffset(fr + cut)]; }
            }
            r[sp.FocalOffset] = prm[p.FocalOffset];
            return r;
        }

        /// <summary>The whole window's parameters with those of frames cut .. N-1 and the focal taken from the cut problem's.</summary>
        internal static float[] Merge(SolverProblem p, SolverProblem sp, float[] prm, float[] sub, int cut)
        {
            var r = (float[])prm.Clone();
            for (int fr = 0; fr < sp.N; fr++)
            {
                Array.Copy(sub, sp.ThetaOffset(fr), r, p.ThetaOffset(fr + cut), p.Nodes);
                if (p.Prior != null) { r[p.ScaleOffset(fr + cut)] = sub[sp.ScaleOffset(fr)]; r[p.ShiftOffset(fr + cut)] = sub[sp.ShiftOffset(fr)]; }
            }
            r[p.FocalOffset] = sub[sp.FocalOffset];
            return r;
        }

        /// <summary>The descent's steps on <paramref name="s"/> (its parameters written).</summary>
        private void Descend(State s, SolverProblem p, SolverOptions options, SolverWarmStart? warmStart, Dictionary<string, double> ms, CancellationToken token)
        {
            int softmin = SolverCommon.SoftminSteps(p, options, warmStart);
            int coarseOnly = SolverCommon.CoarseOnlySteps(p, options, warmStart);
            var trainable = SolverCommon.Trainable(p, warmStart, focalFree: false, fineFree: coarseOnly == 0);
            bool focalFree = false;
            s.WriteRates(trainable, 0);
            var sw = new Stopwatch();
            var loop = Stopwatch.StartNew();
            // Per-kernel timestamps are limited per batch: one step per batch then.
            int perBatch = KernelTimings ? 1 : Math.Max(1, options.StepsPerSubmission);
            double baseRate = SolverCommon.BaseRate(Tuning, options, warmStart);
            int submissions = 0;
            for (int step = 0; step < options.Steps;)
            {
                token.ThrowIfCancellationRequested();
                bool rates = false;
                if (step == softmin && !p.FixedFocal.HasValue) { focalFree = true; rates = true; }
                if (step == coarseOnly && coarseOnly > 0) { trainable = SolverCommon.Trainable(p, warmStart, focalFree: false); rates = true; }
                if (rates) s.WriteRates(trainable, focalFree ? Tuning.FocalRateScale : 0);
                sw.Restart();
                int first = step;
                bool readLoss = false;
                using (var batch = _ctx.BeginBatch("solver steps", KernelTimings))
                {
                    do
                    {
                        readLoss = ReadsLoss(step, options.Steps);
                        s.RecordStep(batch, step < softmin && step % Math.Max(1, Tuning.SoftminEvery) == 0, options.GradientThroughPoses,
                            baseRate * SolverCommon.RateFactor(Tuning, step, options.Steps), step + 1);
                        step++;
                    }
                    while (!readLoss && step < options.Steps && step - first < perBatch && !RatesChangeAt(step, softmin, coarseOnly, p));
                    ms["record"] += sw.Elapsed.TotalMilliseconds;
                    sw.Restart();
                    batch.Submit();
                    batch.Wait();
                    submissions++;
                    ms["gpu"] += sw.Elapsed.TotalMilliseconds;
                    foreach (var t in batch.Timings)
                    {
                        ms["gpu:" + t.Label] = (ms.TryGetValue("gpu:" + t.Label, out var acc) ? acc : 0) + t.Milliseconds;
                        ms["calls:" + t.Label] = (ms.TryGetValue("calls:" + t.Label, out var calls) ? calls : 0) + 1;
                    }
                }
                if (readLoss && OnLoss != null)
                {
                    sw.Restart();
                    double loss = s.ReadLoss();
                    ms["readback"] += sw.Elapsed.TotalMilliseconds;
                    OnLoss(step - 1, loss, Math.Exp(s.Params.ReadAll<float>(p.ParamCount)[p.FocalOffset]));
                }
            }
            ms["steps"] = loop.Elapsed.TotalMilliseconds;
            ms["submissions"] = submissions;
        }

        /// <summary>Depth, poses, confidence and loss of the parameters in <paramref name="s"/>.</summary>
        private SolverResult Result(State s, SolverProblem p, SolverOptions options, Dictionary<string, double> ms, Stopwatch total)
        {
            var sw = Stopwatch.StartNew();
            using (var batch = _ctx.BeginBatch("solver final"))
            {
                s.RecordEvaluation(batch);
                batch.Submit();
                batch.Wait();
            }
            var prm = s.Params.ReadAll<float>(p.ParamCount);
            double f = p.FixedFocal ?? Math.Exp(prm[p.FocalOffset]);
            var depth = s.ReadDepth();
            var fits = s.ReadFits();
            ms["readback"] += sw.Elapsed.TotalMilliseconds;
            var pairs = new List<(double[] R, double[] T)>();
            foreach (var fit in fits) pairs.Add(fit);
            double finalLoss = s.ReadLoss();
            ms["total"] = total.Elapsed.TotalMilliseconds;
            return new SolverResult
            {
                Poses = SolverCommon.Chain(pairs),
                Focal = f,
                Depth = SolverCommon.ToImages(p, depth),
                Confidence = SolverCommon.Confidence(p, depth, pairs, f),
                FinalLoss = finalLoss,
                Steps = options.Steps,
                StageMilliseconds = ms,
            };
        }

        /// <summary>Whether the loss of <paramref name="step"/> is read back (a batch ends after it).</summary>
        private bool ReadsLoss(int step, int steps) =>
            step == steps - 1 || (OnLoss != null && step % Math.Max(1, LossEvery) == 0);

        /// <summary>Whether the trainable set changes before <paramref name="step"/> (the host rewrites the rates: a batch ends before it).</summary>
        private static bool RatesChangeAt(int step, int softmin, int coarseOnly, SolverProblem p) =>
            (step == softmin && !p.FixedFocal.HasValue) || (step == coarseOnly && coarseOnly > 0);

        internal static float[] ToFloat(double[] a)
        {
            var r = new float[a.Length];
            for (int i = 0; i < a.Length; i++) r[i] = (float)a[i];
            return r;
        }

        public void Dispose()
        {
            if (_ownsContext) _ctx.Dispose();
        }

        /// <summary>The device buffers of one solve and the recording of its stages.</summary>
        internal sealed class State : IDisposable
        {
            private readonly GpuContext _ctx;
            private readonly SolverProblem _p;
            private readonly List<GpuBuffer> _all = new List<GpuBuffer>();
            public readonly GpuBuffer Params, M, V, Grad, Rate, Prior, FlowF, FlowB, ConfF, ConfB, Depth, GzA, GzB, Gy, Gg,
                Rows, Srcs, Weights, Candidates, Fits, CandFits, SumsPartials, LossPartials, Losses,
                ProcFPartials, PriorPartials, SmoothTerms;
            private readonly int _groups, _k, _c, _stride, _candGroups;
            private readonly float[] _candidates;

            public State(GpuContext ctx, SolverProblem p)
            {
                _ctx = ctx; _p = p;
                int P = p.Pixels, n = p.N;
                _k = n - 1;
                _candidates = ToFloat(SolverReference.FocalCandidates(p));
                _c = _candidates.Length;
                _groups = K.ReduceGroups(p.W, p.H);
                _stride = p.CandidateStride;
                _candGroups = K.ReduceGroups(p.W, p.H, _stride);
                try
                {
                    Params = Buf(p.ParamCount, "solver.params"); M = Buf(p.ParamCount, "solver.adam_m"); V = Buf(p.ParamCount, "solver.adam_v");
                    Grad = Buf(p.ParamCount, "solver.grad"); Rate = Buf(p.ParamCount, "solver.rate");
                    Prior = Buf(p.Prior != null ? n * P : 1, "solver.prior");
                    FlowF = Buf(_k * 2 * P, "solver.flow_fwd"); FlowB = Buf(_k * 2 * P, "solver.flow_bwd");
                    ConfF = Buf(_k * P, "solver.conf_fwd"); ConfB = Buf(_k * P, "solver.conf_bwd");
                    Depth = Buf(n * P, "solver.depth"); GzA = Buf(_k * P, "solver.gz_src"); GzB = Buf(_k * P, "solver.gz_dst");
                    Gy = Buf(_k * P, "solver.gy"); Gg = Buf(n * P, "solver.gg");
                    Candidates = Buf(_c, "solver.candidates"); Fits = Buf(_k * K.FitStride, "solver.fits"); CandFits = Buf(_c * K.FitStride, "solver.cand_fits");
                    SumsPartials = Buf(Math.Max(_k * _groups, _c * _candGroups) * K.SumsWidth, "solver.sums_partials");
                    LossPartials = Buf(Math.Max(_k * _groups, _c * _candGroups) * K.LossStride, "solver.loss_partials"); Losses = Buf(_k * K.LossStride, "solver.losses");
                    ProcFPartials = Buf(_k * _groups, "solver.procf_partials");
                    PriorPartials = Buf(n * _groups * 2, "solver.prior_partials");
                    SmoothTerms = Buf(n * p.Nodes, "solver.smooth_terms");
                    // Inputs.
                    var fl = new float[_k * 2 * P];
                    for (int k = 0; k < _k; k++) Array.Copy(p.Forward[k], 0, fl, k * 2 * P, 2 * P);
                    FlowF.Write<float>(fl);
                    for (int k = 0; k < _k; k++) Array.Copy(p.Backward[k], 0, fl, k * 2 * P, 2 * P);
                    FlowB.Write<float>(fl);
                    var cf = new float[_k * P];
                    for (int k = 0; k < _k; k++) Array.Copy(p.ForwardConf[k], 0, cf, k * P, P);
                    ConfF.Write<float>(cf);
                    for (int k = 0; k < _k; k++) Array.Copy(p.BackwardConf[k], 0, cf, k * P, P);
                    ConfB.Write<float>(cf);
                    if (p.Prior != null)
                    {
                        var pr = new float[n * P];
                        for (int fr = 0; fr < n; fr++) Array.Copy(p.Prior[fr], 0, pr, fr * P, P);
                        Prior.Write<float>(pr);
                    }
                    else Prior.Write<float>(new float[1]);
                    Candidates.Write<float>(_candidates);
                    var (rows, srcs, weights) = BuildTargetCsr(p);
                    Rows = GpuBuffer.FromData<int>(ctx, rows, "solver.csr_rows"); _all.Add(Rows);
                    Srcs = GpuBuffer.FromData<int>(ctx, srcs.Length > 0 ? srcs : new int[1], "solver.csr_srcs"); _all.Add(Srcs);
                    Weights = GpuBuffer.FromData<float>(ctx, weights.Length > 0 ? weights : new float[1], "solver.csr_weights"); _all.Add(Weights);
                    foreach (var b in new[] { M, V, Grad, ProcFPartials, PriorPartials, SmoothTerms, Losses, Fits }) b.Fill(0);
                }
                catch
                {
                    Dispose();
                    throw;
                }
            }

            private GpuBuffer Buf(int floats, string name)
            {
                var b = new GpuBuffer(_ctx, (long)Math.Max(1, floats) * 4, name);
                _all.Add(b);
                return b;
            }

            /// <summary>
            /// For each pair, the transpose of the bilinear taps that sample frame k+1 at u + flow(u): per target pixel, the
            /// source pixels and weights (CSR, sources in increasing order). Same taps as SolverReference.ProcrustesPointsBackward.
            /// </summary>
            internal static (int[] Rows, int[] Srcs, float[] Weights) BuildTargetCsr(SolverProblem p)
            {
                int P = p.Pixels, kk = p.N - 1, w = p.W, h = p.H;
                var rows = new int[kk * (P + 1)];
                int total = 0;
                var count = new int[P];
                var perPair = new List<(int, int, float)>();
                var srcsAll = new List<int>(); var wAll = new List<float>();
                for (int k = 0; k < kk; k++)
                {
                    Array.Clear(count, 0, P);
                    perPair.Clear();
                    var flow = p.Forward[k]; var conf = p.ForwardConf[k];
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                        {
                            int i = y * w + x;
                            if (conf[i] <= 0) continue;
                            // Same float arithmetic as the shader: vec2(x, y) + flow.
                            float px = x + flow[2 * i], py = y + flow[2 * i + 1];
                            if (!SolverReference.SampleInside(w, h, px, py, out int x0, out int y0, out double axd, out double ayd)) continue;
                            float ax = px - x0, ay = py - y0;
                            void Add(int tx, int ty, float wt) { if (wt > 0) { perPair.Add((ty * w + tx, i, wt)); count[ty * w + tx]++; } }
                            Add(x0, y0, (1 - ax) * (1 - ay));
                            if (ax > 0) Add(x0 + 1, y0, ax * (1 - ay));
                            if (ay > 0) Add(x0, y0 + 1, (1 - ax) * ay);
                            if (ax > 0 && ay > 0) Add(x0 + 1, y0 + 1, ax * ay);
                        }
                    int o = k * (P + 1);
                    rows[o] = total;
                    for (int t = 0; t < P; t++) rows[o + t + 1] = rows[o + t] + count[t];
                    var fill = new int[P];
                    var srcs = new int[perPair.Count]; var ws = new float[perPair.Count];
                    foreach (var (target, src, wt) in perPair) // sources arrive in increasing order
                    {
                        int at = rows[o + target] - total + fill[target]++;
                        srcs[at] = src; ws[at] = wt;
                    }
                    srcsAll.AddRange(srcs); wAll.AddRange(ws);
                    total += perPair.Count;
                }
                return (rows, srcsAll.ToArray(), wAll.ToArray());
            }

            public void WriteRates(bool[] trainable, double focalRate)
            {
                var r = new float[_p.ParamCount];
                for (int i = 0; i < r.Length; i++) r[i] = trainable[i] ? 1 : 0;
                r[_p.FocalOffset] = (float)focalRate;
                Rate.Write<float>(r);
            }

            private K.GridPush GridPush() => new K.GridPush
            {
                Width = _p.W, Height = _p.H, Cell = _p.Grid.Cell, Gw = _p.Grid.GridWidth, Gh = _p.Grid.GridHeight,
                Cw = _p.Grid.CoarseWidth, Ch = _p.Grid.CoarseHeight, Nodes = _p.Nodes, HasPrior = _p.Prior != null ? 1 : 0,
                ScaleBase = _p.N * _p.Nodes,
            };

            public void RecordDepth(CommandBatch b) =>
                K.RecordPixels(b, _ctx, K.DepthForward, _p.W, _p.H, _p.N, GridPush(), Params, Prior, Depth);

            /// <summary>Procrustes of every problem (pairs, or candidate focals on pair 0) into the fit records.</summary>
            public void RecordProcrustes(CommandBatch b, bool candidates)
            {
                int problems = candidates ? _c : _k;
                var fits = candidates ? CandFits : Fits;
                int stride = candidates ? _stride : 1, groups = candidates ? _candGroups : _groups;
                for (int pass = 0; pass < 2; pass++)
                {
                    K.RecordReducing(b, _ctx, K.ProcrustesSums, _p.W, _p.H, stride, problems,
                        new K.SumsPush { Width = _p.W, Height = _p.H, CandidateMode = candidates ? 1 : 0, Pass = pass, FocalIndex = _p.FocalOffset, Stride = stride },
                        Params, Candidates, Depth, FlowF, ConfF, fits, SumsPartials);
                    K.RecordLinear(b, _ctx, K.ProcrustesSolve, problems, 64, new K.SolvePush { Problems = problems, Pass = pass, Groups = groups }, SumsPartials, fits);
                }
            }

            /// <summary>
            /// The flow loss of every problem into per-work-group partials; with <paramref name="reduce"/> also reduced into
            /// the loss records (candidates: the softmin kernel reduces them itself; pairs in a step with the gradient through
            /// the poses: the Procrustes backward kernel does).
            /// </summary>
            public void RecordLoss(CommandBatch b, bool candidates, bool gradient, bool reduce = true)
            {
                int problems = candidates ? _c : _k;
                int stride = candidates ? _stride : 1, groups = candidates ? _candGroups : _groups;
                K.RecordReducing(b, _ctx, K.FlowLoss, _p.W, _p.H, stride, problems,
                    new K.LossPush
                    {
                        Width = _p.W, Height = _p.H, CandidateMode = candidates ? 1 : 0, Gradient = gradient ? 1 : 0, FocalIndex = _p.FocalOffset,
                        Delta = (float)_p.DeltaPx, InvTerms = (float)(1.0 / _p.FlowTerms), Stride = stride,
                    },
                    Params, Candidates, Depth, FlowF, FlowB, ConfF, ConfB, candidates ? CandFits : Fits, GzA, GzB, LossPartials);
                if (reduce && !candidates) K.RecordReduce(b, _ctx, LossPartials, problems, groups, K.LossStride, Losses);
            }

            /// <summary>
            /// One descent step, 11 dispatches with the gradient through the poses (10 without; 14 more on a softmin step):
            /// depth; Procrustes (2 x sums + solve); flow loss; Procrustes backward (reduces the loss records); points
            /// backward; depth backward (gathers the Procrustes targets' taps); node gradients (with the focal and prior
            /// sums); Adam.
            /// </summary>
            public void RecordStep(CommandBatch b, bool softmin, bool throughPoses, double lr, int step)
            {
                RecordDepth(b);
                if (softmin)
                {
                    RecordProcrustes(b, candidates: true);
                    RecordLoss(b, candidates: true, gradient: false);
                    K.RecordLinear(b, _ctx, K.SoftminFocal, 1, 1,
                        new K.SoftminPush { Count = _c, FocalIndex = _p.FocalOffset, Sharpness = (float)_p.Tuning.SoftminSharpness, Groups = _candGroups },
                        LossPartials, Candidates, Params);
                }
                RecordProcrustes(b, candidates: false);
                RecordLoss(b, candidates: false, gradient: true, reduce: !throughPoses);
                if (throughPoses)
                {
                    K.RecordLinear(b, _ctx, K.ProcrustesBackward, _k, 64, new K.PairsPush { Pairs = _k, Groups = _groups }, Fits, Losses, Back, LossPartials);
                    K.RecordReducing(b, _ctx, K.PointsBackward, _p.W, _p.H, 1, _k,
                        new K.PointsPush { Width = _p.W, Height = _p.H, FocalIndex = _p.FocalOffset },
                        Params, Depth, FlowF, ConfF, Fits, Back, GzA, Gy, ProcFPartials);
                }
                RecordDepthBackward(b, throughPoses);
                K.RecordLinear(b, _ctx, K.Adam, _p.ParamCount, 64,
                    new K.AdamPush
                    {
                        Count = _p.ParamCount, Lr = (float)lr, Beta1 = (float)FlowMap.Solve.Adam.Beta1, Beta2 = (float)FlowMap.Solve.Adam.Beta2,
                        C1 = (float)(1 - Math.Pow(FlowMap.Solve.Adam.Beta1, step)), C2 = (float)(1 - Math.Pow(FlowMap.Solve.Adam.Beta2, step)), Eps = (float)FlowMap.Solve.Adam.Epsilon,
                    },
                    Params, Grad, M, V, Rate);
            }

            private GpuBuffer? _back;
            private GpuBuffer Back => _back ??= Buf(_k * K.BackStride, "solver.back");

            /// <summary>dL/dz to the gradient of every parameter but Adam's update: per-pixel depth backward, then node gradients and the sums.</summary>
            public void RecordDepthBackward(CommandBatch b, bool throughPoses)
            {
                var g = GridPush();
                K.RecordReducing(b, _ctx, K.DepthBackward, _p.W, _p.H, 1, _p.N,
                    new K.DepthBackwardPush
                    {
                        Width = g.Width, Height = g.Height, Frames = _p.N, Cell = g.Cell, Gw = g.Gw, Gh = g.Gh, Cw = g.Cw, Ch = g.Ch,
                        Nodes = g.Nodes, HasPrior = g.HasPrior, ScaleBase = g.ScaleBase, Gather = throughPoses ? 1 : 0,
                    },
                    Params, Prior, Depth, GzA, GzB, Gg, PriorPartials, Rows, Srcs, Weights, Gy);
                // One invocation per node, plus one for the focal and prior sums.
                K.RecordLinear(b, _ctx, K.NodeGrad, _p.N * _p.Nodes + 1, 64,
                    new K.NodeGradPush
                    {
                        Width = g.Width, Height = g.Height, Frames = _p.N, Cell = g.Cell, Gw = g.Gw, Gh = g.Gh, Cw = g.Cw, Ch = g.Ch,
                        Nodes = g.Nodes, Lam = (float)_p.SmoothnessWeight,
                        Pairs = _k, HasPrior = g.HasPrior, ThroughPoses = throughPoses ? 1 : 0, ScaleBase = g.ScaleBase, FocalIndex = _p.FocalOffset, Groups = _groups,
                    },
                    Params, Gg, Grad, SmoothTerms, Losses, ProcFPartials, PriorPartials);
            }

            /// <summary>Depth, fits and loss of the current parameters (no update).</summary>
            public void RecordEvaluation(CommandBatch b)
            {
                RecordDepth(b);
                RecordProcrustes(b, candidates: false);
                RecordLoss(b, candidates: false, gradient: true);
                RecordDepthBackward(b, throughPoses: false);
            }

            /// <summary>
            /// Flow loss plus smoothness of the last recorded step or evaluation: the loss records plus the smoothness terms
            /// summed here in float in the order of reduce_partials.comp (the value its dispatch gave, without the dispatch).
            /// </summary>
            public double ReadLoss()
            {
                var l = Losses.ReadAll<float>(_k * K.LossStride);
                double s = K.FixedSum(SmoothTerms.ReadAll<float>(_p.N * _p.Nodes), 0, _p.N * _p.Nodes, 1, 0);
                for (int k = 0; k < _k; k++) s += l[k * K.LossStride];
                return s;
            }

            public double[][] ReadDepth()
            {
                var all = Depth.ReadAll<float>(_p.N * _p.Pixels);
                var d = new double[_p.N][];
                for (int fr = 0; fr < _p.N; fr++)
                {
                    d[fr] = new double[_p.Pixels];
                    for (int i = 0; i < _p.Pixels; i++) d[fr][i] = all[fr * _p.Pixels + i];
                }
                return d;
            }

            public (double[] R, double[] T)[] ReadFits() => ReadFitRecords(Fits, _k);
            public (double[] R, double[] T)[] ReadCandidateFits() => ReadFitRecords(CandFits, _c);

            private static (double[] R, double[] T)[] ReadFitRecords(GpuBuffer buf, int count)
            {
                var a = buf.ReadAll<float>(count * K.FitStride);
                var res = new (double[] R, double[] T)[count];
                for (int k = 0; k < count; k++)
                {
                    var r = new double[9]; var t = new double[3];
                    for (int i = 0; i < 9; i++) r[i] = a[k * K.FitStride + i];
                    for (int i = 0; i < 3; i++) t[i] = a[k * K.FitStride + 9 + i];
                    res[k] = (r, t);
                }
                return res;
            }

            public void Dispose()
            {
                for (int i = _all.Count - 1; i >= 0; i--) _all[i].Dispose();
                _all.Clear();
            }
        }
    }
}
