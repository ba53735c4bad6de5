using System;
using Microsoft.Extensions.Logging;
using System.Collections.Generic;
using System.Threading;
using FlowMap.Flow.Kernels;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;

namespace FlowMap.Flow
{
    /// <summary>
    /// Dense optical flow on Vulkan compute, both directions at once, with confidences: a coarse-to-fine dense inverse
    /// search (DIS, Kroeger et al. ECCV 2016) with a variational refinement on every level.
    ///
    /// Per pair, one command batch (one submit, one wait):
    ///  1. luminance of a and b; an image pyramid by 2x2 box downsampling (ceil sizes: any image size works);
    ///     Sobel gradients on the levels that are estimated;
    ///  2. from the coarsest level to <see cref="VulkanFlowOptions.FinestLevel"/>, for both directions side by side:
    ///     a. initial flow = the coarser level's flow resampled (zero on the coarsest level);
    ///     b. patch search (flow/dis_search.comp): a small integer cost volume around the initial flow on the coarsest
    ///        level (large motion), then inverse-compositional Lucas-Kanade on mean-normalised patches (robust to an
    ///        additive brightness change), the best visited flow kept;
    ///     c. densification (flow/dis_densify.comp): photometric-error weighted mean of the overlapping patch flows;
    ///     d. variational refinement (flow/var_data.comp + flow/var_sor.comp): Charbonnier data and edge-aware
    ///        smoothness terms, lagged weights, red-black SOR; it fills textureless regions from their surroundings;
    ///  3. the flow resampled to full resolution; confidence (flow/flow_confidence.comp) from forward-backward
    ///     consistency and photometric agreement after warping.
    /// GPU buffers are kept and reused while the image size stays the same.
    ///
    /// What was tried (EPE on Sintel alley_1 / cave_2 and on FlowTestPairs, process CPU time per 1024x436 pair on
    /// lavapipe, 2 cores; `flowmap bench flow --set Name=Value`):
    ///  - the coarsest level: with 12-pixel levels the integer search matched noise on large motion (synthetic 30 px:
    ///    EPE 8.8); coarsest side >= 24 px with a 3-pixel search fixed it (1.2); a 5-6 px search was worse again;
    ///  - mean-normalised Hessian (sum (g - mean g)(g - mean g)^T) instead of sum g g^T: the iterations had been damped
    ///    and did not converge; centred sums and offset samples made float32 steps agree with the double reference;
    ///  - variational refinement: without it EPE rose by 30-100 %; 2 linearisations x 5 SOR sweeps per level; alpha
    ///    0.01 / 0.02 / 0.04 / 0.06: 0.06 best on most pairs; edge weight exp(-5 |grad I|) (10 was worse);
    ///  - patch-step damping: an absolute eps = 1e-5 P^2 on the Hessian left smooth and low-contrast patches short of
    ///    sub-pixel shifts (mean 0.358 for 0.395 px: the damped steps fell below the 0.01 px stop early); eps relative
    ///    to the patch's gradient energy (1 % of trace H) plus an 8-bit noise floor reaches the search's fixed point
    ///    (FlowMap.Tests/Issues/PatchSearchStopsShortOfSubpixelShifts.cs); the rest of the sub-pixel error is the
    ///    per-patch bias of bilinear sampling (mean |u* - t| ~0.03 px, no mean offset);
    ///  - a Gaussian pre-blur (sigma 0.7 / 1.0) helped the procedural pairs but hurt Sintel: off;
    ///  - patch stride 3 / 4 / 6: 4 (3 slightly better, 40 % more search work; 6 clearly worse);
    ///  - full resolution (Accurate preset) beats DIS MEDIUM on every Sintel pass, at several times the cost;
    ///  - speed on lavapipe is set by memory accesses per invocation (each is a per-lane gather on the CPU): bilinear
    ///    quads (one vec4 load per sample), features (I, gx, gy) in one vec4, the patch template cached in a private
    ///    array, early stop of the patch iterations, luminance computed straight at half resolution, confidence at the
    ///    estimated level, the full-resolution pass writing 2x2 blocks, packed SOR coefficients.
    /// </summary>
    internal sealed class VulkanFlowEstimator : IFlowEstimator
    {
        private readonly GpuContext _ctx;
        private readonly bool _ownsContext;
        private readonly VulkanFlowOptions _o;
        private Workspace? _ws;
        private Workspace? _wsOther; // the workspace of the size used before _ws's
        private bool _disposed;

