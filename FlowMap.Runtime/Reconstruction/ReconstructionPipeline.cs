using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using FlowMap.Depth;
using FlowMap.Flow;
using FlowMap.Session;
using FlowMap.Solve;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// The reconstruction pipeline, one frame at a time, as a list of stages (<see cref="Process"/>):
    /// resize to the processing size -> track (<see cref="Tracker"/>: motion from the current keyframe, dense flow or its
    /// points (<see cref="ReconstructionOptions.SparseTracking"/>), keyframe decision, pose against the keyframe's depth) -> map (<see cref="Mapper"/>: window solve, freeze and fuse, refined keyframes)
    /// -> emit the live estimate. The modes are compositions of the stages: online = keyframe tracking + sliding-window
    /// mapping; offline = keyframe tracking + all keyframes solved at the end; offline over every frame = a chain of
    /// frames + all frames solved at the end. Feed frames with <see cref="Process"/>, then call <see cref="Finish"/>.
    /// Final per-frame estimates arrive through <see cref="FrameFinalized"/> in frame order. Deterministic for the same
    /// frames, components and options. Not thread-safe: one caller at a time.
    /// </summary>
    internal sealed class ReconstructionPipeline : IDisposable
    {
        private readonly ReconstructionOptions _o;
        private readonly IFlowEstimator _flow;
        private readonly IFlowEstimator? _mappingFlow;
        private readonly IWindowSolver _solver;
        private readonly IDepthPrior? _prior;
        private readonly bool _ownsComponents;
        private readonly StageClock _clock = new StageClock();
        private readonly ReconstructionState _state;
        private readonly Tracker _tracker;
        private readonly SparseTracker? _sparse;
        private readonly Mapper _mapper;
        private readonly KeyframeTracker? _live; // online: the tracker that makes the live estimates
        private bool _finished;
        private int _framesIn;

        /// <summary>The device of the solver (and of the flow on it), null on the CPU solver.</summary>
        internal FlowMap.Gpu.GpuContext? Gpu => (_solver as GpuWindowSolver)?.Context;

        /// <param name="options">Settings (validated here).</param>
        /// <param name="flow">Flow estimator (the Vulkan one, or an ONNX model).</param>
        /// <param name="solver">Window solver.</param>
        /// <param name="depthPrior">Optional frozen depth model; null: depth learned from flow alone.</param>
        /// <param name="ownsComponents">Dispose the components with the pipeline.</param>
        /// <param name="mappingFlow">With <see cref="ReconstructionOptions.MappingThread"/>: the flow estimator of the mapping thread
        /// (the tracker's is not shared across threads); null: <paramref name="flow"/> (only for a thread-safe estimator).
        /// Without a mapping thread (offline over keyframes, online): the estimator of the mapper's keyframe pairs, adjacent
        /// ones re-estimated with it (<see cref="ReconstructionOptions.PreciseMappingFlow"/>); null: tracking's flows and estimator.</param>
        public ReconstructionPipeline(ReconstructionOptions options, IFlowEstimator flow, IWindowSolver solver, IDepthPrior? depthPrior = null, bool ownsComponents = true,
            IFlowEstimator? mappingFlow = null)
        {
            _o = options ?? throw new ArgumentNullException(nameof(options));
            _o.Validate();
            _flow = flow ?? throw new ArgumentNullException(nameof(flow));
            _solver = solver ?? throw new ArgumentNullException(nameof(solver));
            _prior = depthPrior;
            _ownsComponents = ownsComponents;
            _mappingFlow = mappingFlow;
            _state = new ReconstructionState(_o, _clock, _prior, e => FrameFinalized?.Invoke(e), () => FrameFinalized != null);
            var gpu = (_solver as GpuWindowSolver)?.Context;
            // Every kernel built now, none while frames stream (a discrete GPU's driver compiles a shader when its pipeline is built).
            gpu?.Prebuild(FlowMap.Gpu.Kernels.KernelCatalog.Reconstruction);
            // Frames finalised without their dense flow (tracked sparsely) get it here, on the caller's thread, if wanted.
            _state.FlowForDepth = (a, b, t) => _flow.Estimate(a, b, t);
            _sparse = _o.SparseTracking && gpu != null && (_o.Mode == ReconstructionMode.Online || _o.OfflineKeyframesOnly) ? new SparseTracker(gpu) : null;
            if (gpu != null) WarmUp(gpu);
            var keyframeSolver = new KeyframeSolver(_flow, _solver, _o, _clock, gpu);
            // The modes as compositions of a tracker and a mapper.
            if (_o.Mode == ReconstructionMode.Online && _o.MappingThread)
            {
                // Mapping on its own thread: its own flow estimator and stage clock.
                var mappingClock = new StageClock();
                _tracker = _live = new KeyframeTracker(_state, _flow, _sparse);
                _mapper = new SlidingWindowMapper(_state, new KeyframeSolver(_mappingFlow ?? _flow, _solver, _o, mappingClock, gpu), mappingClock);
            }
            else if (_o.Mode == ReconstructionMode.Online)
            {
                _tracker = _live = new KeyframeTracker(_state, _flow, _sparse);
                _mapper = new SlidingWindowMapper(_state, _mappingFlow == null || ReferenceEquals(_mappingFlow, _flow) ? keyframeSolver
                    : new KeyframeSolver(_mappingFlow, _solver, _o, _clock, gpu) { ReestimateAdjacentFlows = true });
            }
            else if (_o.OfflineKeyframesOnly)
            {
                _tracker = new KeyframeTracker(_state, _flow, _sparse);
                _mapper = new AllKeyframesMapper(_state, _mappingFlow == null || ReferenceEquals(_mappingFlow, _flow) ? keyframeSolver
                    : new KeyframeSolver(_mappingFlow, _solver, _o, _clock, gpu) { ReestimateAdjacentFlows = true });
            }
            else
            {
                _tracker = new ChainTracker(_state, _flow);
                _mapper = new AllFramesMapper(_state, keyframeSolver);
            }
        }

        /// <summary>
        /// Lavapipe compiles a kernel (with LLVM) at its first dispatch, not when its pipeline is built: with its shader cache
        /// cold (a machine's first run) that took 2-3 s of the first window solve and the CPU tracking needed while frames
        /// streamed (README, "A machine's first run"; FlowMap.Tests/Issues/FirstRunCompiledKernelsWhileStreaming.cs). The
        /// flows, a two-step solve and a point tracker of its own on a small synthetic pair dispatch every kernel now; the
        /// results are thrown away, and the pipeline's state is not touched.
        /// </summary>
        private void WarmUp(FlowMap.Gpu.GpuContext gpu)
        {
            var a = WarmUpImage(0);
            var b = WarmUpImage(WarmUpShift);
            // A flow model's first run is the model's own (ONNX Runtime on its provider, not these kernels): with one, the
            // solver takes the pair's known flow instead, and the solver's and the point tracker's kernels are warmed all the same.
            var f = _flow is VulkanFlowEstimator ? _flow.Estimate(a, b, default) : ShiftFlow(a.Width, a.Height, -WarmUpShift);
            if (_mappingFlow is VulkanFlowEstimator m && !ReferenceEquals(m, _flow)) m.Estimate(a, b, default);
            _solver.Solve(new SolverWindow(new[] { a, b }, new[] { f }), new SolverOptions { Steps = 2 });
            if (_sparse != null)
                using (var points = new SparseTracker(gpu)) // a tracker of its own: the pipeline's holds no keyframe yet
                {
                    points.SetKeyframe(a);
                    points.Track(b);
                }
        }

        private const int WarmUpShift = 2;

        /// <summary>The flow of <see cref="WarmUpImage"/>'s pair: <paramref name="u"/> pixels in x forward, -u backward, full confidence.</summary>
        private static FlowResult ShiftFlow(int w, int h, float u)
        {
            var fwd = new float[2 * w * h];
            var bwd = new float[2 * w * h];
            for (int i = 0; i < w * h; i++) { fwd[2 * i] = u; bwd[2 * i] = -u; }
            var ones = new float[w * h];
            Array.Fill(ones, 1f);
            return new FlowResult(new FlowField(w, h, fwd), new FlowField(w, h, bwd), new FloatImage(w, h, ones), new FloatImage(w, h, (float[])ones.Clone()));
        }

        /// <summary>A 128x96 smooth texture shifted by <paramref name="shift"/> pixels to the left (a flow pyramid of several levels).</summary>
        private static RgbImage WarmUpImage(int shift)
        {
            const int w = 128, h = 96;
            var px = new byte[w * h * 3];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double u = x + shift;
                    byte v = (byte)(128 + 60 * Math.Sin(u * 0.35) * Math.Cos(y * 0.29) + 40 * Math.Sin((u + y) * 0.13));
                    int i = 3 * (y * w + x);
                    px[i] = v; px[i + 1] = (byte)(255 - v); px[i + 2] = (byte)(v / 2 + 60);
                }
            return new RgbImage(w, h, px);
        }

        /// <summary>
        /// Raised (on the caller's thread, in frame order) when a frame's estimate is final. Without a handler the depth of
        /// frames that are not keyframes is not computed (a live session needs only their poses); whether it is wanted is
        /// decided as each frame is tracked (its image and flow are kept only then), so subscribe before the first frame.
        /// </summary>
        public event Action<FrameEstimate>? FrameFinalized;

        public ReconstructionMode Mode => _o.Mode;

        /// <summary>Processing size, known after the first frame.</summary>
        public (int Width, int Height) ProcessingSize => (_state.Width, _state.Height);

        /// <summary>
        /// Takes one frame. Online: returns the live estimate for it (pose at once; depth and points for keyframes; frames
        /// before the first two keyframes get the first keyframe's pose until the first solve; with
        /// <see cref="ReconstructionOptions.BootstrapTracking"/> only those before the first keyframe pair with parallax). Offline: returns null
        /// (everything is solved in <see cref="Finish"/>).
        /// </summary>
        public FrameUpdate? Process(Frame frame, CancellationToken token = default)
        {
            if (frame == null) throw new ArgumentNullException(nameof(frame));
            if (_finished) throw new InvalidOperationException("The pipeline has finished; start a new one.");
            var total = Stopwatch.StartNew();
            _clock.BeginFrame();
            var image = _clock.Time("resize", () => _state.Prepare(frame)); // 1. resize to the processing size (fixed by the first frame)
            _framesIn++;
            _mapper.Publish();                                              //    apply mapping results ready on the mapping thread (never waits)
            var tracked = _tracker.Track(frame, image, token);              // 2. track: motion from the current keyframe, keyframe or pose
            _mapper.Map(tracked, token);                                    // 3. map: window solve, freeze + fuse, refined keyframes (offline: hold)
            var update = _live?.Emit(tracked);                              // 4. emit the live estimate (online)
            _clock.Add("total", total.Elapsed.TotalMilliseconds);
            _clock.EndFrame();
            if (update == null) { _state.DiscardLive(); return null; }
            update.StageMilliseconds = _clock.LastFrame;                    // 5. with it: stage times, points fused, warnings, moved keyframes
            update.NewPoints = _state.TakeFusedPoints();
            update.Image ??= image; // the frame at the processing size, for viewers' insets (shared, not copied)
            update.Warnings = _state.TakeWarningsRaised();
            update.RefinedKeyframes = _state.TakeRefinedKeyframes();
            return update;
        }

        /// <summary>
        /// Ends the stream: solves what is left (offline: everything), finalises all frames (raising
        /// <see cref="FrameFinalized"/>) and returns the summary with the fused point cloud.
        /// </summary>
        public ReconstructionResult Finish(CancellationToken token = default)
        {
            if (_finished) throw new InvalidOperationException("Finish was already called.");
            _finished = true;
            if (_framesIn == 0) throw new InvalidOperationException("No frames were processed.");
            _mapper.Finish(token);
            _state.CheckMotion();

            var proc = _state.K;
            return new ReconstructionResult
            {
                Mode = _o.Mode,
                InputWidth = _state.InputWidth, InputHeight = _state.InputHeight,
                Processing = proc,
                Input = proc.Resized(_state.InputWidth, _state.InputHeight),
                Poses = _state.FinalPoses(),
                Keyframes = _state.KeyframeCount,
                FocalRelStd = _state.FixedFocal.HasValue ? null : _state.FocalRelStd,
                K1 = _state.K1,
                Points = _state.Points,
                Warnings = _state.Warnings.ToList(),
                StageMedianMilliseconds = _clock.Medians(),
                StageTotalMilliseconds = _clock.Totals(),
                WindowSolves = _mapper.WindowSolves,
                Backlog = _state.Backlog with { Cap = KeyframeMapper.MaxWaiting(_o) },
                Components = new Dictionary<string, string>
                {
                    ["flow"] = _flow.Name, ["depth_prior"] = _prior?.Name ?? "none (depth learned from flow)", ["solver"] = _solver.GetType().Name,
                },
            };
        }

        /// <summary>Keyframes whose pose changed since it was last delivered (live updates), since the last call.</summary>
        internal IReadOnlyList<FramePose> TakeRefinedKeyframes() => _state.TakeRefinedKeyframes();

        /// <summary>Points fused since the last live update (after <see cref="Finish"/>: those fused in it), or null.</summary>
        internal PointCloud? TakeFusedPoints() => _state.TakeFusedPoints();

        /// <summary>The fused map's cloud now (confirmed voxels; thread-safe, a copy).</summary>
        internal PointCloud MapSnapshot() => _state.Points;

        /// <summary>True while a window solve runs on the mapping thread (<see cref="ReconstructionOptions.MappingThread"/>).</summary>
        internal bool MappingBusy => _mapper.Busy;

        /// <summary>Keyframes the mapper holds (a session's memory grows with them; bounded while mapping is behind).</summary>
        internal int KeyframesHeld => _mapper.KeyframesHeld;

        /// <summary>Frames processed so far.</summary>
        internal int FramesIn => _framesIn;

        /// <summary>Points in the fused map's cloud so far; read from any thread.</summary>
        internal int MapPoints => _state.MapPoints;

        /// <summary>Voxels the fused map holds so far; read from any thread.</summary>
        internal int MapVoxels => _state.MapVoxels;

        /// <summary>Bytes held by the fused map so far; read from any thread.</summary>
        internal long MapBytes => _state.MapBytes;

        /// <summary>The final pose of every frame finalised so far, in frame order (complete after <see cref="Finish"/>).</summary>
        internal IReadOnlyList<FramePose> FinalFramePoses() => _state.FinalFramePoses();

        public void Dispose()
        {
            _mapper.Stop(); // the mapping thread uses the components
            _sparse?.Dispose(); // the pipeline's own (on the solver's device)
            if (!_ownsComponents) return;
            _flow.Dispose();
            if (_mappingFlow != null && !ReferenceEquals(_mappingFlow, _flow)) _mappingFlow.Dispose();
            _solver.Dispose();
            _prior?.Dispose();
        }
    }

    /// <summary>Per-stage milliseconds: the current frame's, and per-frame sums for medians over the run.</summary>
    internal sealed class StageClock
    {
        private readonly Dictionary<string, List<double>> _perFrame = new Dictionary<string, List<double>>();
        private readonly Dictionary<string, double> _totals = new Dictionary<string, double>();
        private Dictionary<string, double> _current = new Dictionary<string, double>();

        public IReadOnlyDictionary<string, double> LastFrame { get; private set; } = new Dictionary<string, double>();

        public void BeginFrame() => _current = new Dictionary<string, double>();

        public void EndFrame()
        {
            foreach (var kv in _current)
            {
                if (!_perFrame.TryGetValue(kv.Key, out var l)) _perFrame[kv.Key] = l = new List<double>();
                l.Add(kv.Value);
            }
            LastFrame = _current;
        }

        public void Add(string stage, double ms)
        {
            _current.TryGetValue(stage, out var c); _current[stage] = c + ms;
            _totals.TryGetValue(stage, out var t); _totals[stage] = t + ms;
        }

        public T Time<T>(string stage, Func<T> f)
        {
            var sw = Stopwatch.StartNew();
            try { return f(); }
            finally { Add(stage, sw.Elapsed.TotalMilliseconds); }
        }

        public void Time(string stage, Action f)
        {
            var sw = Stopwatch.StartNew();
            try { f(); }
            finally { Add(stage, sw.Elapsed.TotalMilliseconds); }
        }

        /// <summary>Median over frames where the stage ran.</summary>
        public IReadOnlyDictionary<string, double> Medians()
        {
            var d = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var kv in _perFrame)
            {
                var s = kv.Value.OrderBy(x => x).ToList();
                d[kv.Key] = s[s.Count / 2];
            }
            foreach (var kv in _totals) if (!d.ContainsKey(kv.Key)) d[kv.Key] = kv.Value; // stages outside frames (Finish)
            return d;
        }

        public IReadOnlyDictionary<string, double> Totals() => new SortedDictionary<string, double>(_totals, StringComparer.Ordinal);
    }
}
