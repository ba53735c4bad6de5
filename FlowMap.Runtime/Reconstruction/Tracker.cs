using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using FlowMap.Flow;
using FlowMap.Session;
using FlowMap.Solve.Geometry;

namespace FlowMap.Reconstruction
{
    /// <summary>A keyframe: chosen by tracking, solved, frozen and fused by mapping.</summary>
    internal sealed class Keyframe
    {
        public Frame Frame = null!;
        public RgbImage Image = null!;
        public FlowResult? FromPrevious;      // flow previous keyframe -> this one
        /// <summary>
        /// Tracked at a reduced size: the previous keyframe's image, and <see cref="FromPrevious"/> is the tracking flow brought
        /// to the processing size until mapping computes the flow at the processing size (on its thread, before its solve);
        /// null once it has.
        /// </summary>
        public RgbImage? FlowFrom;
        public FloatImage? Prior;
        public Task<FloatImage>? PendingPrior; // offline over all frames: the prior, awaited in Finish
        public CameraPose Pose = CameraPose.Identity; // global camera-to-world
        public FloatImage? Depth, Confidence;   // global scale, null before its first solve
        public FloatImage? InitialDepth;        // warm start for its first solve (carried from the previous keyframe)
        public FloatImage? InitialConfidence;   // and its confidence
        /// <summary>
        /// Live sessions, before mapping has solved anything (<see cref="ReconstructionOptions.BootstrapTracking"/>): a depth
        /// from two-view geometry (the first keyframe pair with parallax, at the focal guess, its baseline the unit), carried
        /// along the flow from keyframe to keyframe, and with it the keyframe's pose in that frame. Tracking poses frames
        /// against it so the live path moves from the start; mapping never starts from it (its focal and scale are guesses).
        /// Re-chained onto the solved trajectory when a solve is applied (<see cref="KeyframeMapper"/>).
        /// </summary>
        public FloatImage? BootstrapDepth, BootstrapConfidence;
        /// <summary>The depth mapping starts from or has solved: the solved one, else the warm start (null: neither yet).</summary>
        public FloatImage? MappingDepth => Depth ?? InitialDepth;
        public FloatImage? MappingConfidence => Depth != null ? Confidence : InitialConfidence;
        /// <summary>Only the bootstrap depth so far: its pose and depth are in the bootstrap's frame and scale.</summary>
        public bool Bootstrapped => MappingDepth == null && BootstrapDepth != null;
        /// <summary>The depth frames are posed against: mapping's, else the bootstrap (null: neither yet).</summary>
        public FloatImage? TrackingDepth => MappingDepth ?? BootstrapDepth;
        public FloatImage? TrackingConfidence => MappingDepth != null ? MappingConfidence : BootstrapConfidence;
        public bool Frozen;
        /// <summary>Mapping has taken it in (its window solve, if one was due, is applied): tracking may move to it.</summary>
        public bool Mapped;
        public CameraPose? Delivered;           // the pose last given in a live update or refinement (null: none yet)
        public readonly List<Follower> Followers = new List<Follower>(); // non-keyframes posed against it
    }

    /// <summary>A frame that is not a keyframe, posed against its keyframe once that keyframe is solved.</summary>
    internal sealed class Follower
    {
        /// <summary>Which frame (no image: a frame waits here until its keyframe is final, possibly long).</summary>
        public FrameRef Frame = null!;
        /// <summary>The frame at the processing size, kept only while someone wants its depth when it is finalised (else null).</summary>
        public RgbImage? Image;
        /// <summary>Keyframe -> this frame (only the backward direction is kept); null when tracked sparsely (computed when finalised,
        /// if wanted) and when nobody wants its depth.</summary>
        public FlowResult? Flow;
        public KeyframeMatches Matches = null!;
        public CameraPose KeyToFrame = CameraPose.Identity;
        /// <summary>A keyframe delivered live as one, then culled by mapping into a frame of its predecessor: its final pose is
        /// delivered once more (<see cref="ReconstructionState.Refined"/>, as a frame), so what an engine anchored to it follows.</summary>
        public bool DeliveredAsKeyframe;
    }