        /// <summary>Creates the estimator on its own Vulkan device (the best one found, or the host's choice).</summary>
        public VulkanFlowEstimator(VulkanFlowOptions? options = null)
            : this(GpuContext.Create(), options, ownsContext: true) { }

        internal VulkanFlowEstimator(GpuContext ctx, VulkanFlowOptions? options = null, bool ownsContext = false)
        {
            _ctx = ctx ?? throw new ArgumentNullException(nameof(ctx));
            _o = options ?? new VulkanFlowOptions();
            _o.Validate();
            _ownsContext = ownsContext;
        }

        public string Name => _o.FinestLevel == 0 ? "vulkan-dis accurate" : _o.FinestLevel == 1 ? "vulkan-dis" : $"vulkan-dis level {_o.FinestLevel}";

        /// <summary>Name of the Vulkan device the flow runs on.</summary>
        public string DeviceName => _ctx.Info.Name;

        /// <summary>Most bytes held in GPU buffers by this estimator's device since creation or <see cref="ResetPeakGpuBytes"/>.</summary>
        public long PeakGpuBytes => _ctx.PeakBufferBytes;

        /// <summary>Releases the buffers of the last size (so the next peak measures one size only).</summary>
        public void ResetPeakGpuBytes()
        {
            _ws?.Dispose();
            _ws = null;
            _wsOther?.Dispose();
            _wsOther = null;
            _ctx.WaitIdle();
            _ctx.ResetPeakBufferBytes();
        }

        internal GpuContext Context => _ctx;

        /// <summary>How many times GPU buffers were allocated for a new image size (tests: reuse across pairs).</summary>
        internal int WorkspaceAllocations { get; private set; }

        /// <summary>Queue submissions made by the last <see cref="Estimate"/> (tests: one batch per pair).</summary>
        internal int SubmissionsLastPair { get; private set; }

        public FlowResult Estimate(RgbImage a, RgbImage b, CancellationToken token = default)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(VulkanFlowEstimator));
            if (a == null) throw new ArgumentNullException(nameof(a));
            if (b == null) throw new ArgumentNullException(nameof(b));
            if (a.Width != b.Width || a.Height != b.Height)
                throw new ArgumentException($"The two images differ in size: {a.Width}x{a.Height} and {b.Width}x{b.Height}.");
            if (a.Width < 2 || a.Height < 2)
                throw new ArgumentException($"Images of {a.Width}x{a.Height} are too small for optical flow (at least 2x2).");
            token.ThrowIfCancellationRequested();

