using FlowMap.Gpu;
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FlowMap.Flow;
using FlowMap.Solve;
using FlowMap.Solve.Geometry;
using FlowMap.Solve.Refine;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// What mapping solves for a set of keyframes: camera-to-world poses (keyframe 0 of the set at the identity), z-depth and
    /// confidence per keyframe at the processing size, one focal (pixels at the processing size) and one radial coefficient.
    /// </summary>
    internal sealed class KeyframeSolution
    {
        public CameraPose[] Poses { get; init; } = Array.Empty<CameraPose>();
        public FloatImage[] Depth { get; init; } = Array.Empty<FloatImage>();
        public FloatImage[] Confidence { get; init; } = Array.Empty<FloatImage>();
        public double Focal { get; init; }
        /// <summary>Relative standard deviation of the focal as the data determine it; null when the focal was given.</summary>
        public double? FocalRelStd { get; init; }
        /// <summary>SIMPLE_RADIAL k1 (0 when not estimated).</summary>
        public double K1 { get; init; }
        public IReadOnlyList<string> Warnings { get; set; } = Array.Empty<string>();
        /// <summary>Reprojection RMS (pixels) of the multi-view refinement before and after, NaN when it did not run.</summary>
        public double RefineInitialRms { get; init; } = double.NaN;
        public double RefineFinalRms { get; init; } = double.NaN;
        /// <summary>
        /// Online: the window's frozen keyframes were held at the poses given to the solve, and poses and depth are in their
        /// frame and scale (chaining needs no scale estimate).
        /// </summary>
        public bool InHeldFrame { get; init; }
        /// <summary>The refinement's robust (Cauchy) cost at the end, in all and per unit of observation confidence; NaN when it did not run.</summary>
        public double RefineFinalCost { get; init; } = double.NaN;
        public double RefineFinalMeanCost { get; init; } = double.NaN;
        /// <summary>
        /// False when the focal was not determined by the motion (<see cref="SelfCalibration"/>) and came from the window's own
        /// descent: a provisional solution.
        /// </summary>
        public bool FocalDetermined { get; set; } = true;
    }

    /// <summary>
    /// The mapper's solve over a set of keyframes (METHOD.md section 2b), as a list of stages:
    /// 1. pairs: flow between each keyframe and its next few (not only adjacent ones);
    /// 2. calibrate: one focal from the two-view geometry of all pairs (unless given), with how well it is determined;
    /// 3. start: relative poses from essential matrices and triangulated depth, one scale along the chain;
    /// 4. descent: FlowMap's induced-flow descent (closed-form Procrustes poses) from that start;
    /// 5. refine: multi-view bundle adjustment of poses, depth, focal and k1 over the pair graph.
    /// Deterministic for the same inputs.
    /// </summary>
    internal sealed class KeyframeSolver
    {
        private readonly IFlowEstimator _flow;
        private readonly IWindowSolver _descent;
        private readonly ReconstructionOptions _o;
        private readonly StageClock _clock;
        private readonly Gpu.GpuContext? _gpu;

        public KeyframeSolver(IFlowEstimator flow, IWindowSolver descent, ReconstructionOptions options, StageClock clock, Gpu.GpuContext? gpu)
        {
            _flow = flow; _descent = descent; _o = options; _clock = clock; _gpu = gpu;
            // Each held pair sampled with its ordinal in the session as the seed (positions otherwise: offline), so its analysis
            // is kept while it is held, whatever left the queue before it.
            Calibrate = (pairs, w, h) => SelfCalibration.Estimate(pairs, w, h, _analysedPairs,
                pairs.Select((c, p) => _calibrationSeeds.TryGetValue(c, out var seed) ? seed : (ulong)p).ToList());
        }

        // Each keyframe pair's self-calibration analysis, kept while its correspondences are held (online: the recent pairs).
        private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Correspondences, AnalysedPair> _analysedPairs =
            new System.Runtime.CompilerServices.ConditionalWeakTable<Correspondences, AnalysedPair>();

        /// <summary>A keyframe as the mapper holds it.</summary>
        public sealed class Input
        {
            /// <summary>The keyframe's frame index in the stream (identifies it across windows).</summary>
            public int FrameIndex;
            public RgbImage Image = null!;
            /// <summary>Flow from the previous keyframe of the set to this one (null for the first).</summary>
            public FlowResult? FromPrevious;
            /// <summary>
            /// When set, <see cref="FromPrevious"/> is provisional (tracked at a reduced size): the solve first computes the flow
            /// from this image (the previous keyframe's) to <see cref="Image"/> at the processing size, stores it in
            /// <see cref="FromPrevious"/> and clears this.
            /// </summary>
            public RgbImage? FlowFrom;
            public FloatImage? Prior;
        }

        /// <summary>
        /// The adjacent keyframes' flows that tracking measured are estimated again by this solver's estimator (a more
        /// precise one than tracking's: <see cref="ReconstructionOptions.PreciseMappingFlow"/>): offline in <see cref="SolveAll"/>,
        /// online once per pair in <see cref="SolveWindow"/>.
        /// </summary>
        internal bool ReestimateAdjacentFlows { get; init; }

        /// <summary>The focal from two-view geometry (<see cref="SelfCalibration.Estimate"/>; tests put a known estimate here).</summary>
        internal Func<IReadOnlyList<Correspondences>, int, int, FocalEstimate> Calibrate { get; init; }

        /// <summary>
        /// Online: the self-calibration uses the correspondences of at most this many of the most recent keyframe pairs
        /// (up to 4000 matches each), so a long session's memory and calibration time stay bounded.
        /// </summary>
        internal int MaxCalibrationPairs { get; set; } = 64;

        /// <summary>Correspondence sets the online self-calibration holds now (at most <see cref="MaxCalibrationPairs"/>).</summary>
        internal int CalibrationPairs => _calibration.Count;

        /// <summary>
        /// The correspondence sets the online self-calibration holds now, oldest first, each with the seed of its sampling
        /// and its kept analysis (null until an estimate analysed it).
        /// </summary>
        internal IReadOnlyList<(Correspondences Pair, ulong Seed, AnalysedPair? Analysis)> HeldCalibration =>
            _calibration.Select(c => (c, _calibrationSeeds[c], _analysedPairs.TryGetValue(c, out var a) ? a : null)).ToList();

        /// <summary>Keyframe pairs the online self-calibration has seen in all.</summary>
        internal int CalibrationPairsSeen => _pairsSeen;

        // Online state: flows of keyframe pairs beyond adjacent ones (by frame indices) while they are in the window, the pairs
        // of the window already used for the focal, the correspondences of the most recent pairs, and the focal estimate.
        private readonly Dictionary<(int, int), FlowResult> _pairFlows = new Dictionary<(int, int), FlowResult>();
        private readonly HashSet<(int, int)> _calibratedPairs = new HashSet<(int, int)>();
        private readonly Queue<Correspondences> _calibration = new Queue<Correspondences>();
        private readonly Dictionary<Correspondences, ulong> _calibrationSeeds = new Dictionary<Correspondences, ulong>(); // by reference (Correspondences has no Equals of its own)
        private FocalEstimate? _focalEstimate;
        private int _pairsSeen, _pairsAtLastCalibration;
        // Undetermined windows: the sum of their own refined log focals and their count, and the focal of the last window
        // the self-calibration determined (see SolveWindow, step 6).
        private double _undeterminedLogFocal;
        private int _undeterminedWindows;
        private double? _lastDeterminedFocal;
        private bool _k1Noted;

        /// <summary>
        /// Online: a window whose refinement with the frozen keyframes held ends above this robust cost per observation (the
        /// Cauchy cost of a 0.1 px residual; flow is not more precise) is refined a second time from descent's poses of the
        /// frozen keyframes, and the better fit of the two (lower robust cost over the same observations) stands.
        /// </summary>
        internal static readonly double MinReleaseCost = 0.5 * Math.Log(1 + 0.1 * 0.1);

        /// <summary>
        /// Online: a warm start solved at a focal differing from the window's by more than this (in log terms: twice the largest
        /// relative uncertainty of a determined focal, <see cref="SelfCalibration.MaxDeterminedRelStd"/>) is replaced by the
        /// geometric start for the keyframes not frozen.
        /// </summary>
        internal static readonly double MaxWarmFocalChange = 2 * SelfCalibration.MaxDeterminedRelStd;

        /// <summary>Online windows whose held frozen poses the data rejected (solved from re-derived ones instead).</summary>
        internal int WindowsReleased { get; private set; }

        /// <summary>
        /// Solves a sliding window of keyframes (online). The first <paramref name="frozen"/> keyframes keep their depth and
        /// (in the refinement) their poses; <paramref name="warmDepth"/> per keyframe (null entries: new keyframes) starts
        /// descent where the previous window ended; without it (the first window) the geometric start does.
        /// </summary>
        /// <param name="frozenPoses">
        /// The final poses of the frozen keyframes in the window's frame (keyframe 0 of the window at the identity, the
        /// scale of their depth), or null: the refinement holds them there, so the window continues the trajectory the
        /// earlier windows built instead of the one descent re-derives from the frozen depth.
        /// </param>
        public KeyframeSolution SolveWindow(IReadOnlyList<Input> win, double? fixedFocal, IReadOnlyList<FloatImage?>? warmDepth, double? previousFocal, int frozen, int steps, CancellationToken token,
            IReadOnlyList<CameraPose>? frozenPoses = null)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            _lastDescentMs = 0;
            _lastPast = (FlowMap.Session.HeldPast.None, double.NaN, double.NaN);
            var r = SolveWindowCore(win, fixedFocal, warmDepth, previousFocal, frozen, steps, token, frozenPoses);
            lock (_solves) _solves.Add(new FlowMap.Session.WindowSolveTiming(win.Count, Math.Min(frozen, win.Count), steps, _lastDescentMs, sw.Elapsed.TotalMilliseconds,
                _lastPast.Past, _lastPast.Held, _lastPast.Rederived));
            return r;
        }

        /// <summary>Every window solve so far (<see cref="SolveWindow"/>), in order: what a keyframe's solve costs mapping.</summary>
        internal IReadOnlyList<FlowMap.Session.WindowSolveTiming> WindowSolves { get { lock (_solves) return _solves.ToArray(); } }

        private readonly List<FlowMap.Session.WindowSolveTiming> _solves = new List<FlowMap.Session.WindowSolveTiming>();
        private double _lastDescentMs; // the descent's wall time in the window solve running now
        private (FlowMap.Session.HeldPast Past, double Held, double Rederived) _lastPast; // the held past of the window solve running now

        private KeyframeSolution SolveWindowCore(IReadOnlyList<Input> win, double? fixedFocal, IReadOnlyList<FloatImage?>? warmDepth, double? previousFocal, int frozen, int steps, CancellationToken token,
            IReadOnlyList<CameraPose>? frozenPoses)
        {
            int n = win.Count;
            int w = win[0].Image.Width, h = win[0].Image.Height;
            var warnings = new List<string>();
            if (_o.RefineK1 && !_k1Noted)
            {
                // Windows hold k1 at 0: a handful of keyframes does not tell a lens's distortion from the focal (on a synthetic
                // walk at k1 = -0.2, a window's k1-free refinement came out at k1 = +0.12).
                _k1Noted = true;
                warnings.Add("k1 is estimated only by the offline solve (--mode offline); online windows hold k1 = 0");
            }
            ResolveFlows(win, token);
            if (ReestimateAdjacentFlows)
                for (int i = 1; i < n; i++)
                {
                    // Tracking's adjacent flows estimated again with this solver's (precise) estimator, once per pair.
                    var key = (win[i - 1].FrameIndex, win[i].FrameIndex);
                    if (!_pairFlows.TryGetValue(key, out var f))
                        _pairFlows[key] = f = _clock.Time("pairs", () => _flow.Estimate(win[i - 1].Image, win[i].Image, token));
                    win[i].FromPrevious = f;
                }
            var adjacent = win.Skip(1).Select(k => k.FromPrevious!).ToList();

            // 1. Pairs (cached across windows), and their correspondences for the focal (unless it is given).
            var edges = _clock.Time("pairs", () => Pairs(win, token, cache: true));
            if (fixedFocal == null)
                foreach (var e in edges)
                {
                    if (!_calibratedPairs.Add((win[e.I].FrameIndex, win[e.J].FrameIndex))) continue;
                    var c = Correspondences.FromFlow(e.Flow);
                    _calibration.Enqueue(c);
                    _calibrationSeeds[c] = (ulong)_pairsSeen; // its position while none has left: the same seed as offline
                    if (_calibration.Count > MaxCalibrationPairs) _calibrationSeeds.Remove(_calibration.Dequeue());
                    _pairsSeen++;
                }
            // Forget pairs that left the window: they never come back (their correspondences stay for the focal).
            int oldest = win[0].FrameIndex;
            foreach (var k in _pairFlows.Keys.Where(k => k.Item1 < oldest).ToList()) _pairFlows.Remove(k);
            _calibratedPairs.RemoveWhere(k => k.Item1 < oldest);

            // 2. Focal from the recent pairs: re-estimated while pairs accumulate (each 25 % more pairs seen).
            if (fixedFocal == null && (_focalEstimate == null || _pairsSeen >= 1.25 * _pairsAtLastCalibration))
            {
                _focalEstimate = _clock.Time("calibrate", () => Calibrate(_calibration.ToList(), w, h));
                _pairsAtLastCalibration = _pairsSeen;
            }
            if (_focalEstimate != null && !_focalEstimate.Determined && _focalEstimate.Warning != null) warnings.Add(_focalEstimate.Warning);
            bool determined = fixedFocal != null || _focalEstimate!.Determined;
            bool warm = warmDepth != null && warmDepth.Any(d => d != null);
            var images = win.Select(k => k.Image).ToList();
            var priors = win[0].Prior != null ? win.Select(k => k.Prior!).ToList() : null;
            SolverResult r;
            if (determined)
            {
                double focal = fixedFocal ?? _focalEstimate!.Focal;
                // Depth solved at a focal this far from the one now held is not a start near the answer (depth and poses
                // bend with the focal): the keyframes that may still change take the geometric start at this focal instead.
                // The first window of a live session, solved before the motion determined the focal, ended at its descent's
                // own focal, 400 px for 262 on ICL-NUIM, and its depth was the warm start of the next window
                // (FlowMap.Tests/Issues/ProvisionalFirstSolveFrozenByTheBacklog.cs).
                if (warm && fixedFocal == null && previousFocal is double pf && pf > 0 && Math.Abs(Math.Log(focal / pf)) > MaxWarmFocalChange)
                {
                    warmDepth = warmDepth!.Select((d, j) => j < frozen ? d : null).ToList();
                    warm = warmDepth.Any(d => d != null);
                }
                // 3. Start: the previous window's depth where there is one, else geometry.
                var initial = warm ? WithGeometricStart(warmDepth!, adjacent, w, h, focal) : _clock.Time("start", () => GeometricStart.Build(adjacent, w, h, focal)).Depth.Select(d => (FloatImage?)d).ToList();
                // 4. Descent, the focal held.
                r = Descend(new SolverWindow(images, adjacent, priors, focal), steps,
                    new SolverWarmStart { InitialDepth = initial, Focal = focal, FrozenFrames = Math.Min(frozen, n - 1) }, token);
            }
            else
            {
                // The motion does not determine the focal (warned): descent with its own focal (softmin first, then free).
                r = Descend(new SolverWindow(images, adjacent, priors, null), steps, warm
                    ? new SolverWarmStart { InitialDepth = warmDepth, Focal = previousFocal, FrozenFrames = Math.Min(frozen, n - 1) } : null, token);
            }

            // 5. Refinement over the window's pair graph, the focal held where 2 determined it (else refined with the rest), the frozen keyframes fixed where the
            //    earlier windows put them (the window's new keyframes start where descent put them relative to the newest
            //    frozen one), so each window continues the trajectory instead of re-deriving it from the frozen depth
            //    (without the refinement nothing holds them: descent's poses, chained by the depth's scale).
            int held = frozenPoses == null || !_o.Refine ? 0 : Math.Min(frozen, frozenPoses.Count);
            var start = r.Poses.ToArray();
            double sigma = 1;
            if (held > 0)
            {
                // The held poses are in the scale of the frozen depth; descent's depth may differ by a factor (its median).
                var ratios = new List<float>();
                for (int j = 0; j < held; j++)
                    if (warmDepth?[j] is FloatImage d) ratios.Add((float)DepthTransfer.ScaleRatio(r.Depth[j], d, null));
                sigma = ratios.Count > 0 ? DepthTransfer.Median(ratios) : 1;
                if (!(sigma > 0) || double.IsInfinity(sigma)) sigma = 1;
                var heldPoses = frozenPoses!.Take(held).Select(p => Scaled(p, sigma)).ToArray();
                var toHeld = heldPoses[held - 1].Compose(r.Poses[held - 1].Inverse());
                for (int j = 0; j < n; j++) start[j] = j < held ? heldPoses[j] : toHeld.Compose(r.Poses[j]);
            }
            double? relStd = fixedFocal == null ? _focalEstimate?.RelStd : null;
            // The focal: held where the self-calibration (or the user) determined it; where the motion did not, the
            // refinement estimates it over the window's pairs, as offline (held at descent's own focal, a synthetic orbit's
            // drifted window by window to +112 %, FlowMap.Tests/Issues/UndeterminedOnlineFocalHeldAtDescents.cs).
            bool holdFocal = determined;
            // Each attempt writes its own warnings (a divergence of the held attempt says nothing of the solution that wins).
            var solution = Refine(edges, start, r.Depth, r.Confidence, r.Focal, 0, focalFixed: holdFocal, fixedKeyframes: Math.Max(1, frozen), relStd, held > 0 ? new List<string>(warnings) : warnings, token, refineK1: false);
            // The data decide whether the held past stands: refined again from the frozen keyframes as descent re-derived them
            // from their depth, the better fit wins (a wrong turn of an earlier window, held, would otherwise grow from window
            // to window; the Cauchy cost, not the RMS, as a few gross outliers at occlusion edges dominate the RMS).
            if (held > 0) _lastPast = (FlowMap.Session.HeldPast.Kept, solution.RefineFinalMeanCost, double.NaN);
            if (held > 0 && !(solution.RefineFinalMeanCost <= MinReleaseCost))
            {
                // Only the gauge fixed (ReconstructionOptions.ReleaseToGauge, the default): every frozen keyframe fixed at
                // descent's pose held descent's relative pose of the frozen keyframes, which a relative error of their depth
                // scale turns into an error of depth / baseline times it, and the next window held that
                // (FlowMap.Tests/Issues/OnlineWindowsRederivedFrozenPoses.cs).
                var free = Refine(edges, r.Poses, r.Depth, r.Confidence, r.Focal, 0, focalFixed: holdFocal, fixedKeyframes: _o.ReleaseToGauge ? 1 : Math.Max(1, frozen), relStd, new List<string>(warnings), token, refineK1: false);
                _lastPast.Rederived = free.RefineFinalMeanCost;
                if (!(solution.RefineFinalCost <= free.RefineFinalCost)) { solution = free; WindowsReleased++; held = 0; _lastPast.Past = FlowMap.Session.HeldPast.Released; }
            }
            // 6. An undetermined window's own refined focal is one noisy estimate of the session's one focal: the window is
            //    refined again at the geometric mean of those estimates so far, and that focal is handed on (its poses and
            //    depth solved at it). Each window's own walked away: on the synthetic orbit with the mapping flow 250 px for
            //    256 over the first 12 windows, then 229, 192, 157, 184, 211, 97, 152, 215, 276 ... 385
            //    (FlowMap.Tests/Issues/UndeterminedOnlineFocalWalkedWindowByWindow.cs).
            //    Once a window's motion has determined the focal, a later undetermined stretch keeps that one: its own
            //    estimates (and a provisional first window's) weigh nothing against it.
            if (determined && fixedFocal == null) _lastDeterminedFocal = solution.Focal;
            if (!determined && solution.Focal > 0 && double.IsFinite(solution.Focal))
            {
                _undeterminedLogFocal += Math.Log(solution.Focal);
                _undeterminedWindows++;
                double mean = _lastDeterminedFocal ?? Math.Exp(_undeterminedLogFocal / _undeterminedWindows);
                if (Math.Abs(Math.Log(mean / solution.Focal)) > 1e-3)
                {
                    var atMean = Refine(edges, solution.Poses, solution.Depth, solution.Confidence, mean, 0, focalFixed: true, fixedKeyframes: Math.Max(1, frozen), relStd,
                        new List<string>(warnings), token, refineK1: false);
                    if (atMean.Poses.All(Finite) && double.IsFinite(atMean.RefineFinalCost)) solution = atMean;
                }
            }
            solution.FocalDetermined = determined;
            // 7. The gauge. Held: the solution is in the frame of the held poses scaled by sigma; handed on in theirs (the
            //    frozen depth's scale), so chaining needs no scale estimate. Nothing frozen (the session's first window): the
            //    data fix no scale, and descent and refinement left it wherever they stopped; every later window chains at
            //    it. One phone video's first window ended at a median depth of 262 in one build and 12,488 in another (a
            //    resize differing by one level in ~30 values a frame), and in the second the later windows grew to 1e6-1e9
            //    and the trajectory was lost (0.40 % -> 12.66 % of the path). The first two keyframes are put one unit apart
            //    (FlowMap.Tests/Issues/FirstWindowScaleLeftToDescent.cs).
            if (held > 0) return Rescaled(solution, 1 / sigma, inHeldFrame: true);
            if (frozen == 0 && n > 1) return Rescaled(solution, 1 / FirstBaseline(solution.Poses), inHeldFrame: false);
            return solution;
        }

        /// <summary>The distance between the first two keyframes' centres; 1 where it is not a positive finite number.</summary>
        internal static double FirstBaseline(IReadOnlyList<CameraPose> poses)
        {
            var a = poses[0].Center;
            var b = poses[1].Center;
            double d = Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));
            return d > 0 && double.IsFinite(d) ? d : 1;
        }

        /// <summary>The solution with the reconstruction's scale multiplied by <paramref name="s"/> (poses' translations and depth).</summary>
        private static KeyframeSolution Rescaled(KeyframeSolution solution, double s, bool inHeldFrame) => new KeyframeSolution
        {
            Poses = solution.Poses.Select(p => Scaled(p, s)).ToArray(),
            Depth = solution.Depth.Select(d => ScaledImage(d, s)).ToArray(),
            Confidence = solution.Confidence, Focal = solution.Focal, FocalRelStd = solution.FocalRelStd, K1 = solution.K1,
            Warnings = solution.Warnings, RefineInitialRms = solution.RefineInitialRms, RefineFinalRms = solution.RefineFinalRms,
            RefineFinalCost = solution.RefineFinalCost, RefineFinalMeanCost = solution.RefineFinalMeanCost, InHeldFrame = inHeldFrame,
            FocalDetermined = solution.FocalDetermined,
        };

        /// <summary>
        /// A window's warm start where some keyframes have none (live: keyframes chosen while mapping was behind, before the
        /// first solve gave them a warm start): those take the geometric start's depth (essential-matrix poses, triangulated
        /// depth), brought to the warm keyframes' scale (the median depth ratio where both exist). Left empty, descent began
        /// them at a flat depth of 1 with the warm start's tenth of the learning rate, and a window with several of them
        /// ended far from the geometry (FlowMap.Tests/Issues/BacklogKeyframesStartedFlat.cs).
        /// </summary>
        private IReadOnlyList<FloatImage?> WithGeometricStart(IReadOnlyList<FloatImage?> warm, IReadOnlyList<FlowResult> adjacent, int w, int h, double focal)
        {
            int first = -1;
            for (int j = 0; j < warm.Count && first < 0; j++) if (warm[j] == null) first = j;
            if (first < 0) return warm;
            // Only the pairs from the warm keyframe before the first without a start on: the keyframes before it need none
            // (a two-view analysis per pair: the whole window's cost 178 ms per keyframe on ICL-NUIM, where one new keyframe
            // needs one pair), and the scale is that of the keyframes next to the new ones.
            int from = Math.Max(0, first - 1);
            var g = _clock.Time("start", () => GeometricStart.Build(adjacent.Skip(from).ToList(), w, h, focal)).Depth;
            var ratios = new List<float>();
            for (int j = from; j < warm.Count; j++)
                if (warm[j] is FloatImage d) ratios.Add((float)DepthTransfer.ScaleRatio(d, g[j - from], null));
            double s = ratios.Count > 0 ? DepthTransfer.Median(ratios) : 1;
            if (!(s > 0) || double.IsInfinity(s)) s = 1;
            return warm.Select((d, j) => d ?? ScaledImage(g[j - from], s)).ToList();
        }

        /// <summary>Solves all keyframes at once (offline). <paramref name="fixedFocal"/>: pixels at the processing size, or null.</summary>
        public KeyframeSolution SolveAll(IReadOnlyList<Input> keyframes, double? fixedFocal, CancellationToken token)
        {
            int n = keyframes.Count;
            if (n < 2) throw new ArgumentException("At least two keyframes are needed.");
            int w = keyframes[0].Image.Width, h = keyframes[0].Image.Height;
            var warnings = new List<string>();
            if (!ReestimateAdjacentFlows) ResolveFlows(keyframes, token);
            else
                for (int i = 1; i < n; i++)
                {
                    var (a, b) = (keyframes[i - 1].Image, keyframes[i].Image);
                    keyframes[i].FromPrevious = _clock.Time("pairs", () => _flow.Estimate(a, b, token));
                    keyframes[i].FlowFrom = null;
                }
            var adjacent = keyframes.Skip(1).Select(k => k.FromPrevious!).ToList();

            // 1. Pairs: adjacent flows are known (offline: estimated again, precisely); each keyframe also gets the flow to the next few keyframes.
            var edges = _clock.Time("pairs", () => Pairs(keyframes, token));

            // 2. Focal from geometry (unless given).
            FocalEstimate? calib = null;
            if (fixedFocal == null)
            {
                calib = _clock.Time("calibrate", () => Calibrate(edges.Select(e => Correspondences.FromFlow(e.Flow)).ToList(), w, h));
                if (!calib.Determined && calib.Warning != null) warnings.Add(calib.Warning);
            }
            var images = keyframes.Select(k => k.Image).ToList();
            var priors = keyframes[0].Prior != null ? keyframes.Select(k => k.Prior!).ToList() : null;
            double? relStd = fixedFocal == null ? calib!.RelStd : (double?)null;
            if (fixedFocal != null || calib!.Determined) return CheckDistortion(FromGeometry(fixedFocal ?? calib!.Focal));
            // Not determined by two views (warned): two starts, each descended and refined, and the data choose (the lower
            // robust cost of the refinement over the same observations): the self-calibration's best guess, and FlowMap's
            // own focal (descent from flat depth, softmin over candidates). The guess alone was a coin toss where the motion
            // is nearly critical for self-calibration: on the synthetic orbit it was 0.50-0.58 of the true focal with a
            // relative uncertainty of 6-8 %, and the refinement from there ended at +0.1 % with one flow and -70 % with a more
            // precise one (FlowMap.Tests/Issues/UndeterminedFocalGuessDecidedTheBasin.cs).
            var own = FromOwnFocal();
            if (!(double.IsFinite(calib.Focal) && calib.Focal > 0) || !_o.Refine) return CheckDistortion(own);
            return CheckDistortion(Better(FromGeometry(calib.Focal), own));

            // 6. k1 held at 0 and the focal free: would a radial distortion explain the flow better and move the focal? The
            //    refinement again from the solution with k1 free, over the same observations. Its cost alone does not tell a
            //    distorting lens from k1 fitting flow errors (from descent's start, a synthetic walk at k1 = -0.05 lowers
            //    it by 0.9 %, the phone video by 0.3 %; from the solution, the phone video by 1.3 %), so the user is told what k1 would change and decides (--estimate-k1); the solution stays.
            KeyframeSolution CheckDistortion(KeyframeSolution s)
            {
                if (!_o.Refine || _o.RefineK1 || fixedFocal != null || !double.IsFinite(s.RefineFinalCost)) return s;
                var free = _clock.Time("distortion_check", () => Refine(edges, s.Poses, s.Depth, s.Confidence, s.Focal, 0, focalFixed: false, fixedKeyframes: 1, relStd,
                    new List<string>(), token, refineK1: true, scaleFromResiduals: true));
                if (DistortionHint(s.Focal, s.RefineFinalCost, free.Focal, free.K1, free.RefineFinalCost, relStd) is string hint)
                    s.Warnings = s.Warnings.Append(hint).ToList();
                return s;
            }

            KeyframeSolution FromGeometry(double focal)
            {
                var notes = new List<string>(warnings);
                // 3. Geometric start: essential-matrix poses, triangulated depth, one scale.
                var start = _clock.Time("start", () => GeometricStart.Build(adjacent, w, h, focal));
                if (start.Warnings.Count > 0)
                    notes.Add($"low parallax: {start.Warnings.Count} of {adjacent.Count} keyframe pairs had no usable parallax (rotation only or a plane); their translation starts at zero and is left to descent and refinement");
                // 4. FlowMap descent from that start, the focal held (the refinement frees it).
                var r = Descend(new SolverWindow(images, adjacent, priors, focal), _o.OfflineGeometrySteps,
                    new SolverWarmStart { InitialDepth = start.Depth.Select(d => (FloatImage?)d).ToList(), Focal = focal }, token);
                // 5. Multi-view refinement over the pair graph.
                return Refine(edges, r.Poses, r.Depth, r.Confidence, r.Focal, 0, focalFixed: fixedFocal != null, fixedKeyframes: 1, relStd, notes, token, guides: images, backgroundFill: priors == null, scaleFromResiduals: true);
            }

            KeyframeSolution FromOwnFocal()
            {
                // FlowMap's descent from flat depth with its softmin focal, then the refinement.
                var r = Descend(new SolverWindow(images, adjacent, priors, null), _o.OfflineSteps, null, token);
                return Refine(edges, r.Poses, r.Depth, r.Confidence, r.Focal, 0, focalFixed: false, fixedKeyframes: 1, relStd, new List<string>(warnings), token, guides: images, backgroundFill: priors == null, scaleFromResiduals: true);
            }
        }

        /// <summary>
        /// The hint of <see cref="SolveAll"/>'s distortion check, or null: when the refinement with k1 free ends at a lower
        /// robust cost and a focal that differs by more than the focal target (1 %) and twice the focal's own relative
        /// uncertainty <paramref name="relStd"/>, what k1 it found and how far it moves the focal.
        /// </summary>
        internal static string? DistortionHint(double focal, double cost, double freeFocal, double freeK1, double freeCost, double? relStd)
        {
            if (!(freeCost < cost) || !(freeFocal > 0) || !double.IsFinite(freeFocal) || !double.IsFinite(freeK1)) return null;
            double change = freeFocal / focal - 1;
            if (!(Math.Abs(change) > Math.Max(0.01, 2 * (relStd ?? 0)))) return null;
            return string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "radial distortion: the flow fits better with k1 = {0:0.000} (SIMPLE_RADIAL; robust cost {1:0.0%} lower), and the focal then moves by {2:+0.0%;-0.0%}; " +
                "if the lens distorts (wide-angle webcams, action cameras), run again with --estimate-k1", freeK1, 1 - freeCost / cost, change);
        }

        /// <summary>
        /// Of two refinements over the same observations, the one with the lower robust cost; a refinement without a finite
        /// cost (it diverged and fell back to descent's solution) never wins over one with a finite cost
        /// (FlowMap.Tests/Issues/DivergedStartWonTheFocalChoice.cs); <paramref name="b"/> on a tie.
        /// </summary>
        internal static KeyframeSolution Better(KeyframeSolution a, KeyframeSolution b)
        {
            double ca = a.RefineFinalCost, cb = b.RefineFinalCost;
            if (!double.IsFinite(ca)) return b;
            if (!double.IsFinite(cb)) return a;
            return ca < cb ? a : b;
        }

        /// <summary>Descent at the solver resolution of the options.</summary>
        private SolverResult Descend(SolverWindow window, int steps, SolverWarmStart? warm, CancellationToken token)
        {
            var opts = new SolverOptions { Steps = steps, LearningRate = _o.Solver.LearningRate, Seed = _o.Solver.Seed };
            int k = SolverResolution.Factor(window.Width, window.Height, _o.Mode == ReconstructionMode.Offline ? _o.OfflineSolverPixels : _o.OnlineSolverPixels);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            SolverResult r;
            try { r = SolverResolution.Solve(_descent, window, opts, warm, k, token); }
            finally
            {
                double ms = sw.Elapsed.TotalMilliseconds;
                _clock.Add("solve", ms);
                _lastDescentMs += ms;
            }
            foreach (var kv in r.StageMilliseconds) _clock.Add("solve." + kv.Key, kv.Value);
            return r;
        }

        /// <summary>The keyframes' flows still to compute at the processing size (tracked at a reduced size), computed.</summary>
        internal void ResolveFlows(IReadOnlyList<Input> keyframes, CancellationToken token)
        {
            foreach (var k in keyframes)
                if (k.FlowFrom is RgbImage from)
                {
                    k.FromPrevious = _clock.Time("flow_keyframe", () => _flow.Estimate(from, k.Image, token));
                    k.FlowFrom = null;
                }
        }

        /// <summary>The pair graph: (i, i+1) from the stream, and (i, i+s) for s = 2..<see cref="ReconstructionOptions.PairSpan"/>.</summary>
        private List<(int I, int J, FlowResult Flow)> Pairs(IReadOnlyList<Input> keyframes, CancellationToken token, bool cache = false)
        {
            var edges = new List<(int, int, FlowResult)>();
            for (int i = 0; i + 1 < keyframes.Count; i++) edges.Add((i, i + 1, keyframes[i + 1].FromPrevious!));
            for (int s = 2; s <= _o.PairSpan; s++)
                for (int i = 0; i + s < keyframes.Count; i++)
                {
                    token.ThrowIfCancellationRequested();
                    var key = (keyframes[i].FrameIndex, keyframes[i + s].FrameIndex);
                    if (!cache || !_pairFlows.TryGetValue(key, out var f))
                    {
                        f = _flow.Estimate(keyframes[i].Image, keyframes[i + s].Image, token);
                        if (cache) _pairFlows[key] = f;
                    }
                    edges.Add((i, i + s, f));
                }
            return edges;
        }

        private KeyframeSolution Refine(List<(int I, int J, FlowResult Flow)> edges, CameraPose[] poses, FloatImage[] depth, FloatImage[] conf,
            double focal, double k1, bool focalFixed, int fixedKeyframes, double? focalRelStd, List<string> warnings, CancellationToken token, bool? refineK1 = null,
            IReadOnlyList<RgbImage>? guides = null, bool backgroundFill = false, bool scaleFromResiduals = false)
        {
            int n = poses.Length, w = depth[0].Width, h = depth[0].Height;
            if (!(focal > 0) || double.IsInfinity(focal)) throw new InvalidOperationException($"The descent returned focal {focal}.");
            if (!_o.Refine)
                return new KeyframeSolution { Poses = poses, Depth = depth, Confidence = conf, Focal = focal, K1 = k1, FocalRelStd = focalRelStd, Warnings = warnings };
            // Both directions of every pair are observations.
            var be = new List<BundleEdge>();
            foreach (var (i, j, f) in edges)
            {
                be.Add(new BundleEdge { I = i, J = j, Flow = f.Forward, Confidence = f.ForwardConfidence });
                be.Add(new BundleEdge { I = j, J = i, Flow = f.Backward, Confidence = f.BackwardConfidence });
            }
            var problem = new BundleProblem(w, h, n, be, _o.RefineStride);
            var startDepth = depth.Select(d => Coarse(d, _o.RefineStride)).ToArray();
            var state = new BundleState { Poses = poses.ToArray(), InverseDepth = startDepth.Select(q => (double[])q.Clone()).ToArray(), Focal = focal, K1 = k1 };
            var bo = RefineOptions(_o, focalFixed, refineK1 ?? _o.RefineK1, fixedKeyframes);
            bo.ScaleFromResiduals = scaleFromResiduals && _o.RefineScaleFromResiduals;
            bo.UseGpu = _gpu != null && _gpu.Info.Kind != GpuDeviceKind.Cpu; // linearisation kernels: about 4x slower than the CPU path on lavapipe
            var ba = _clock.Time("refine", () => BundleAdjuster.Refine(problem, state, bo, _gpu, token));
            if (!(ba.State.Focal > 0) || !double.IsFinite(ba.State.Focal) || !double.IsFinite(ba.State.K1) || ba.State.Poses.Any(p => !Finite(p)))
            {
                // Never hand on a diverged refinement (NaN or infinite camera): the descent's solution stands, and says so.
                warnings.Add($"multi-view refinement diverged (focal {ba.State.Focal}, k1 {ba.State.K1}); kept the descent's poses, depth and focal");
                return new KeyframeSolution { Poses = poses, Depth = depth, Confidence = conf, Focal = focal, K1 = k1, FocalRelStd = focalRelStd, Warnings = warnings };
            }
            KeepUnconfirmedCells(ba.State.InverseDepth, startDepth, ba.CellConfidence);
            // Offline without a depth model: cells still unconfirmed take the background of their confirmed neighbours instead
            // of the descent's smooth depth (occlusions; BackgroundFill). Online windows keep the descent's: their depth is
            // carried into the next windows, where a later pair may confirm it. With a depth model the descent's depth there
            // follows the model's, which sees the occluding edges itself.
            if (backgroundFill)
                for (int k = 0; k < n; k++) BackgroundFill.Fill(ba.State.InverseDepth[k], ba.CellConfidence[k], problem.Gw, problem.Gh, MinCellConfidence);
            return new KeyframeSolution
            {
                Poses = ba.State.Poses,
                // Offline (guides given): depth edges follow the keyframe's image edges (ReconstructionOptions.RefineGuideSigma).
                Depth = Enumerable.Range(0, n).Select(i => guides != null && _o.RefineGuideSigma > 0 ? ba.DenseDepth(i, guides[i], _o.RefineGuideSigma) : ba.DenseDepth(i)).ToArray(),
                Confidence = Enumerable.Range(0, n).Select(ba.DenseConfidence).ToArray(),
                Focal = ba.State.Focal,
                K1 = ba.State.K1,
                FocalRelStd = focalRelStd,
                Warnings = warnings,
                RefineInitialRms = ba.InitialRmsPx,
                RefineFinalRms = ba.FinalRmsPx,
                RefineFinalCost = ba.FinalCost,
                RefineFinalMeanCost = ba.FinalMeanCost,
            };
        }

        /// <summary>The refinement's settings for the mapper's options (Cauchy-robust, the iteration cap of the options).</summary>
        internal static BundleOptions RefineOptions(ReconstructionOptions o, bool focalFixed, bool refineK1, int fixedKeyframes) => new BundleOptions
        {
            Iterations = o.RefineIterations, Robust = BundleRobust.Cauchy, RefineFocal = !focalFixed, RefineK1 = refineK1, FixedKeyframes = fixedKeyframes,
        };

        /// <summary>The pose with its translation scaled by <paramref name="s"/> (a change of the reconstruction's scale).</summary>
        internal static CameraPose Scaled(CameraPose p, double s)
        {
            var t = p.Translation;
            return new CameraPose(p.Rotation, new[] { t[0] * s, t[1] * s, t[2] * s });
        }

        /// <summary>A depth map scaled by <paramref name="s"/>.</summary>
        internal static FloatImage ScaledImage(FloatImage d, double s)
        {
            var o = new FloatImage(d.Width, d.Height);
            for (int i = 0; i < o.Data.Length; i++) o.Data[i] = (float)(d.Data[i] * s);
            return o;
        }

        internal static bool Finite(CameraPose p)
        {
            for (int i = 0; i < 3; i++)
            {
                if (!double.IsFinite(p.T(i))) return false;
                for (int j = 0; j < 3; j++) if (!double.IsFinite(p.R(i, j))) return false;
            }
            return true;
        }

        /// <summary>Refinement cells with less confidence (mean over their observations of flow confidence x robust weight) keep the descent's depth.</summary>
        internal const float MinCellConfidence = 0.1f;

        /// <summary>
        /// The refined inverse depth <paramref name="q"/> per keyframe (in place) against the descent's <paramref name="q0"/>:
        /// cells the refinement could not confirm (confidence <paramref name="cc"/> below <see cref="MinCellConfidence"/>, or
        /// moved by more than a factor 3, the signature of a cell fitted to outliers) keep the descent's inverse depth, with
        /// confidence 0. Both are measured in the refinement's scale: its gauge (the held poses' baseline) may rescale the
        /// whole window, so the descent's depth is first brought to the scale of the keyframe's confirmed cells (their median
        /// ratio; a keyframe with none takes the window's). Compared in the descent's scale, a window whose held baseline was
        /// 3x the descent's had every cell "moved", kept the descent's depth in the old scale beside poses in the new one,
        /// and the chained trajectory jumped by that factor (FlowMap.Tests/Issues/RefinedScaleChangeRevertedEveryCell.cs).
        /// </summary>
        internal static void KeepUnconfirmedCells(double[][] q, double[][] q0, float[][] cc)
        {
            int n = q.Length;
            var perKeyframe = new List<double>[n];
            var all = new List<double>();
            for (int k = 0; k < n; k++)
            {
                perKeyframe[k] = new List<double>(q[k].Length);
                for (int c = 0; c < q[k].Length; c++)
                    if (q[k][c] > 0 && q0[k][c] > 0 && cc[k][c] >= MinCellConfidence && double.IsFinite(q[k][c]) && double.IsFinite(q0[k][c]))
                        perKeyframe[k].Add(q[k][c] / q0[k][c]);
                all.AddRange(perKeyframe[k]);
            }
            double window = MedianOr(all, 1);
            for (int k = 0; k < n; k++)
            {
                double m = MedianOr(perKeyframe[k], window);
                for (int c = 0; c < q[k].Length; c++)
                {
                    double r0 = m * q0[k][c];
                    if (!(q[k][c] > 0) || !double.IsFinite(q[k][c]) || cc[k][c] < MinCellConfidence || q[k][c] > 3 * r0 || 3 * q[k][c] < r0) { q[k][c] = r0; cc[k][c] = 0; }
                }
            }
        }

        private static double MedianOr(List<double> v, double fallback)
        {
            if (v.Count == 0) return fallback;
            v.Sort();
            double m = v[v.Count / 2];
            return m > 0 && !double.IsInfinity(m) ? m : fallback;
        }

        /// <summary>Inverse depth at the refinement's coarse pixels (stride s, centres at s*g + (s-1)/2): the mean over each cell.</summary>
        internal static double[] Coarse(FloatImage depth, int s)
        {
            int gw = depth.Width / s, gh = depth.Height / s;
            var q = new double[gw * gh];
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                {
                    double sum = 0; int c = 0;
                    for (int y = gy * s; y < gy * s + s; y++)
                        for (int x = gx * s; x < gx * s + s; x++)
                        {
                            double z = depth[x, y];
                            if (z > 0 && !double.IsInfinity(z)) { sum += 1 / z; c++; }
                        }
                    q[gy * gw + gx] = c > 0 ? sum / c : 0;
                }
            // Cells with no valid depth take the median of the others (a neutral start).
            var valid = q.Where(v => v > 0).OrderBy(v => v).ToList();
            double med = valid.Count > 0 ? valid[valid.Count / 2] : 1;
            for (int i = 0; i < q.Length; i++) if (!(q[i] > 0)) q[i] = med;
            return q;
        }
    }
}