    /// <summary>A frame's index, time and name, without its image.</summary>
    internal sealed record FrameRef(int Index, double TimestampSeconds, string Name)
    {
        public static FrameRef Of(Frame f) => new FrameRef(f.Index, f.TimestampSeconds, f.Name);
    }

    /// <summary>What tracking made of one frame, for mapping and the live update.</summary>
    internal sealed class TrackedFrame
    {
        public Frame Frame = null!;
        public RgbImage Image = null!;
        /// <summary>Flow from the current keyframe (all-frames offline: the previous frame) to this frame, at the processing size
        /// (tracked at a reduced size: brought back to it); null for the first frame and for frames tracked sparsely.</summary>
        public FlowResult? Flow;
        /// <summary>Set when this frame became a keyframe (the first frame included).</summary>
        public Keyframe? NewKeyframe;
        /// <summary>Set when this frame was tracked against the current keyframe instead.</summary>
        public Follower? Follower;
        /// <summary>True when the follower was posed against its keyframe's depth (mapping may then refine the window).</summary>
        public bool Posed;
        /// <summary>The follower's live pose.</summary>
        public CameraPose Pose;
    }

    /// <summary>The first stage after resizing: motion against what is already mapped, and the decision what a frame is.</summary>
    internal abstract class Tracker
    {
        protected Tracker(ReconstructionState state, IFlowEstimator flow) { State = state; Flow = flow; }

        protected ReconstructionState State { get; }
        protected IFlowEstimator Flow { get; }

        public abstract TrackedFrame Track(Frame frame, RgbImage image, CancellationToken token);

        /// <summary>The frame as held by a keyframe or follower: its image at the processing size, so the frame as pushed (a
        /// camera's full-size image) is not kept alive until the frame is finalised.</summary>
        protected static Frame Held(Frame frame, RgbImage image) => ReferenceEquals(frame.Image, image) ? frame : frame with { Image = image };
    }

    /// <summary>
    /// Keyframe tracking (online, and offline over keyframes): dense flow from the newest keyframe, the keyframe decision
    /// on its median, the new keyframe's warm start (PnP pose and depth carried along the flow), and the other frames
    /// posed against the keyframe's depth by PnP. Tracking never waits for mapping: while mapping (on its thread) has not
    /// solved the newest keyframe yet, frames are posed against that keyframe's warm start, and new keyframes are chosen as
    /// the motion asks (mapping takes them in with its next solve). Only a keyframe with neither a solved depth nor a warm
    /// start after the first solve (its PnP failed) is passed over for the newest one mapping has taken in, and no keyframe
    /// is chosen until mapping has solved it. Live sessions (<see cref="ReconstructionOptions.BootstrapTracking"/>): before
    /// mapping has solved anything, the first keyframe pair with parallax is triangulated (two-view geometry at the focal
    /// guess) and carried from keyframe to keyframe the same way, so frames are posed from the second keyframe on.
    /// </summary>
    internal sealed class KeyframeTracker : Tracker
    {
        private Keyframe? _current; // tracked against
        private Keyframe? _newest;  // the newest keyframe (mapping may still be solving it)
        private double _lastMedianFlow, _previousMedianFlow;
        private Keyframe? _reducedKey;       // the keyframe whose image _reducedKeyImage is, at the tracking size
        private RgbImage? _reducedKeyImage;

        private readonly SparseTracker? _sparse;

        /// <summary>Fewer tracked points than this and a frame is tracked by the dense flow instead.</summary>
        internal const int MinSparseTracks = 40;

        /// <param name="sparse">The sparse tracker (live sessions), or null: every frame by the dense flow.</param>
        public KeyframeTracker(ReconstructionState state, IFlowEstimator flow, SparseTracker? sparse = null) : base(state, flow) { _sparse = sparse; }

        /// <summary>The confident tracks as a frame's matches against its keyframe (weight: the track's confidence).</summary>
        internal static KeyframeMatches Matches(SparseTracks t)
        {
            var kx = new List<float>(); var ky = new List<float>(); var u = new List<float>(); var v = new List<float>(); var w = new List<float>();
            for (int c = 0; c < t.Cells; c++)
            {
                if (!(t.Confidence[c] > 0.05f)) continue;
                kx.Add(t.Kx[c]); ky.Add(t.Ky[c]); u.Add(t.U[c]); v.Add(t.V[c]); w.Add(t.Confidence[c]);
            }
            return new KeyframeMatches(kx.ToArray(), ky.ToArray(), u.ToArray(), v.ToArray(), w.ToArray());
        }