            if (_ws == null || _ws.Width != a.Width || _ws.Height != a.Height)
            {
                // Two sizes are kept (tracking at a reduced size alternates with keyframes at the processing size).
                if (_wsOther != null && _wsOther.Width == a.Width && _wsOther.Height == a.Height)
                    (_ws, _wsOther) = (_wsOther, _ws);
                else
                {
                    _wsOther?.Dispose();
                    _wsOther = _ws;
                    _ws = null;
                    _ws = new Workspace(_ctx, _o, a.Width, a.Height);
                    WorkspaceAllocations++;
                }
            }
            var ws = _ws;
            ws.RgbA.Write<byte>(a.Pixels);
            ws.RgbB.Write<byte>(b.Pixels);
            bool profile = _ctx.Logger.IsEnabled(LogLevel.Trace);
            var swProfile = System.Diagnostics.Stopwatch.StartNew();
            var cpuProfile = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
            using (var batch = _ctx.BeginBatch("flow", profile))
            {
                Record(batch, ws);
                if (profile) _ctx.Logger.LogTrace("flow: recorded at {Ms:F1} ms", swProfile.Elapsed.TotalMilliseconds);
                SubmissionsLastPair = 0;
                batch.Submit();
                SubmissionsLastPair++;
                batch.Wait();
                if (profile)
                {
                    LogProfile(_ctx.Logger, batch);
                    _ctx.Logger.LogTrace("flow: submit+wait done at {Ms:F1} ms, process CPU {CpuMs:F1} ms", swProfile.Elapsed.TotalMilliseconds,
                        (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuProfile).TotalMilliseconds);
                }
            }
            token.ThrowIfCancellationRequested();
            int w = a.Width, h = a.Height;
            var fwd = ws.Output(0).Download();
            var bwd = ws.Output(1).Download();
            var cf = ws.Confidence[0].Download();
            var cb = ws.Confidence[1].Download();
            Sanitize(fwd, cf);
            Sanitize(bwd, cb);
            if (profile)
                _ctx.Logger.LogTrace("flow: readback done at {Ms:F1} ms, process CPU {CpuMs:F1} ms", swProfile.Elapsed.TotalMilliseconds,
                    (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuProfile).TotalMilliseconds);
            return new FlowResult(new FlowField(w, h, fwd), new FlowField(w, h, bwd), new FloatImage(w, h, cf), new FloatImage(w, h, cb));
        }

        /// <summary>
        /// With the host's logger at Trace level (the CLI: FLOWMAP_FLOW_PROFILE=1): GPU milliseconds per kernel of each
        /// pair (diagnostics; timestamps cost a little).
        /// </summary>
        private static void LogProfile(ILogger logger, CommandBatch batch)
        {
            var sums = new SortedDictionary<string, (double Ms, int N)>();
            double total = 0;
            foreach (var t in batch.Timings)
            {
                sums.TryGetValue(t.Label, out var v);
                sums[t.Label] = (v.Ms + t.Milliseconds, v.N + 1);
                total += t.Milliseconds;
            }
            foreach (var kv in sums) logger.LogTrace("flow: {Kernel,-24} {Ms,8:F2} ms in {Dispatches} dispatches", kv.Key, kv.Value.Ms, kv.Value.N);
            logger.LogTrace("flow: total {Ms:F2} ms, {Dispatches} dispatches, {Barriers} barriers", total, batch.DispatchCount, batch.BarrierCount);
        }

        /// <summary>Last line of defence: a non-finite flow value becomes 0 with confidence 0 (the kernels already avoid them).</summary>
        private static void Sanitize(float[] flow, float[] conf)
        {
            for (int i = 0; i < conf.Length; i++)
            {
                if (!float.IsFinite(flow[2 * i]) || !float.IsFinite(flow[2 * i + 1]))
                {
                    flow[2 * i] = 0; flow[2 * i + 1] = 0; conf[i] = 0;
                }
                else if (!float.IsFinite(conf[i])) conf[i] = 0;
            }
        }

        private void Record(CommandBatch batch, Workspace ws)
        {
            var o = _o;
            int F = ws.Finest;
            // 1. Luminance straight at the finest estimated level (or full resolution), the pyramid, per-level features.
            for (int d = 0; d < 2; d++)
            {
                var rgb = d == 0 ? ws.RgbA : ws.RgbB;
                if (F == 0) Luminance.Record(batch, _ctx, rgb, ws.Image[d][0], 3, 3 * ws.Width);
                else if (F == 1) RgbHalf.Record(batch, _ctx, rgb, ws.Width, ws.Height, ws.Image[d][1]);
                else
                {
                    Luminance.Record(batch, _ctx, rgb, ws.Image[d][0], 3, 3 * ws.Width);
                }
            }
            if (o.PreBlurSigma > 0)
                for (int d = 0; d < 2; d++)
                {
                    // Blur the finest estimated level in place (through a scratch image); coarser levels inherit it.
                    if (F >= 2) for (int l = 1; l <= F; l++) Downsample.Record(batch, _ctx, ws.Image[d][l - 1], ws.Image[d][l]);
                    GaussianBlur.Record(batch, _ctx, ws.Image[d][F], ws.BlurTmp, ws.BlurOut, o.PreBlurSigma);
                    batch.Copy(ws.BlurOut.Buffer, 0, ws.Image[d][F].Buffer, 0, (long)ws.BlurOut.PixelCount * sizeof(float));
                }
            for (int l = o.PreBlurSigma > 0 ? F + 1 : Math.Max(1, F == 1 ? 2 : 1); l <= ws.Coarsest; l++)
                for (int d = 0; d < 2; d++)
                    Downsample.Record(batch, _ctx, ws.Image[d][l - 1], ws.Image[d][l]);
            for (int l = F; l <= ws.Coarsest; l++)
                for (int d = 0; d < 2; d++)
                    FlowPrep.Record(batch, _ctx, ws.Image[d][l], ws.Feat[d][l], ws.Quad[d][l]);

            // 2. Coarse to fine, both directions side by side (d = 0: a -> b, d = 1: b -> a).
            for (int d = 0; d < 2; d++) batch.Fill(ws.Init[d][ws.Coarsest].Buffer, 0);
            for (int l = ws.Coarsest; l >= F; l--)
            {
                int lw = ws.Image[0][l].Width, lh = ws.Image[0][l].Height;
                if (l < ws.Coarsest)
                    for (int d = 0; d < 2; d++)
                        FlowUpsample.Record(batch, _ctx, ws.Flow[d][l + 1], ws.Init[d][l]);
                int p = Math.Min(o.PatchSize, Math.Min(lw, lh));
                int stride = Math.Min(o.PatchStride, p);
                var sp = new DisSearch.Push
                {
                    Width = lw, Height = lh, PatchSize = p, Stride = stride,
                    GridWidth = DisSearch.GridSize(lw, p, stride), GridHeight = DisSearch.GridSize(lh, p, stride),
                    Iterations = o.Iterations, SearchRadius = l == ws.Coarsest ? o.CoarseSearchRadius : o.SearchRadius,
                };
                for (int d = 0; d < 2; d++)
                    DisSearch.Record(batch, _ctx, ws.Feat[d][l], ws.Quad[1 - d][l], ws.Init[d][l], ws.Patches[d][l], sp);
                var dp = new DisDensify.Push
                {
                    Width = lw, Height = lh, PatchSize = p, Stride = stride, GridWidth = sp.GridWidth, GridHeight = sp.GridHeight,
                    MinDiff = o.DensifyMinDiff,
                };
                for (int d = 0; d < 2; d++)
                    DisDensify.Record(batch, _ctx, ws.Feat[d][l], ws.Quad[1 - d][l], ws.Patches[d][l], ws.Flow[d][l], dp);
                var vp = new VarData.Push
                {
                    Width = lw, Height = lh, Delta = o.Delta, Alpha = o.Alpha, EpsData = o.EpsData, EpsSmooth = o.EpsSmooth, Edge = o.EdgeAwareness,
                };
                for (int outer = 0; outer < o.VariationalOuter; outer++)
                {
                    for (int d = 0; d < 2; d++)
                        VarData.Record(batch, _ctx, ws.Feat[d][l], ws.Feat[1 - d][l], ws.Quad[1 - d][l], ws.Flow[d][l], ws.CoefA[d][l], ws.CoefB[d][l], vp);
                    for (int inner = 0; inner < o.VariationalInner; inner++)
                        for (int parity = 0; parity < 2; parity++)
                            for (int d = 0; d < 2; d++)
                                VarSor.Record(batch, _ctx, ws.CoefA[d][l], ws.CoefB[d][l], ws.Flow[d][l], parity, o.Omega);
                }
            }

            // 3. Confidences at the finest estimated level; flow and confidence to full resolution.
            var fl = ws.Image[0][F];
            var cp = new FlowConfidence.Push
            {
                Width = fl.Width, Height = fl.Height, FbAbs = o.ConfidenceFbAbs, FbRel = o.ConfidenceFbRel, SigmaPhoto = o.ConfidencePhotoSigma,
            };
            for (int d = 0; d < 2; d++)
                FlowConfidence.Record(batch, _ctx, ws.Feat[d][F], ws.Quad[1 - d][F], ws.Flow[d][F], ws.Flow[1 - d][F], ws.LevelConfidence[d], cp);
            if (F > 0)
                for (int d = 0; d < 2; d++)
                    FlowFinalize.Record(batch, _ctx, ws.Flow[d][F], ws.LevelConfidence[d], ws.FullFlow[d]!, ws.Confidence[d]);
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _ws?.Dispose();
            _ws = null;
            _wsOther?.Dispose();
            _wsOther = null;
            if (_ownsContext) _ctx.Dispose();
        }

        /// <summary>The GPU buffers for one image size, reused from pair to pair.</summary>
        private sealed class Workspace : IDisposable
        {
            private readonly List<IDisposable> _owned = new List<IDisposable>();
            public readonly int Width, Height, Finest, Coarsest;
            public readonly GpuBuffer RgbA, RgbB;
            public readonly GpuImage[][] Image = new GpuImage[2][], Feat = new GpuImage[2][], Quad = new GpuImage[2][],
                Flow = new GpuImage[2][], Init = new GpuImage[2][], Patches = new GpuImage[2][];
            public readonly GpuImage[][] CoefA = new GpuImage[2][], CoefB = new GpuImage[2][];
            public readonly GpuImage?[] FullFlow = new GpuImage?[2];
            public readonly GpuImage[] Confidence = new GpuImage[2], LevelConfidence = new GpuImage[2];
            public readonly GpuImage BlurTmp = null!, BlurOut = null!;

            public Workspace(GpuContext ctx, VulkanFlowOptions o, int width, int height)
            {
                Width = width; Height = height;
                var sizes = new List<(int W, int H)> { (width, height) };
                while (sizes.Count - 1 < o.MaxLevel)
                {
                    var (w, h) = Downsample.SizeOf(sizes[^1].W, sizes[^1].H);
                    if (Math.Min(w, h) < o.MinCoarsestSize) break;
                    sizes.Add((w, h));
                }
                Coarsest = sizes.Count - 1;
                Finest = Math.Min(o.FinestLevel, Coarsest);
                try
                {
                    RgbA = Own(new GpuBuffer(ctx, (long)width * height * 3, "flow.rgbA"));
                    RgbB = Own(new GpuBuffer(ctx, (long)width * height * 3, "flow.rgbB"));
                    for (int d = 0; d < 2; d++)
                    {
                        Image[d] = new GpuImage[Coarsest + 1];
                        Feat[d] = new GpuImage[Coarsest + 1];
                        Quad[d] = new GpuImage[Coarsest + 1];
                        Flow[d] = new GpuImage[Coarsest + 1];
                        Init[d] = new GpuImage[Coarsest + 1];
                        Patches[d] = new GpuImage[Coarsest + 1];
                        CoefA[d] = new GpuImage[Coarsest + 1];
                        CoefB[d] = new GpuImage[Coarsest + 1];
                        for (int l = 0; l <= Coarsest; l++)
                        {
                            var (w, h) = sizes[l];
                            // Full-resolution luminance only when it is estimated or the pyramid needs it (finest level >= 2).
                            if (l == 0 && Finest == 1) continue;
                            Image[d][l] = Own(new GpuImage(ctx, w, h, 1, $"flow.image{d}.{l}"));
                            if (l < Finest) continue;
                            Feat[d][l] = Own(new GpuImage(ctx, w, h, 4, $"flow.feat{d}.{l}"));
                            Quad[d][l] = Own(new GpuImage(ctx, w, h, 4, $"flow.quad{d}.{l}"));
                            Flow[d][l] = Own(new GpuImage(ctx, w, h, 2, $"flow.flow{d}.{l}"));
                            Init[d][l] = Own(new GpuImage(ctx, w, h, 2, $"flow.init{d}.{l}"));
                            int p = Math.Min(o.PatchSize, Math.Min(w, h)), s = Math.Min(o.PatchStride, p);
                            CoefA[d][l] = Own(new GpuImage(ctx, w, h, 4, $"flow.coefA{d}.{l}"));
                            CoefB[d][l] = Own(new GpuImage(ctx, w, h, 2, $"flow.coefB{d}.{l}"));
                            Patches[d][l] = Own(new GpuImage(ctx, DisSearch.GridSize(w, p, s), DisSearch.GridSize(h, p, s), 2, $"flow.patches{d}.{l}"));
                        }
                        var (fw, fh) = sizes[Finest];
                        if (d == 0 && o.PreBlurSigma > 0)
                        {
                            BlurTmp = Own(new GpuImage(ctx, fw, fh, 1, "flow.blurtmp"));
                            BlurOut = Own(new GpuImage(ctx, fw, fh, 1, "flow.blurout"));
                        }
                        LevelConfidence[d] = Own(new GpuImage(ctx, fw, fh, 1, $"flow.levelconf{d}"));
                        if (Finest > 0)
                        {
                            FullFlow[d] = Own(new GpuImage(ctx, width, height, 2, $"flow.full{d}"));
                            Confidence[d] = Own(new GpuImage(ctx, width, height, 1, $"flow.conf{d}"));
                        }
                        else Confidence[d] = LevelConfidence[d];
                    }
                }
                catch
                {
                    Dispose();
                    throw;
                }
            }

            public GpuImage Output(int d) => FullFlow[d] ?? Flow[d][0];

            private T Own<T>(T r) where T : IDisposable { _owned.Add(r); return r; }

            public void Dispose()
            {
                for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
                _owned.Clear();
            }
        }
    }
}
