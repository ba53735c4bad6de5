using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FlowMap.Depth;
using FlowMap.Flow;
using FlowMap.Fusion;
using FlowMap.Session;
using FlowMap.Solve;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// The reconstruction pipeline, one frame at a time:
    /// read frame -> resize to the processing size -> flow from the last keyframe -> depth prior (optional, on a task)
    /// -> solve (window of keyframes, warm-started; or all frames at the end, offline) -> pose of the other frames
    /// against their keyframe -> fuse keyframe depth into the point cloud -> emit.
    /// Feed frames with <see cref="Process"/>, then call <see cref="Finish"/>. Final per-frame estimates arrive through
    /// <see cref="FrameFinalized"/> in frame order. Deterministic for the same frames, components and options.
    /// Not thread-safe: one caller at a time.
    /// </summary>
    internal sealed class ReconstructionPipeline : IDisposable
    {
        private readonly ReconstructionOptions _o;
        private readonly IFlowEstimator _flow;
        private readonly IWindowSolver _solver;
        private readonly IDepthPrior? _prior;
        private readonly bool _ownsComponents;
        private readonly StageClock _clock = new StageClock();
        private readonly PointCloudFusion _fusion;
        private readonly List<string> _warnings = new List<string>();
        private readonly List<(int Index, string Name, CameraPose Pose, double TimestampSeconds, bool IsKeyframe)> _finalPoses =
            new List<(int, string, CameraPose, double, bool)>();
        private readonly List<string> _warningsRaised = new List<string>();  // raised since the last update
        private readonly List<FramePose> _refined = new List<FramePose>();   // keyframes moved since the last update

        private int _inW, _inH, _w, _h;
        private double? _fixedFocal;     // at the processing size
        private double _focal;
        private double _k1;                // SIMPLE_RADIAL, from the multi-view refinement
        private double? _focalRelStd;      // how well the data determine the focal (null: given or not yet estimated)
        private readonly KeyframeSolver _mapper;
        private bool _solvedOnce, _finished;
        private int _framesIn, _keyframeCount;
        private double _cumulativeMedianFlow, _lastMedianFlow, _previousMedianFlow;
        private RgbImage? _previousImage; // offline
        // Online state.
        private readonly List<Keyframe> _window = new List<Keyframe>();
        private readonly List<Follower> _pending = new List<Follower>();
        // Offline state.
        private readonly List<(Frame Frame, RgbImage Image, Task<FloatImage>? Prior)> _all = new List<(Frame, RgbImage, Task<FloatImage>?)>();
        private readonly List<FlowResult> _allPairs = new List<FlowResult>();

        /// <param name="options">Settings (validated here).</param>
        /// <param name="flow">Flow estimator (the Vulkan one, or an ONNX model).</param>
        /// <param name="solver">Window solver.</param>
        /// <param name="depthPrior">Optional frozen depth model; null: depth learned from flow alone.</param>
        /// <param name="ownsComponents">Dispose the components with the pipeline.</param>
        public ReconstructionPipeline(ReconstructionOptions options, IFlowEstimator flow, IWindowSolver solver, IDepthPrior? depthPrior = null, bool ownsComponents = true)
        {
            _o = options ?? throw new ArgumentNullException(nameof(options));
            _o.Validate();
            _flow = flow ?? throw new ArgumentNullException(nameof(flow));
            _solver = solver ?? throw new ArgumentNullException(nameof(solver));
            _prior = depthPrior;
            _ownsComponents = ownsComponents;
            _fusion = new PointCloudFusion(_o.Fusion);
            _mapper = new KeyframeSolver(_flow, _solver, _o, _clock, (_solver as GpuWindowSolver)?.Context);
        }

        /// <summary>Raised (on the caller's thread, in frame order) when a frame's estimate is final.</summary>
        public event Action<FrameEstimate>? FrameFinalized;

        public ReconstructionMode Mode => _o.Mode;

        /// <summary>Processing size, known after the first frame.</summary>
        public (int Width, int Height) ProcessingSize => (_w, _h);

        /// <summary>
        /// Takes one frame. Online: returns the live estimate for it (pose at once; depth and points for keyframes; frames
        /// before the first two keyframes get the first keyframe's pose until the first solve). Offline: returns null
        /// (everything is solved in <see cref="Finish"/>).
        /// </summary>
        public FrameUpdate? Process(Frame frame, CancellationToken token = default)
        {
            if (frame == null) throw new ArgumentNullException(nameof(frame));
            if (_finished) throw new InvalidOperationException("The pipeline has finished; start a new one.");
            var total = Stopwatch.StartNew();
            _clock.BeginFrame();

            // 1. Resize to the processing size (fixed by the first frame).
            var image = _clock.Time("resize", () => Prepare(frame));
            _framesIn++;

            // 2-6. The mode's stages.
            var update = _o.Mode == ReconstructionMode.Online ? ProcessOnline(frame, image, token)
                       : _o.OfflineKeyframesOnly ? DeferOnline(ProcessOnline(frame, image, token))
                       : ProcessOffline(frame, image, token);
            _clock.Add("total", total.Elapsed.TotalMilliseconds);
            _clock.EndFrame();
            if (update != null)
            {
                update.StageMilliseconds = _clock.LastFrame;
                update.NewPoints = TakeFusedPoints();
                update.Image ??= image; // the frame at the processing size, for viewers' insets (shared, not copied)
                update.Warnings = TakeWarningsRaised();
                update.RefinedKeyframes = TakeRefinedKeyframes();
            }
            else { _fusedThisFrame.Clear(); _warningsRaised.Clear(); _refined.Clear(); }
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
            if (_o.Mode == ReconstructionMode.Offline && !_o.OfflineKeyframesOnly) FinishOffline(token);
            else FinishOnline(token);

            if (_cumulativeMedianFlow < _o.StaticFlowPixels)
                AddWarning($"static camera: the image barely moved (median flow {_cumulativeMedianFlow:F2} px in total at {_w}x{_h}); poses held still, depth and focal not observable");
            else CheckParallax();

            var proc = K;
            return new ReconstructionResult
            {
                Mode = _o.Mode,
                InputWidth = _inW, InputHeight = _inH,
                Processing = proc,
                Input = proc.Resized(_inW, _inH),
                Poses = _finalPoses.OrderBy(p => p.Index).Select(p => (p.Index, p.Name, p.Pose)).ToList(),
                Keyframes = _keyframeCount,
                FocalRelStd = _fixedFocal.HasValue ? null : _focalRelStd,
                K1 = _k1,
                Points = _fusion.ToPointCloud(),
                Warnings = _warnings.ToList(),
                StageMedianMilliseconds = _clock.Medians(),
                StageTotalMilliseconds = _clock.Totals(),
                Components = new Dictionary<string, string>
                {
                    ["flow"] = _flow.Name, ["depth_prior"] = _prior?.Name ?? "none (depth learned from flow)", ["solver"] = _solver.GetType().Name,
                },
            };
        }

        // ---------------------------------------------------------------- shared steps

        private RgbImage Prepare(Frame frame)
        {
            var img = frame.Image;
            if (_w == 0)
            {
                _inW = img.Width; _inH = img.Height;
                (_w, _h) = _o.ProcessingSize ?? ImageResampler.DefaultProcessingSize(img.Width, img.Height);
                if (_o.FocalPixels is double f) _fixedFocal = f * Math.Sqrt((double)_w * _h / ((double)_inW * _inH));
                // Until a solve says otherwise: FlowMap's middle candidate, f = sqrt(W H) (about 53 degrees horizontal at 4:3).
                _focal = _fixedFocal ?? Math.Sqrt((double)_w * _h);
            }
            else if (img.Width != _inW || img.Height != _inH)
                AddWarning($"resolution changed at frame {frame.Index} ({_inW}x{_inH} -> {img.Width}x{img.Height}); frames are resized to {_w}x{_h}, intrinsics assume the first size");
            return ImageResampler.Resize(img, _w, _h);
        }

        /// <summary>
        /// Adds a warning once; of the focal's "not determined" warnings (re-estimated per window online) only the newest
        /// stays. A warning not seen before is also raised with the next live update (<see cref="FrameUpdate.Warnings"/>).
        /// </summary>
        private void AddWarning(string w)
        {
            bool known = _warnings.Contains(w);
            if (w.StartsWith(FocalNotDetermined, StringComparison.Ordinal)) _warnings.RemoveAll(x => x.StartsWith(FocalNotDetermined, StringComparison.Ordinal));
            if (!_warnings.Contains(w)) _warnings.Add(w);
            if (!known && !_warningsRaised.Contains(w)) _warningsRaised.Add(w);
        }

        /// <summary>Warnings raised since the last call (for the live update of this frame, or the session's result).</summary>
        private IReadOnlyList<string> TakeWarningsRaised()
        {
            if (_warningsRaised.Count == 0) return Array.Empty<string>();
            var w = _warningsRaised.ToList();
            _warningsRaised.Clear();
            return w;
        }

        /// <summary>Keyframes whose pose changed since it was last delivered (live updates), since the last call.</summary>
        internal IReadOnlyList<FramePose> TakeRefinedKeyframes()
        {
            if (_refined.Count == 0) return Array.Empty<FramePose>();
            var r = _refined.ToList();
            _refined.Clear();
            return r;
        }

        /// <summary>Frames processed so far.</summary>
        internal int FramesIn => _framesIn;

        /// <summary>The final pose of every frame finalised so far, in frame order (complete after <see cref="Finish"/>).</summary>
        internal IReadOnlyList<FramePose> FinalFramePoses() =>
            _finalPoses.OrderBy(p => p.Index).Select(p => new FramePose(p.Index, p.TimestampSeconds, p.Pose, p.IsKeyframe)).ToList();

        private const string FocalNotDetermined = "The focal length is not determined";

        private Task<FloatImage>? StartPrior(RgbImage image) =>
            _prior == null ? null : Task.Run(() => _prior.PredictInverseDepth(image, _w, _h));

        private FloatImage? AwaitPrior(Task<FloatImage>? t) =>
            t == null ? null : _clock.Time("depth_prior_wait", () => t.GetAwaiter().GetResult());

        /// <summary>The camera at the processing size as far as it is known: one focal, centred principal point, k1.</summary>
        private Intrinsics K => Intrinsics.Centered(_w, _h, _focal) with { K1 = _k1 };

        private void Emit(FrameEstimate e)
        {
            _finalPoses.Add((e.Index, e.Name, e.Pose, e.TimestampSeconds, e.IsKeyframe));
            FrameFinalized?.Invoke(e);
        }

        private readonly List<PointCloud> _fusedThisFrame = new List<PointCloud>();

        private void Fuse(FloatImage depth, FloatImage conf, RgbImage image, CameraPose pose)
        {
            var points = _clock.Time("fuse", () => _fusion.Integrate(depth, conf, image, K, pose));
            // Online: the points go with the live update (and those fused in Finish with the session's result); offline
            // Finish returns the whole cloud.
            if (_o.Mode == ReconstructionMode.Online) _fusedThisFrame.Add(points);
        }

        /// <summary>Points fused since the last call (while this frame was processed, or in <see cref="Finish"/>: keyframes that became final), or null.</summary>
        internal PointCloud? TakeFusedPoints()
        {
            if (_fusedThisFrame.Count == 0) return null;
            int n = _fusedThisFrame.Sum(c => c.Count);
            var pos = new float[3 * n]; var col = new byte[3 * n]; var conf = new float[n];
            int o = 0;
            foreach (var c in _fusedThisFrame)
            {
                Array.Copy(c.Positions, 0, pos, 3 * o, 3 * c.Count);
                Array.Copy(c.Colors, 0, col, 3 * o, 3 * c.Count);
                if (c.Confidence != null) Array.Copy(c.Confidence, 0, conf, o, c.Count);
                o += c.Count;
            }
            _fusedThisFrame.Clear();
            return new PointCloud(pos, col, conf);
        }

        private void CheckParallax()
        {
            if (_finalPoses.Count < 2) return;
            // Camera-centre spread against the median scene depth seen by the solver.
            var c = _finalPoses.Select(p => p.Pose.Center).ToList();
            double mx = c.Average(p => p.X), my = c.Average(p => p.Y), mz = c.Average(p => p.Z);
            double spread = Math.Sqrt(c.Average(p => (p.X - mx) * (p.X - mx) + (p.Y - my) * (p.Y - my) + (p.Z - mz) * (p.Z - mz)));
            if (_medianSceneDepth > 0 && spread < 0.01 * _medianSceneDepth)
                AddWarning($"low parallax: the camera centres spread {100 * spread / _medianSceneDepth:F2} % of the scene depth (mostly rotation); depth and focal are weakly constrained");
        }

        private double _medianSceneDepth;

        private void NoteSceneDepth(FloatImage depth)
        {
            var v = new List<float>(depth.Data);
            _medianSceneDepth = DepthTransfer.Median(v);
        }

        /// <summary>Depth and confidence for frames when nothing could be solved (static camera): constant, or the prior's shape; confidence 0.</summary>
        private (FloatImage, FloatImage) Unobserved(FloatImage? priorInverse)
        {
            var d = new FloatImage(_w, _h);
            if (priorInverse != null)
            {
                double med = DepthTransfer.Median(new List<float>(priorInverse.Data));
                for (int i = 0; i < d.Data.Length; i++) d.Data[i] = (float)(med / priorInverse.Data[i]);
            }
            else Array.Fill(d.Data, 1f);
            return (d, new FloatImage(_w, _h));
        }

        // ---------------------------------------------------------------- online

        private sealed class Keyframe
        {
            public Frame Frame = null!;
            public RgbImage Image = null!;
            public FlowResult? FromPrevious;      // flow previous keyframe -> this one
            public FloatImage? Prior;
            public CameraPose Pose = CameraPose.Identity; // global camera-to-world
            public FloatImage? Depth, Confidence;   // global scale, null before its first solve
            public FloatImage? InitialDepth;        // warm start for its first solve (carried from the previous keyframe)
            public bool Frozen;
            public CameraPose? Delivered;           // the pose last given in a live update or refinement (null: none yet)
            public readonly List<Follower> Followers = new List<Follower>(); // non-keyframes posed against it
        }

        /// <summary>A frame that is not a keyframe, posed against its keyframe once that keyframe is solved.</summary>
        private sealed class Follower
        {
            public Frame Frame = null!;
            public RgbImage Image = null!;
            public FlowResult Flow = null!;        // keyframe -> this frame
            public KeyframeMatches Matches = null!;
            public CameraPose KeyToFrame = CameraPose.Identity;
        }

        /// <summary>Offline over keyframes: the online keyframe logic, with the solve deferred to <see cref="Finish"/>.</summary>
        private bool Deferred => _o.Mode == ReconstructionMode.Offline;

        private static FrameUpdate? DeferOnline(FrameUpdate _) => null;

        private FrameUpdate ProcessOnline(Frame frame, RgbImage image, CancellationToken token)
        {
            if (_window.Count == 0)
            {
                var k0 = new Keyframe { Frame = frame, Image = image };
                k0.Prior = AwaitPrior(StartPrior(image));
                _window.Add(k0); _keyframeCount = 1;
                k0.Delivered = CameraPose.Identity;
                return Live(frame, CameraPose.Identity, isKeyframe: true, null, null);
            }
            var key = _window[_window.Count - 1];
            double threshold = _o.KeyframeFlowFraction * Math.Sqrt((double)_w * _h);
            // 2. Flow from the last keyframe to this frame. When this frame will likely be a keyframe (extrapolated median
            //    flow), its depth prior runs on a task meanwhile, overlapping the GPU work.
            Task<FloatImage>? speculative = _lastMedianFlow + (_lastMedianFlow - _previousMedianFlow) >= 0.7 * threshold ? StartPrior(image) : null;
            var flow = _clock.Time("flow", () => _flow.Estimate(key.Image, image, token));
            double median = DepthTransfer.MedianFlow(flow.Forward, flow.ForwardConfidence);
            _cumulativeMedianFlow = Math.Max(_cumulativeMedianFlow, median);
            _previousMedianFlow = _lastMedianFlow; _lastMedianFlow = median;

            if (median >= threshold)
            {
                // 3. A new keyframe: its prior, then a warm-started window solve.
                var k = new Keyframe { Frame = frame, Image = image, FromPrevious = flow };
                k.Prior = AwaitPrior(speculative ?? StartPrior(image));
                _lastMedianFlow = _previousMedianFlow = 0;
                if (_solvedOnce && key.Depth != null)
                {
                    // Warm start of the new keyframe: its pose against the last keyframe (PnP), then that keyframe's depth
                    // carried along the flow, so descent starts at the window's scale and near the answer.
                    var m = KeyframeMatches.Sample(flow.Forward, flow.ForwardConfidence);
                    var guess = key.Followers.Count > 0 ? key.Followers[key.Followers.Count - 1].KeyToFrame : CameraPose.Identity;
                    var pnp = _clock.Time("pose", () => FramePoseEstimator.Solve(m, key.Depth, K, guess));
                    if (pnp != null)
                        k.InitialDepth = _clock.Time("depth_transfer", () => DepthTransfer.FromKeyframe(flow.Backward, flow.BackwardConfidence, key.Depth, key.Confidence!, K, pnp.Value.KeyToFrame).Depth);
                }
                _window.Add(k); _keyframeCount++;
                // Sliding-window solve (online; offline solves all keyframes from geometry in Finish).
                if (!Deferred)
                {
                    if (_solvedOnce) SolveWindow(_o.KeyframeSteps, token);
                    else if (_window.Count >= _o.FirstWindowKeyframes) SolveWindow(_o.FirstWindowSteps, token);
                    FreezeOld(token);
                }
                var update = Live(frame, k.Pose, true, k.Depth, k.Confidence);
                k.Delivered = k.Pose;
                update.Intrinsics = K;
                update.Flow = flow.Forward; // previous keyframe -> this frame, for viewers' insets (shared, not copied)
                return update;
            }

            // 4. Not a keyframe: pose against the keyframe's depth (when there is one yet).
            speculative?.ContinueWith(t => { _ = t.Exception; }, TaskScheduler.Default); // unused guess: observe, never block
            // Only the backward flow is kept (for depth transfer); the forward flow is reduced to sparse matches.
            var pend = new Follower { Frame = frame, Image = image, Matches = KeyframeMatches.Sample(flow.Forward, flow.ForwardConfidence),
                Flow = new FlowResult(flow.Backward, flow.Backward, flow.BackwardConfidence, flow.BackwardConfidence) };
            if (key.Followers.Count > 0) pend.KeyToFrame = key.Followers[key.Followers.Count - 1].KeyToFrame;
            key.Followers.Add(pend);
            CameraPose pose = key.Pose;
            if (key.Depth != null && !Deferred)
            {
                _clock.Time("pose", () => PoseFollower(key, pend));
                pose = key.Pose.Compose(pend.KeyToFrame.Inverse());
                if (_o.StepsPerFrame > 0) SolveWindow(_o.StepsPerFrame, token);
            }
            else if (key.Followers.Count > 64 && _window.Count == 1)
            {
                // Static so far: keep memory bounded by dropping the dense flow of the oldest waiting frames (their matches stay).
                var old = key.Followers[key.Followers.Count - 65];
                old.Flow = null!;
            }
            var u = Live(frame, pose, false, null, null);
            u.Intrinsics = _solvedOnce ? K : null;
            u.Flow = flow.Forward; // keyframe -> this frame, for viewers' insets (shared, not copied)
            return u;
        }

        private void PoseFollower(Keyframe key, Follower p)
        {
            var r = FramePoseEstimator.Solve(p.Matches, key.Depth!, K, p.KeyToFrame);
            if (r != null) p.KeyToFrame = r.Value.KeyToFrame;
        }

        private static FrameUpdate Live(Frame f, CameraPose pose, bool isKeyframe, FloatImage? depth, FloatImage? conf) => new FrameUpdate
        {
            FrameIndex = f.Index, TimestampSeconds = f.TimestampSeconds, Pose = pose, IsKeyframe = isKeyframe, Depth = depth, Confidence = conf,
        };

        /// <summary>Solves the window of the last keyframes and chains the result into the global trajectory at a consistent scale.</summary>
        private void SolveWindow(int steps, CancellationToken token)
        {
            int n = _window.Count;
            if (n < 2) return;
            int start = Math.Max(0, n - _o.WindowKeyframes);
            var win = _window.GetRange(start, n - start);
            int frozen = win.TakeWhile(k => k.Frozen).Count();
            var inputs = win.Select(k => new KeyframeSolver.Input { FrameIndex = k.Frame.Index, Image = k.Image, FromPrevious = k.FromPrevious, Prior = k.Prior }).ToList();
            var r = _mapper.SolveWindow(inputs, _fixedFocal, _solvedOnce ? win.Select(k => k.Depth ?? k.InitialDepth).ToList() : null, _solvedOnce ? _focal : (double?)null, frozen, steps, token);
            _focal = _fixedFocal ?? r.Focal;
            _focalRelStd = r.FocalRelStd;
            foreach (var w in r.Warnings) AddWarning(w);
            _solvedOnce = true;

            // Scale: the window's depth against the global depth of keyframes solved before (median ratio).
            var ratios = new List<float>();
            for (int j = 0; j < win.Count; j++)
                if (win[j].Depth != null) ratios.Add((float)DepthTransfer.ScaleRatio(win[j].Depth!, r.Depth[j], win[j].Confidence));
            double s = ratios.Count > 0 ? DepthTransfer.Median(ratios) : 1.0;
            if (!(s > 0) || double.IsInfinity(s)) s = 1.0;

            // Anchor: the newest frozen keyframe of the window (its global pose stays), else the window's first.
            int a = Math.Max(0, frozen - 1);
            var anchorRel = Scaled(r.Poses[a], s);
            var toGlobal = win[a].Pose.Compose(anchorRel.Inverse());
            for (int j = 0; j < win.Count; j++)
            {
                if (win[j].Frozen) continue;
                win[j].Pose = j == a ? win[a].Pose : toGlobal.Compose(Scaled(r.Poses[j], s));
                win[j].Depth = ScaledImage(r.Depth[j], s);
                win[j].Confidence = r.Confidence[j];
            }
            NoteSceneDepth(win[win.Count - 1].Depth!);
            // Keyframes already delivered whose pose moved: the engine moves what it anchored to them.
            foreach (var k in win)
                if (k.Delivered is CameraPose d && !SamePose(d, k.Pose))
                {
                    k.Delivered = k.Pose;
                    _refined.Add(new FramePose(k.Frame.Index, k.Frame.TimestampSeconds, k.Pose, isKeyframe: true));
                }
        }

        private static bool SamePose(CameraPose a, CameraPose b) =>
            a.Rotation.AsSpan().SequenceEqual(b.Rotation) && a.Translation.AsSpan().SequenceEqual(b.Translation);

        private static CameraPose Scaled(CameraPose p, double s)
        {
            var t = p.Translation;
            return new CameraPose(p.Rotation, new[] { t[0] * s, t[1] * s, t[2] * s });
        }

        private static FloatImage ScaledImage(FloatImage d, double s)
        {
            var o = new FloatImage(d.Width, d.Height);
            for (int i = 0; i < o.Data.Length; i++) o.Data[i] = (float)(d.Data[i] * s);
            return o;
        }

        /// <summary>Freezes keyframes that left the active part of the window; finalises them and their followers.</summary>
        private void FreezeOld(CancellationToken token)
        {
            int n = _window.Count;
            for (int j = 0; j < n - _o.ActiveKeyframes; j++)
                if (!_window[j].Frozen) Finalise(_window[j]);
            // Drop frozen keyframes that are no longer in the window.
            while (!Deferred && _window.Count > _o.WindowKeyframes) _window.RemoveAt(0);
        }

        private void Finalise(Keyframe k)
        {
            k.Frozen = true;
            if (k.Depth == null) // never solved (static camera)
            {
                var (d, c) = Unobserved(k.Prior);
                k.Depth = d; k.Confidence = c;
            }
            Emit(new FrameEstimate { Index = k.Frame.Index, Name = k.Frame.Name, TimestampSeconds = k.Frame.TimestampSeconds, Pose = k.Pose, IsKeyframe = true, Depth = k.Depth, Confidence = k.Confidence! });
            if (_solvedOnce) Fuse(k.Depth, k.Confidence!, k.Image, k.Pose);
            foreach (var p in k.Followers)
            {
                FloatImage depth, conf;
                CameraPose pose;
                if (_solvedOnce)
                {
                    _clock.Time("pose", () => PoseFollower(k, p));
                    pose = k.Pose.Compose(p.KeyToFrame.Inverse());
                    if (p.Flow != null)
                        (depth, conf) = _clock.Time("depth_transfer", () => DepthTransfer.FromKeyframe(p.Flow.Backward, p.Flow.BackwardConfidence, k.Depth, k.Confidence!, K, p.KeyToFrame));
                    else (depth, conf) = Unobserved(null);
                }
                else { pose = k.Pose; (depth, conf) = (k.Depth, k.Confidence!); }
                Emit(new FrameEstimate { Index = p.Frame.Index, Name = p.Frame.Name, TimestampSeconds = p.Frame.TimestampSeconds, Pose = pose, IsKeyframe = false, Depth = depth, Confidence = conf });
            }
            k.Followers.Clear();
        }

        private void FinishOnline(CancellationToken token)
        {
            // Offline: one solve over all keyframes. Online: a short stream may end before the first window filled.
            if (Deferred && _window.Count >= 2 && _cumulativeMedianFlow >= _o.StaticFlowPixels) SolveAllKeyframes(token);
            else if (!_solvedOnce && _window.Count >= 2) SolveWindow(_o.FirstWindowSteps, token);
            foreach (var k in _window) if (!k.Frozen) Finalise(k);
            _window.Clear();
        }

        /// <summary>Offline over keyframes: the mapper's solve of every keyframe at once (geometry first, descent, refinement).</summary>
        private void SolveAllKeyframes(CancellationToken token)
        {
            var inputs = _window.Select(k => new KeyframeSolver.Input { FrameIndex = k.Frame.Index, Image = k.Image, FromPrevious = k.FromPrevious, Prior = k.Prior }).ToList();
            var s = _mapper.SolveAll(inputs, _fixedFocal, token);
            for (int j = 0; j < _window.Count; j++)
            {
                _window[j].Pose = s.Poses[j];
                _window[j].Depth = s.Depth[j];
                _window[j].Confidence = s.Confidence[j];
            }
            _focal = _fixedFocal ?? s.Focal;
            _k1 = s.K1;
            _focalRelStd = s.FocalRelStd;
            foreach (var w in s.Warnings) AddWarning(w);
            _solvedOnce = true;
            NoteSceneDepth(_window[_window.Count / 2].Depth!);
        }

        // ---------------------------------------------------------------- offline

        private FrameUpdate? ProcessOffline(Frame frame, RgbImage image, CancellationToken token)
        {
            // The prior of this frame runs on a task while the GPU computes the flow from the previous frame.
            var prior = StartPrior(image);
            if (_previousImage != null)
            {
                var prev = _previousImage;
                var f = _clock.Time("flow", () => _flow.Estimate(prev, image, token));
                _allPairs.Add(f);
                _cumulativeMedianFlow += DepthTransfer.MedianFlow(f.Forward, f.ForwardConfidence);
            }
            _all.Add((frame, image, prior));
            _previousImage = image;
            return null;
        }

        private void FinishOffline(CancellationToken token)
        {
            var priors = _all.Select(a => AwaitPrior(a.Prior)).ToList();
            _keyframeCount = _all.Count;
            if (_all.Count < 2 || _cumulativeMedianFlow < _o.StaticFlowPixels)
            {
                for (int i = 0; i < _all.Count; i++)
                {
                    var (d, c) = Unobserved(priors[i]);
                    Emit(new FrameEstimate { Index = _all[i].Frame.Index, Name = _all[i].Frame.Name, TimestampSeconds = _all[i].Frame.TimestampSeconds, Pose = CameraPose.Identity, IsKeyframe = true, Depth = d, Confidence = c });
                }
                return;
            }
            var inputs = _all.Select((a, i) => new KeyframeSolver.Input { FrameIndex = a.Frame.Index, Image = a.Image, FromPrevious = i > 0 ? _allPairs[i - 1] : null, Prior = priors[i] }).ToList();
            var r = _mapper.SolveAll(inputs, _fixedFocal, token);
            _focal = _fixedFocal ?? r.Focal;
            _k1 = r.K1;
            _focalRelStd = r.FocalRelStd;
            foreach (var w in r.Warnings) AddWarning(w);
            _solvedOnce = true;
            NoteSceneDepth(r.Depth[r.Depth.Length / 2]);
            for (int i = 0; i < _all.Count; i++)
            {
                var e = new FrameEstimate { Index = _all[i].Frame.Index, Name = _all[i].Frame.Name, TimestampSeconds = _all[i].Frame.TimestampSeconds, Pose = r.Poses[i], IsKeyframe = true, Depth = r.Depth[i], Confidence = r.Confidence[i] };
                if (i % _o.OfflineFuseEvery == 0 || i == _all.Count - 1) Fuse(e.Depth, e.Confidence, _all[i].Image, e.Pose);
                Emit(e);
            }
        }

        public void Dispose()
        {
            if (!_ownsComponents) return;
            _flow.Dispose();
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