        public override TrackedFrame Track(Frame frame, RgbImage image, CancellationToken token)
        {
            var o = State.Options;
            var clock = State.Clock;
            if (_current == null)
            {
                var k0 = new Keyframe { Frame = Held(frame, image), Image = image };
                k0.Prior = State.AwaitPrior(State.StartPrior(image));
                _current = _newest = k0;
                return new TrackedFrame { Frame = frame, Image = image, NewKeyframe = k0 };
            }
            // The newest keyframe, unless it has no depth to pose against yet when one is due (see the summary).
            // A solved depth counts even when the solve was provisional (a first solve at an undetermined focal, solved again
            // with the next): waiting for Mapped there stopped keyframe choice for the whole re-solve
            // (FlowMap.Tests/Issues/ProvisionalFirstSolveFrozenByTheBacklog.cs).
            if (_newest!.Mapped || _newest.TrackingDepth != null || !State.SolvedOnce) _current = _newest;
            var key = _current;
            double threshold = o.KeyframeFlowFraction * Math.Sqrt((double)State.Width * State.Height);
            // 1. Flow from the last keyframe to this frame. When this frame will likely be a keyframe (extrapolated median
            //    flow), its depth prior runs on a task meanwhile, overlapping the GPU work.
            Task<FloatImage>? speculative = _lastMedianFlow + (_lastMedianFlow - _previousMedianFlow) >= 0.7 * threshold ? State.StartPrior(image) : null;
            //    With a reduced tracking size (ReconstructionOptions.TrackingScale) the flow is estimated there
            //    and brought back to the processing size (values scaled); a frame that becomes a keyframe gets the flow at
            //    the processing size again, as mapping needs it (its window solve, the new keyframe's warm start).
            //    Live sessions (ReconstructionOptions.SparseTracking) track the keyframe's textured points instead
            //    (SparseTracker: a few hundred points, about ten dispatches); the dense flow is then computed only for a frame
            //    that becomes a keyframe (its warm start), or when too few points are tracked.
            SparseTracks? sparse = null;
            if (_sparse != null)
            {
                if (!ReferenceEquals(_sparse.Keyframe, key.Image)) _sparse.SetKeyframe(key.Image);
                sparse = clock.Time("track", () => _sparse.Track(image));
                if (sparse.Tracked() < MinSparseTracks) sparse = null;
            }
            FlowResult? flow = null;
            double median;
            var tracking = TrackingFlow.Size(State.Width, State.Height, o.TrackingScale);
            FlowResult Dense()
            {
                if (tracking is (int tw, int th))
                {
                    if (_reducedKey != key) { _reducedKey = key; _reducedKeyImage = ImageResampler.Resize(key.Image, tw, th); }
                    var keySmall = _reducedKeyImage!;
                    var small = clock.Time("flow", () => Flow.Estimate(keySmall, ImageResampler.Resize(image, tw, th), token));
                    return clock.Time("flow_upsample", () => TrackingFlow.Upsample(small, State.Width, State.Height));
                }
                return clock.Time("flow", () => Flow.Estimate(key.Image, image, token));
            }
            if (sparse != null) median = sparse.MedianDisplacement();
            else
            {
                flow = Dense();
                median = DepthTransfer.MedianFlow(flow.Forward, flow.ForwardConfidence);
            }
            State.CumulativeMedianFlow = Math.Max(State.CumulativeMedianFlow, median);
            _previousMedianFlow = _lastMedianFlow; _lastMedianFlow = median;

            // A new keyframe, unless mapping is a full backlog behind (then the frame is posed against the newest one, and the
            // session says so: on a fast camera tracking was lost that way, README "Corrected: what loses the long run's
            // trajectory"). With ReconstructionOptions.CullBacklog mapping keeps it below the cap while it finds a keyframe to cull.
            bool due = median >= threshold && _newest == _current;
            if (due && State.KeyframesAwaitingMapping >= KeyframeMapper.MaxWaiting(o))
            {
                var b = State.Backlog;
                State.Backlog = b with { FramesAtCap = b.FramesAtCap + 1, FirstFrameAtCap = b.FirstFrameAtCap >= 0 ? b.FirstFrameAtCap : frame.Index };
                State.AddWarning(ReconstructionState.MappingBehindWarning(KeyframeMapper.MaxWaiting(o)));
            }
            else if (due)
            {
                // 2. A new keyframe: its prior, and its warm start for mapping.
                // Tracked at a reduced size: the new keyframe's flow at the processing size, which its window solve needs, is
                // mapping's to compute (on the mapping thread: tracking does not wait for it); the warm start below uses the
                // tracking flow.
                flow ??= Dense();
                var k = new Keyframe { Frame = Held(frame, image), Image = image, FromPrevious = flow, FlowFrom = tracking != null ? key.Image : null };
                k.Prior = State.AwaitPrior(speculative ?? State.StartPrior(image));
                _lastMedianFlow = _previousMedianFlow = 0;
                k.Pose = key.Pose; // until mapping solves it (a solve on the mapping thread: its live pose meanwhile)
                if (State.SolvedOnce && key.MappingDepth != null)
                {
                    // Warm start of the new keyframe: its pose against the last keyframe (PnP), then that keyframe's depth
                    // carried along the flow, so descent starts at the window's scale and near the answer.
                    var pnp = CarryDepth(key, flow);
                    if (pnp != null)
                        (k.InitialDepth, k.InitialConfidence) = clock.Time("depth_transfer", () => DepthTransfer.FromKeyframe(flow.Backward, flow.BackwardConfidence, key.MappingDepth, key.MappingConfidence!, State.K, pnp.Value));
                    if (pnp != null) k.Pose = key.Pose.Compose(pnp.Value.Inverse());
                }
                else if (o.BootstrapTracking && key.BootstrapDepth != null)
                {
                    // Before mapping has solved anything: the bootstrap carried on to the new keyframe the same way.
                    var pnp = CarryDepth(key, flow);
                    if (pnp != null)
                        (k.BootstrapDepth, k.BootstrapConfidence) = clock.Time("depth_transfer", () => DepthTransfer.FromKeyframe(flow.Backward, flow.BackwardConfidence, key.BootstrapDepth, key.BootstrapConfidence!, State.K, pnp.Value));
                    if (pnp != null) k.Pose = key.Pose.Compose(pnp.Value.Inverse());
                }
                else if (o.BootstrapTracking && !State.SolvedOnce && key.MappingDepth == null)
                    clock.Time("bootstrap", () => Bootstrap(key, k, flow));
                _newest = k;
                return new TrackedFrame { Frame = frame, Image = image, Flow = flow, NewKeyframe = k };
            }

            // 3. Not a keyframe: pose against the keyframe's depth (when there is one yet).
            speculative?.ContinueWith(t => { _ = t.Exception; }, TaskScheduler.Default); // unused guess: observe, never block
            // Only the backward flow is kept (for depth transfer); the forward flow is reduced to sparse matches. Tracked
            // sparsely: the tracks are the matches, and the dense flow is computed when the frame is finalised, if anyone
            // wants its depth then.
            // Held until the keyframe is final (mapping behind: many frames): its image and flow only if someone wants its
            // depth then (not a live session, which keeps only poses), and never the frame as pushed (its full-size image).
            // Its image at the processing size is held only as Follower.Image.
            bool depthWanted = State.FrameDepthWanted;
            var pend = sparse != null
                ? new Follower { Frame = FrameRef.Of(frame), Image = depthWanted ? image : null, Matches = Matches(sparse) }
                : new Follower { Frame = FrameRef.Of(frame), Image = depthWanted ? image : null, Matches = KeyframeMatches.Sample(flow!.Forward, flow.ForwardConfidence),
                    Flow = depthWanted ? new FlowResult(flow.Backward, flow.Backward, flow.BackwardConfidence, flow.BackwardConfidence) : null };
            if (key.Followers.Count > 0) pend.KeyToFrame = key.Followers[key.Followers.Count - 1].KeyToFrame;
            key.Followers.Add(pend);
            var tracked = new TrackedFrame { Frame = frame, Image = image, Flow = flow, Follower = pend, Pose = key.Pose };
            if (key.TrackingDepth != null)
            {
                clock.Time("pose", () => PoseFollower(State, key, pend));
                tracked.Pose = key.Pose.Compose(pend.KeyToFrame.Inverse());
                tracked.Posed = true;
            }
            else if (key.Followers.Count > 64 && State.KeyframeCount == 1)
            {
                // Static so far: keep memory bounded by dropping the dense flow of the oldest waiting frames (their matches stay).
                var old = key.Followers[key.Followers.Count - 65];
                old.Flow = null;
            }
            return tracked;
        }

        /// <summary>A new keyframe's motion from the keyframe it was tracked against (PnP on the flow against that keyframe's tracking depth), or null.</summary>
        private CameraPose? CarryDepth(Keyframe key, FlowResult flow)
        {
            var m = KeyframeMatches.Sample(flow.Forward, flow.ForwardConfidence);
            var guess = key.Followers.Count > 0 ? key.Followers[key.Followers.Count - 1].KeyToFrame : CameraPose.Identity;
            var pnp = State.Clock.Time("pose", () => FramePoseEstimator.Solve(m, key.TrackingDepth!, State.K, guess));
            return pnp?.KeyToFrame;
        }

        /// <summary>
        /// The bootstrap (<see cref="Keyframe.BootstrapDepth"/>) from the first keyframe pair with parallax: relative pose from
        /// the essential matrix at the current focal (the guess until mapping estimates it), both keyframes' depth
        /// triangulated (<see cref="GeometricStart"/>, baseline 1). A pair without usable parallax (rotation only, a plane)
        /// leaves both without one; the next keyframe pair tries again.
        /// </summary>
        private void Bootstrap(Keyframe key, Keyframe k, FlowResult flow)
        {
            var g = GeometricStart.Build(new[] { flow }, State.Width, State.Height, State.Focal);
            if (g.PairPoses[0] == null || !KeyframeSolver.Finite(g.Poses[1])) return;
            key.BootstrapDepth = g.Depth[0]; key.BootstrapConfidence = g.Confidence[0];
            k.BootstrapDepth = g.Depth[1]; k.BootstrapConfidence = g.Confidence[1];
            k.Pose = key.Pose.Compose(g.Poses[1]);
        }

        /// <summary>
        /// The live estimate of a tracked frame once mapping has run (a new keyframe's pose and depth are the solve's):
        /// pose at once, depth for keyframes; frames before the first solve get the first keyframe's pose.
        /// </summary>
        public FrameUpdate Emit(TrackedFrame t)
        {
            if (t.NewKeyframe is Keyframe k)
            {
                if (t.Flow == null) // the first frame
                {
                    k.Delivered = CameraPose.Identity;
                    return Live(t.Frame, CameraPose.Identity, isKeyframe: true, null, null);
                }
                var update = Live(t.Frame, k.Pose, true, k.Depth, k.Confidence);
                k.Delivered = k.Pose;
                update.Intrinsics = State.K;
                update.Flow = t.Flow.Forward; // previous keyframe -> this frame, for viewers' insets (shared, not copied)
                return update;
            }
            var u = Live(t.Frame, t.Pose, false, null, null);
            u.Intrinsics = State.SolvedOnce ? State.K : null;
            u.Flow = t.Flow?.Forward; // keyframe -> this frame, for viewers' insets (shared, not copied; null when tracked sparsely)
            return u;
        }

        /// <summary>
        /// A follower's pose against its keyframe's depth (solved, else its warm start; PnP from the sampled matches, from its
        /// last pose). The final pose (<paramref name="confirmedDepthOnly"/>: the keyframe solved for good) lifts only the
        /// keyframe pixels whose depth the refinement confirmed (dense confidence at least half of
        /// <see cref="KeyframeSolver.MinCellConfidence"/>, a cell's confirmation threshold: unconfirmed cells have confidence 0,
        /// so a pixel between mostly unconfirmed cells falls below it); the rest of the
        /// depth is a guess (the descent's, or its neighbours'), and a point lifted with a guessed depth pulls the pose
        /// (FlowMap.Tests/Issues/FollowerPosedOnUnconfirmedDepth.cs). With too few such pixels, all of them.
        /// With <paramref name="alsoFrom"/> (the final pose: the previous frame's motion from the same keyframe), PnP runs from
        /// that start too and the lower robust cost stands (<see cref="FramePoseEstimator.Solve(KeyframeMatches, FloatImage, Intrinsics, IReadOnlyList{CameraPose}, int, FloatImage?, float)"/>).
        /// </summary>
        public static void PoseFollower(ReconstructionState state, Keyframe key, Follower p, bool confirmedDepthOnly = false, CameraPose? alsoFrom = null)
        {
            var depth = key.TrackingDepth!;
            var conf = confirmedDepthOnly ? key.TrackingConfidence : null;
            var starts = alsoFrom is CameraPose a ? new[] { p.KeyToFrame, a } : new[] { p.KeyToFrame };
            var r = (conf != null ? FramePoseEstimator.Solve(p.Matches, depth, state.K, starts, keyConfidence: conf, minConfidence: KeyframeSolver.MinCellConfidence / 2) : null)
                    ?? FramePoseEstimator.Solve(p.Matches, depth, state.K, starts);
            if (r != null) p.KeyToFrame = r.Value.KeyToFrame;
        }

        private static FrameUpdate Live(Frame f, CameraPose pose, bool isKeyframe, FloatImage? depth, FloatImage? conf) => new FrameUpdate
        {
            FrameIndex = f.Index, TimestampSeconds = f.TimestampSeconds, Pose = pose, IsKeyframe = isKeyframe, Depth = depth, Confidence = conf,
        };
    }

    /// <summary>
    /// Offline over every frame: each frame is a keyframe, with the flow from the previous frame; its depth prior runs on a
    /// task while the GPU computes that flow, and is awaited by mapping at the end.
    /// </summary>
    internal sealed class ChainTracker : Tracker
    {
        private RgbImage? _previous;

        public ChainTracker(ReconstructionState state, IFlowEstimator flow) : base(state, flow) { }

        public override TrackedFrame Track(Frame frame, RgbImage image, CancellationToken token)
        {
            var prior = State.StartPrior(image);
            FlowResult? f = null;
            if (_previous != null)
            {
                var prev = _previous;
                f = State.Clock.Time("flow", () => Flow.Estimate(prev, image, token));
                State.CumulativeMedianFlow += DepthTransfer.MedianFlow(f.Forward, f.ForwardConfidence);
            }
            _previous = image;
            return new TrackedFrame { Frame = frame, Image = image, Flow = f,
                NewKeyframe = new Keyframe { Frame = Held(frame, image), Image = image, FromPrevious = f, PendingPrior = prior } };
        }
    }

    /// <summary>
    /// Tracking at a reduced size (<see cref="ReconstructionOptions.TrackingScale"/>): the size, and the flow brought back to
    /// the processing size.
    /// </summary>
    internal static class TrackingFlow
    {
        /// <summary>
        /// The tracking size for a W x H processing size at <paramref name="scale"/> (each side rounded, at least
        /// <see cref="ImageResampler.MinProcessingSide"/> and at most the side itself), or null when it is the processing size.
        /// </summary>
        public static (int Width, int Height)? Size(int width, int height, double scale)
        {
            if (scale >= 1) return null;
            int w = Math.Min(width, Math.Max(ImageResampler.MinProcessingSide, (int)Math.Round(width * scale)));
            int h = Math.Min(height, Math.Max(ImageResampler.MinProcessingSide, (int)Math.Round(height * scale)));
            return w == width && h == height ? ((int, int)?)null : (w, h);
        }

        /// <summary>
        /// Flow (both directions) and confidence estimated at a reduced size, resampled to <paramref name="width"/> x
        /// <paramref name="height"/>: bilinear with pixel centres aligned (output pixel x samples the input at
        /// (x + 0.5) w / W - 0.5, clamped to the edge), flow values multiplied by W / w and H / h, the rule of
        /// <see cref="FlowMap.Flow.Kernels.FlowUpsample.Reference"/>. Confidence is resampled the same way, unscaled.
        /// </summary>
        public static FlowResult Upsample(FlowResult small, int width, int height) => new FlowResult(
            UpsampleFlow(small.Forward, width, height), UpsampleFlow(small.Backward, width, height),
            UpsampleImage(small.ForwardConfidence, width, height), UpsampleImage(small.BackwardConfidence, width, height));

        private static FlowField UpsampleFlow(FlowField f, int width, int height) =>
            new FlowField(width, height, Resample(f.Data, f.Width, f.Height, 2, width, height, (double)width / f.Width, (double)height / f.Height));

        private static FloatImage UpsampleImage(FloatImage c, int width, int height) =>
            new FloatImage(width, height, Resample(c.Data, c.Width, c.Height, 1, width, height, 1, 1));

        /// <summary>
        /// Bilinear resampling of a [sh, sw, channels] image (one or two channels) to [dh, dw, channels] with the rule of
        /// <see cref="FlowMap.Flow.Kernels.FlowSampling.Bilinear(System.ReadOnlySpan{float}, int, int, int, int, double, double)"/>
        /// (clamp to the edge), the sample positions and weights per column and per row computed once; channel 0 is
        /// multiplied by <paramref name="scale0"/>, channel 1 by <paramref name="scale1"/>. The loop runs over pointers, one
        /// per channel count: the same arithmetic in the same order as the general loop it replaced, so the same floats (on
        /// 160x120 to 320x240, 7.1 -> 4.0 ms on a 2-core machine); `Reconstruction/ReducedTrackingTests.cs` compares it with
        /// the double-precision <see cref="FlowMap.Flow.Kernels.FlowUpsample.Reference"/> at odd sizes.
        /// </summary>
        private static unsafe float[] Resample(float[] src, int sw, int sh, int channels, int dw, int dh, double scale0, double scale1)
        {
            if (channels != 1 && channels != 2) throw new ArgumentOutOfRangeException(nameof(channels));
            static void Axis(int s, int d, out int[] i0, out int[] i1, out double[] a)
            {
                i0 = new int[d]; i1 = new int[d]; a = new double[d];
                double r = (double)s / d;
                for (int x = 0; x < d; x++)
                {
                    double p = Math.Clamp((x + 0.5) * r - 0.5, 0, s - 1);
                    int lo = Math.Min((int)Math.Floor(p), s - 1);
                    i0[x] = lo; i1[x] = Math.Min(lo + 1, s - 1); a[x] = p - lo;
                }
            }
            Axis(sw, dw, out var x0, out var x1, out var ax);
            Axis(sh, dh, out var y0, out var y1, out var ay);
            var dst = new float[dw * dh * channels];
            fixed (float* s = src, d = dst)
            fixed (int* c0 = x0, c1 = x1)
            fixed (double* a = ax)
            {
                for (int y = 0; y < dh; y++)
                {
                    float* r0 = s + (long)y0[y] * sw * channels, r1 = s + (long)y1[y] * sw * channels;
                    double wy = ay[y];
                    float* o = d + (long)y * dw * channels;
                    if (channels == 1)
                        for (int x = 0; x < dw; x++)
                        {
                            double wx = a[x];
                            int i = c0[x], j = c1[x];
                            double v = (r0[i] * (1 - wx) + r0[j] * wx) * (1 - wy) + (r1[i] * (1 - wx) + r1[j] * wx) * wy;
                            o[x] = (float)(v * scale0);
                        }
                    else
                        for (int x = 0; x < dw; x++, o += 2)
                        {
                            double wx = a[x];
                            int i = 2 * c0[x], j = 2 * c1[x];
                            double u = (r0[i] * (1 - wx) + r0[j] * wx) * (1 - wy) + (r1[i] * (1 - wx) + r1[j] * wx) * wy;
                            double v = (r0[i + 1] * (1 - wx) + r0[j + 1] * wx) * (1 - wy) + (r1[i + 1] * (1 - wx) + r1[j + 1] * wx) * wy;
                            o[0] = (float)(u * scale0);
                            o[1] = (float)(v * scale1);
                        }
                }
            }
            return dst;
        }
    }
}
