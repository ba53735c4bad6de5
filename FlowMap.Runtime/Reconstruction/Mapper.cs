using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FlowMap.Flow;
using FlowMap.Session;

namespace FlowMap.Reconstruction
{
    /// <summary>The stage after tracking: solves keyframes (<see cref="KeyframeSolver"/>), fuses them and finalises every frame.</summary>
    internal abstract class Mapper
    {
        protected Mapper(ReconstructionState state, KeyframeSolver solver) { State = state; Solver = solver; }

        protected ReconstructionState State { get; }
        protected KeyframeSolver Solver { get; }

        /// <summary>Takes a tracked frame: a new keyframe joins the map; a posed frame may refine it.</summary>
        public abstract void Map(TrackedFrame frame, CancellationToken token);

        /// <summary>The stream ended: the last solve (offline: everything), then every frame finalised (fused, emitted).</summary>
        public abstract void Finish(CancellationToken token);

        /// <summary>
        /// Applies mapping results that are ready (a window solve that ran on the mapping thread): poses and depth of the
        /// window, keyframes frozen and fused, moved keyframes published. Never waits. Nothing to do without a mapping thread.
        /// </summary>
        public virtual void Publish() { }

        /// <summary>Waits for work still running on the mapping thread (its outcome is dropped).</summary>
        public virtual void Stop() { }

        /// <summary>True while a solve runs on the mapping thread (read from any thread; for tests).</summary>
        public virtual bool Busy => false;

        /// <summary>Every window solve so far (online), in order.</summary>
        public IReadOnlyList<FlowMap.Session.WindowSolveTiming> WindowSolves => Solver.WindowSolves;

        /// <summary>Keyframes held (with their images, flows and followers): what a long session's memory depends on.</summary>
        public abstract int KeyframesHeld { get; }
    }

    /// <summary>A window solve: its inputs taken on the pipeline thread, its result applied there.</summary>
    internal sealed class WindowSolve
    {
        public List<Keyframe> Window = null!;
        public int Frozen;
        public List<KeyframeSolver.Input> Inputs = null!;
        public double? FixedFocal;
        public IReadOnlyList<FloatImage?>? WarmDepth;
        public double? PreviousFocal;
        public int Steps;
        /// <summary>The frozen keyframes' poses in the window's frame (its first keyframe at the identity).</summary>
        public List<CameraPose> FrozenPoses = null!;
        /// <summary>The keyframe whose arrival asked for the solve (tracking moves to it once the solve is applied), or null.</summary>
        public Keyframe? NewKeyframe;
        /// <summary>On the mapping thread: the solve and the stage times it took.</summary>
        public Task<(KeyframeSolution Result, IReadOnlyDictionary<string, double> Stages)>? Running;
    }

    /// <summary>Mapping over keyframes chosen by <see cref="KeyframeTracker"/>: the window, its solves, freezing and finalising.</summary>
    internal abstract class KeyframeMapper : Mapper
    {
        protected KeyframeMapper(ReconstructionState state, KeyframeSolver solver) : base(state, solver) { }

        /// <summary>The keyframes held (online: a sliding window; offline: all of them until Finish).</summary>
        protected List<Keyframe> Window { get; } = new List<Keyframe>();

        public override int KeyframesHeld => Window.Count;

        protected void Add(Keyframe k)
        {
            Window.Add(k);
            State.KeyframeCount++;
        }

        /// <summary>Solves the window of the last keyframes and chains the result into the global trajectory at a consistent scale.</summary>
        protected void SolveWindow(int steps, CancellationToken token)
        {
            var job = PrepareSolve(steps);
            if (job != null) ApplySolve(job, RunSolve(job, token));
        }

        /// <summary>
        /// The inputs of a solve of the window of the last keyframes, or null when there is nothing to solve. With
        /// <paramref name="includeBacklog"/> (mapping on its thread, behind tracking) the window starts at the oldest keyframe
        /// not yet frozen, with the usual frozen ones before it (the anchor of the chaining), and takes at most
        /// <see cref="MaxSolveWindow"/> keyframes: a backlog longer than that is solved oldest first, window after window.
        /// </summary>
        protected WindowSolve? PrepareSolve(int steps, bool includeBacklog = false)
        {
            var o = State.Options;
            int n = Window.Count;
            if (n < 2) return null;
            int start = Math.Max(0, n - o.WindowKeyframes), end = n;
            int firstActive = Window.FindIndex(k => !k.Frozen);
            if (includeBacklog && firstActive >= 0)
            {
                int oldest = Math.Max(0, firstActive - (o.WindowKeyframes - o.ActiveKeyframes));
                if (oldest < start) { start = oldest; end = Math.Min(n, start + MaxSolveWindow(o)); }
            }
            if (end - start < 2) return null;
            var win = Window.GetRange(start, end - start);
            int frozen = win.TakeWhile(k => k.Frozen).Count();
            return new WindowSolve
            {
                Window = win,
                Frozen = frozen,
                FrozenPoses = win.Take(frozen).Select(k => win[0].Pose.Inverse().Compose(k.Pose)).ToList(),
                Inputs = win.Select(Input).ToList(),
                FixedFocal = State.FixedFocal,
                WarmDepth = State.SolvedOnce ? win.Select(k => k.Depth ?? k.InitialDepth).ToList() : null,
                PreviousFocal = State.SolvedOnce ? State.Focal : (double?)null,
                Steps = steps,
            };
        }

        /// <summary>The most keyframes one solve takes in when mapping is behind tracking.</summary>
        protected static int MaxSolveWindow(ReconstructionOptions o) => 2 * o.WindowKeyframes;

        /// <summary>
        /// The most keyframes waiting for mapping (behind tracking) before the oldest of them with a warm start (a depth
        /// carried from a solved keyframe) are finalised unsolved.
        /// </summary>
        internal static int MaxBacklog(ReconstructionOptions o) => 4 * o.WindowKeyframes;

        /// <summary>
        /// The most keyframes waiting for mapping at all: tracking chooses no new keyframe while this many wait
        /// (<see cref="ReconstructionState.KeyframesAwaitingMapping"/>), which bounds the memory of a session whose mapping
        /// cannot keep up. Twice <see cref="MaxBacklog"/>: a live session on this machine ends its 7 s ICL-NUIM clip with
        /// about 24 keyframes waiting (Complete() solves them); bounding it there put 101 frames on one keyframe and the
        /// final ATE went from 0.36-0.45 % to 2.11 % of the path (`bench live --long-frames 0`).
        /// </summary>
        internal static int MaxWaiting(ReconstructionOptions o) => 2 * MaxBacklog(o);

        /// <summary>
        /// Keeps the keyframes waiting for mapping below <see cref="MaxWaiting"/> (<see cref="ReconstructionOptions.CullBacklog"/>),
        /// so tracking may choose the next: while that many wait, the most redundant waiting keyframe K (not in <paramref name="solving"/>, not one of the newest two,
        /// after a keyframe P that is not final) becomes a frame of P, as local mapping culls redundant keyframes (Mur-Artal
        /// et al. 2015): the one whose neighbours P and Q are closest (the median flow P -> K plus K -> Q, smallest; the
        /// oldest on a tie). K and the frames tracked against it join P's frames in order (their matches carried to P's
        /// pixels along the flow K -> P, their motion from P composed through K); Q's flow from P is the two flows composed,
        /// computed again at the processing size by the solve that takes Q in (<see cref="Keyframe.FlowFrom"/>). Pipeline
        /// thread. Returns the keyframes culled.
        /// </summary>
        internal int CullWaiting(IReadOnlyCollection<Keyframe>? solving)
        {
            int culled = 0;
            var o = State.Options;
            double maxGap = MaxCullGap * o.KeyframeFlowFraction * Math.Sqrt((double)State.Width * State.Height);
            while (Window.Count(k => !k.Mapped && !k.Frozen) >= MaxWaiting(o))
            {
                int best = -1;
                double bestGap = double.PositiveInfinity;
                for (int j = 1; j + 2 < Window.Count; j++)
                {
                    var (p, k, q) = (Window[j - 1], Window[j], Window[j + 1]);
                    if (k.Frozen || k.Mapped || p.Frozen || k.FromPrevious == null || q.FromPrevious == null) continue;
                    if (solving != null && (solving.Contains(k) || solving.Contains(q))) continue;
                    double gap = MedianFlow(k) + MedianFlow(q);
                    if (gap <= maxGap && gap < bestGap) { bestGap = gap; best = j; }
                }
                if (best < 0) break;
                Demote(Window[best - 1], Window[best], Window[best + 1]);
                Window.RemoveAt(best);
                State.KeyframeCount--;
                culled++;
            }
            if (culled > 0) NoteBacklog();
            return culled;
        }

        /// <summary>
        /// The widest gap culling leaves between two keyframes, in keyframe thresholds (median flow P -> K plus K -> Q): the
        /// window's pairs span up to <see cref="ReconstructionOptions.PairSpan"/> gaps, and the flow's coarse search reaches
        /// about 24 px at 320x240 (radius 3 at an eighth of the size) before its patches converge the rest. Culled to gaps of
        /// 6 frames (33 px) on the fast memory clip, the window solves broke (its first pass 0.6 -> 18.6 % of the path).
        /// </summary>
        internal const double MaxCullGap = 2.5;

        /// <summary>Tells tracking how many keyframes wait for mapping (<see cref="ReconstructionState.KeyframesAwaitingMapping"/>).</summary>
        protected void NoteBacklog() => State.KeyframesAwaitingMapping = Window.Count(k => !k.Mapped && !k.Frozen);

        // The median flow from a keyframe's predecessor to it (its redundancy), computed once per flow.
        private readonly System.Runtime.CompilerServices.ConditionalWeakTable<FlowResult, object> _medianFlow =
            new System.Runtime.CompilerServices.ConditionalWeakTable<FlowResult, object>();

        private double MedianFlow(Keyframe k) =>
            (double)_medianFlow.GetValue(k.FromPrevious!, f => DepthTransfer.MedianFlow(f.Forward, f.ForwardConfidence));

        /// <summary>K (between P and Q) made a frame of P: see <see cref="CullWaiting"/>.</summary>
        private void Demote(Keyframe p, Keyframe k, Keyframe q)
        {
            var pk = k.FromPrevious!;
            bool depthWanted = State.FrameDepthWanted;
            var kPose = k.Pose;
            // P -> K: the camera motion P -> K (p_K = R p_P + t), from the poses tracking gave them (PnP refines it when P is final).
            var pToK = kPose.Inverse().Compose(p.Pose);
            p.Followers.Add(new Follower
            {
                Frame = FrameRef.Of(k.Frame), Image = depthWanted ? k.Image : null,
                Matches = KeyframeMatches.Sample(pk.Forward, pk.ForwardConfidence), KeyToFrame = pToK, DeliveredAsKeyframe = k.Delivered != null,
            });
            foreach (var f in k.Followers)
            {
                f.Matches = ThroughFlow(f.Matches, pk.Backward, pk.BackwardConfidence);
                f.KeyToFrame = f.KeyToFrame.Compose(pToK);
                f.Flow = null; // against K: computed again against P when finalised, if its depth is wanted
                p.Followers.Add(f);
            }
            k.Followers.Clear();
            q.FromPrevious = ComposeFlows(pk, q.FromPrevious!);
            q.FlowFrom = p.Image;
            var b = State.Backlog;
            State.Backlog = b with { KeyframesCulled = b.KeyframesCulled + 1, FirstFrameCulled = b.FirstFrameCulled >= 0 ? b.FirstFrameCulled : k.Frame.Index };
        }

        /// <summary>Matches from K's pixels carried to P's along the flow K -> P (bilinear; weights times its confidence; those that leave P dropped).</summary>
        internal static KeyframeMatches ThroughFlow(KeyframeMatches m, FlowField toP, FloatImage confidence)
        {
            var kx = new List<float>(m.Count); var ky = new List<float>(m.Count); var u = new List<float>(m.Count); var v = new List<float>(m.Count); var w = new List<float>(m.Count);
            for (int i = 0; i < m.Count; i++)
            {
                if (!Sample(toP, confidence, m.Kx[i], m.Ky[i], out double du, out double dv, out double c) || !(c > 0)) continue;
                double x = m.Kx[i] + du, y = m.Ky[i] + dv;
                if (!(x >= 0 && y >= 0 && x <= toP.Width - 1 && y <= toP.Height - 1)) continue;
                kx.Add((float)x); ky.Add((float)y); u.Add(m.U[i]); v.Add(m.V[i]); w.Add((float)(m.W[i] * c));
            }
            return new KeyframeMatches(kx.ToArray(), ky.ToArray(), u.ToArray(), v.ToArray(), w.ToArray());
        }

        /// <summary>
        /// The flow P -> Q from P -> K and K -> Q: forward f(x) = f_PK(x) + f_KQ(x + f_PK(x)), backward likewise from Q, the
        /// confidences multiplied; 0 (no flow, no confidence) where the first flow leaves the image.
        /// </summary>
        internal static FlowResult ComposeFlows(FlowResult pk, FlowResult kq)
        {
            static (FlowField, FloatImage) One(FlowField a, FloatImage ca, FlowField b, FloatImage cb)
            {
                int w = a.Width, h = a.Height;
                var f = new FlowField(w, h); var c = new FloatImage(w, h);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        double ax = a.U(x, y), ay = a.V(x, y);
                        if (!Sample(b, cb, x + ax, y + ay, out double bx, out double by, out double cbv)) continue;
                        int i = 2 * (y * w + x);
                        f.Data[i] = (float)(ax + bx); f.Data[i + 1] = (float)(ay + by);
                        c[x, y] = (float)(ca[x, y] * cbv);
                    }
                return (f, c);
            }
            var (fw, cfw) = One(pk.Forward, pk.ForwardConfidence, kq.Forward, kq.ForwardConfidence);
            var (bw, cbw) = One(kq.Backward, kq.BackwardConfidence, pk.Backward, pk.BackwardConfidence);
            return new FlowResult(fw, bw, cfw, cbw);
        }

        /// <summary>Bilinear flow and confidence at (x, y); false outside the image.</summary>
        private static bool Sample(FlowField f, FloatImage c, double x, double y, out double u, out double v, out double conf)
        {
            u = v = conf = 0;
            if (!(x >= 0 && y >= 0 && x <= f.Width - 1 && y <= f.Height - 1)) return false;
            int x0 = Math.Min((int)x, f.Width - 2 < 0 ? 0 : f.Width - 2), y0 = Math.Min((int)y, f.Height - 2 < 0 ? 0 : f.Height - 2);
            int x1 = Math.Min(x0 + 1, f.Width - 1), y1 = Math.Min(y0 + 1, f.Height - 1);
            double ax = x - x0, ay = y - y0;
            double w00 = (1 - ax) * (1 - ay), w10 = ax * (1 - ay), w01 = (1 - ax) * ay, w11 = ax * ay;
            u = w00 * f.U(x0, y0) + w10 * f.U(x1, y0) + w01 * f.U(x0, y1) + w11 * f.U(x1, y1);
            v = w00 * f.V(x0, y0) + w10 * f.V(x1, y0) + w01 * f.V(x0, y1) + w11 * f.V(x1, y1);
            conf = w00 * c[x0, y0] + w10 * c[x1, y0] + w01 * c[x0, y1] + w11 * c[x1, y1];
            return true;
        }

        /// <summary>The solve itself (touches only the solver and the job: may run on the mapping thread).</summary>
        protected KeyframeSolution RunSolve(WindowSolve job, CancellationToken token) =>
            Solver.SolveWindow(job.Inputs, job.FixedFocal, job.WarmDepth, job.PreviousFocal, job.Frozen, job.Steps, token, job.FrozenPoses);

        /// <summary>A keyframe as the solver's input (a flow still to compute at the processing size: its source image with it).</summary>
        protected static KeyframeSolver.Input Input(Keyframe k) =>
            new KeyframeSolver.Input { FrameIndex = k.Frame.Index, Image = k.Image, FromPrevious = k.FromPrevious, FlowFrom = k.FlowFrom, Prior = k.Prior };

        /// <summary>Chains a window's solution into the global trajectory at a consistent scale (pipeline thread).</summary>
        protected void ApplySolve(WindowSolve job, KeyframeSolution r)
        {
            var win = job.Window;
            int frozen = job.Frozen;
            // Flows the solve computed at the processing size replace the keyframes' tracking flows (whatever the outcome).
            for (int j = 0; j < win.Count; j++)
                if (win[j].FlowFrom != null && job.Inputs[j].FlowFrom == null) { win[j].FromPrevious = job.Inputs[j].FromPrevious; win[j].FlowFrom = null; }
            // A solve that came back non-finite (NaN from a solver, a depth prior or a degenerate window) changes nothing:
            // the keyframes keep the estimates they had, and the user is told.
            if (r.Poses.Length != win.Count || r.Poses.Any(p => !KeyframeSolver.Finite(p)) || !(r.Focal > 0) || double.IsInfinity(r.Focal))
            {
                State.AddWarning($"a window solve (keyframes {win[0].Frame.Index}-{win[win.Count - 1].Frame.Index}) returned non-finite poses or focal; kept the previous estimates");
                return;
            }
            State.Focal = State.FixedFocal ?? r.Focal;
            State.FocalRelStd = r.FocalRelStd;
            foreach (var w in r.Warnings) State.AddWarning(w);
            State.SolvedOnce = true;

            // Scale: none to estimate when the frozen keyframes were held (the solution is in their scale). Else, when the
            // window continues a frozen past (its held past released by the refinement) and with
            // ReconstructionOptions.ReleaseToGauge: the path of the keyframes solved before as the solution has it against
            // their stored path. Else the window's depth against the global depth of keyframes solved before (median
            // ratio): a window with nothing frozen (a first window solved again, whose provisional poses are replaced),
            // descent's poses alone without the refinement (derived from the depth; chained by the path: walk 0.67 -> 0.83 %,
            // orbit 6.57 -> 8.12 %), or fewer than two keyframes solved before. The depth ratio drifted: on the phone video
            // it differed from the path ratio by -9.5 to +11.8 % a window, and the trajectory's scale grew 42 % over 36
            // frames (README, "Why the held past breaks"; FlowMap.Tests/Issues/ReleasedWindowsChainedByDepthDrifted.cs).
            double s = 1.0;
            if (!r.InHeldFrame)
            {
                double? path = State.Options.ReleaseToGauge && State.Options.Refine && frozen > 0 ? PathScale(win.Select(k => k.Depth != null ? (CameraPose?)k.Pose : null).ToList(), r.Poses) : null;
                var ratios = new List<float>();
                if (path == null)
                    for (int j = 0; j < win.Count; j++)
                        if (win[j].Depth != null) ratios.Add((float)DepthTransfer.ScaleRatio(win[j].Depth!, r.Depth[j], win[j].Confidence));
                s = path ?? (ratios.Count > 0 ? DepthTransfer.Median(ratios) : 1.0);
            }
            if (!(s > 0) || double.IsInfinity(s)) s = 1.0;

            // Anchor: the newest frozen keyframe of the window (its global pose stays), else the window's first.
            int a = Math.Max(0, frozen - 1);
            var anchorRel = KeyframeSolver.Scaled(r.Poses[a], s);
            var toGlobal = win[a].Pose.Compose(anchorRel.Inverse());
            var chained = new CameraPose[win.Count];
            for (int j = 0; j < win.Count; j++) chained[j] = win[j].Frozen || j == a ? win[j].Pose : toGlobal.Compose(KeyframeSolver.Scaled(r.Poses[j], s));
            if (chained.Any(p => !KeyframeSolver.Finite(p)))
            {
                State.AddWarning($"a window solve (keyframes {win[0].Frame.Index}-{win[win.Count - 1].Frame.Index}) chained to non-finite poses; kept the previous estimates");
                return;
            }
            var last = win[win.Count - 1];
            var (lastPose, lastDepth) = (last.Pose, last.TrackingDepth);
            for (int j = 0; j < win.Count; j++)
            {
                if (win[j].Frozen)
                {
                    // A frozen keyframe keeps its pose (and what was emitted and fused), but the depth the windows after it
                    // hold it with is the refinement's: its poses of the new keyframes fit that depth. Dropped, the next
                    // window held a depth its poses no longer fit, and on long sequences the held fit broke for good
                    // (FlowMap.Tests/Issues/FrozenDepthMoveWasDropped.cs).
                    if (win[j].Depth != null && r.Depth[j] != null) win[j].Depth = KeyframeSolver.ScaledImage(r.Depth[j], s);
                    continue;
                }
                var boot = win[j].Bootstrapped ? win[j].BootstrapDepth : null;
                win[j].Pose = chained[j];
                win[j].Depth = KeyframeSolver.ScaledImage(r.Depth[j], s);
                win[j].Confidence = r.Confidence[j];
                // Frames posed against its bootstrap: their motion (the next PnP's start) in the solved scale.
                if (boot != null) ScaleFollowers(win[j], DepthTransfer.ScaleRatio(win[j].Depth!, boot, null));
            }
            State.NoteSceneDepth(last.Depth!);
            Rechain(last, lastPose, lastDepth);
            // Keyframes already delivered whose pose moved: the engine moves what it anchored to them.
            foreach (var k in win)
                if (k.Delivered is CameraPose d && !SamePose(d, k.Pose))
                {
                    k.Delivered = k.Pose;
                    State.Refined(new FramePose(k.Frame.Index, k.Frame.TimestampSeconds, k.Pose, isKeyframe: true));
                }
        }

        /// <summary>
        /// The scale that brings a window's solution to the chain: the length of the path through the keyframes that have a
        /// stored (solved) pose, as stored, over its length in the solution (<paramref name="stored"/>[j] null: keyframe j
        /// has none). Null when fewer than two keyframes have one or either path has no length.
        /// </summary>
        internal static double? PathScale(IReadOnlyList<CameraPose?> stored, IReadOnlyList<CameraPose> solved)
        {
            double before = 0, after = 0;
            int prev = -1;
            for (int j = 0; j < stored.Count && j < solved.Count; j++)
            {
                if (stored[j] == null) continue;
                if (prev >= 0)
                {
                    before += Distance(stored[prev]!.Value, stored[j]!.Value);
                    after += Distance(solved[prev], solved[j]);
                }
                prev = j;
            }
            double r = before / after;
            return before > 0 && after > 0 && double.IsFinite(r) ? r : (double?)null;
        }

        private static double Distance(CameraPose a, CameraPose b)
        {
            double dx = a.T(0) - b.T(0), dy = a.T(1) - b.T(1), dz = a.T(2) - b.T(2);
            return Math.Sqrt(dx * dx + dy * dy + dz * dz);
        }

        /// <summary>
        /// Keyframes after the solved window that still have only their bootstrap (<see cref="Keyframe.BootstrapDepth"/>:
        /// chosen while mapping was behind, in the bootstrap's frame and scale, or re-chained by an earlier solve) follow the
        /// window's last keyframe: their motion from it kept, its translation and their depth scaled by the ratio of its new
        /// depth to the one it had, so the live path goes on from the solved trajectory instead of jumping back.
        /// </summary>
        private void Rechain(Keyframe last, CameraPose oldPose, FloatImage? oldDepth)
        {
            int i = Window.IndexOf(last);
            if (i < 0 || i + 1 >= Window.Count || oldDepth == null || last.Depth == null) return;
            if (!Window.Skip(i + 1).Any(k => k.Bootstrapped)) return;
            double sb = DepthTransfer.ScaleRatio(last.Depth, oldDepth, null);
            if (!(sb > 0) || double.IsInfinity(sb)) return;
            foreach (var k in Window.Skip(i + 1))
            {
                if (!k.Bootstrapped) break; // those after it were carried from a solved keyframe's depth
                k.Pose = Rechained(last.Pose, oldPose, k.Pose, sb);
                k.BootstrapDepth = KeyframeSolver.ScaledImage(k.BootstrapDepth!, sb);
                ScaleFollowers(k, sb);
                if (k.Delivered is CameraPose d && !SamePose(d, k.Pose))
                {
                    k.Delivered = k.Pose;
                    State.Refined(new FramePose(k.Frame.Index, k.Frame.TimestampSeconds, k.Pose, isKeyframe: true));
                }
            }
        }

        /// <summary>
        /// A waiting keyframe's pose <paramref name="k"/> carried from the solved keyframe's old pose to its new one, its
        /// motion from it scaled by <paramref name="sb"/>, and brought back onto the rotations (every window solve
        /// re-chains the waiting keyframes, and the inverse of an old pose of the same lineage doubled R's departure from
        /// a rotation each time: <see cref="CameraPose.Orthonormalized"/>).
        /// </summary>
        internal static CameraPose Rechained(CameraPose lastNew, CameraPose lastOld, CameraPose k, double sb) =>
            lastNew.Compose(KeyframeSolver.Scaled(lastOld.Inverse().Compose(k), sb)).Orthonormalized();

        private static void ScaleFollowers(Keyframe k, double s)
        {
            if (!(s > 0) || double.IsInfinity(s)) return;
            foreach (var f in k.Followers) f.KeyToFrame = KeyframeSolver.Scaled(f.KeyToFrame, s);
        }

        private static bool SamePose(CameraPose a, CameraPose b) =>
            a.Rotation.AsSpan().SequenceEqual(b.Rotation) && a.Translation.AsSpan().SequenceEqual(b.Translation);

        /// <summary>
        /// A keyframe is final: its depth (unobserved when never solved), fused, emitted; then its followers posed against
        /// its final depth with depth carried along their flow, emitted.
        /// </summary>
        protected void Finalise(Keyframe k)
        {
            var clock = State.Clock;
            k.Frozen = true;
            if (k.Depth == null && (k.InitialDepth ?? k.BootstrapDepth) is FloatImage carried && State.SolvedOnce)
            {
                // Never solved, but warm-started or bootstrapped and re-chained (live: it left the window while mapping was
                // behind): its carried depth, unconfirmed (confidence 0: nothing fused from it).
                k.Depth = carried; k.Confidence = new FloatImage(carried.Width, carried.Height);
                State.Backlog = State.Backlog with { KeyframesFinalisedUnsolved = State.Backlog.KeyframesFinalisedUnsolved + 1 };
            }
            if (k.Depth == null) // never solved (static camera)
            {
                var (d, c) = State.Unobserved(k.Prior);
                k.Depth = d; k.Confidence = c;
            }
            State.Emit(new FrameEstimate { Index = k.Frame.Index, Name = k.Frame.Name, TimestampSeconds = k.Frame.TimestampSeconds, Pose = k.Pose, IsKeyframe = true, Depth = k.Depth, Confidence = k.Confidence! });
            if (State.SolvedOnce) State.Fuse(k.Depth, k.Confidence!, k.Image, k.Pose);
            // The keyframe after this one, when solved: a follower's pixels that this keyframe does not see (occluded or
            // outside it) take their depth from it.
            int at = Window.IndexOf(k);
            var next = at >= 0 && at + 1 < Window.Count && Window[at + 1].Depth != null && Window[at + 1].Confidence != null ? Window[at + 1] : null;
            // Each frame's final PnP also starts from the frame before it (the keyframe itself for the first): frames are in
            // order, so that start is a few pixels of motion away, where a frame's own start may not be (a culled keyframe's
            // frames start from a motion composed through it, and from there PnP settled in wrong minima: the culled
            // frames' final poses broke, up to 1e11 out, FlowMap.Tests/Issues/CulledKeyframesFramesPosedFromTheComposedMotion.cs).
            var previous = CameraPose.Identity;
            foreach (var p in k.Followers)
            {
                FloatImage depth, conf;
                CameraPose pose;
                if (State.SolvedOnce)
                {
                    clock.Time("pose", () => KeyframeTracker.PoseFollower(State, k, p, confirmedDepthOnly: true, alsoFrom: previous));
                    previous = p.KeyToFrame;
                    pose = k.Pose.Compose(p.KeyToFrame.Inverse());
                    if (!State.FrameDepthWanted) (depth, conf) = (null!, null!); // nobody receives the estimate (a live session): only its pose is kept
                    else if ((p.Flow ??= FlowForDepth(k, p)) is FlowResult f)
                    {
                        (depth, conf) = clock.Time("depth_transfer", () => DepthTransfer.FromKeyframe(f.Backward, f.BackwardConfidence, k.Depth, k.Confidence!, State.K, p.KeyToFrame));
                        if (next != null && FlowForDepth(next, p) is FlowResult fn)
                        {
                            var nextToFrame = pose.Inverse().Compose(next.Pose);
                            var other = clock.Time("depth_transfer", () => DepthTransfer.FromKeyframe(fn.Backward, fn.BackwardConfidence, next.Depth!, next.Confidence!, State.K, nextToFrame));
                            (depth, conf) = DepthTransfer.MoreConfident((depth, conf), other);
                        }
                    }
                    else (depth, conf) = State.Unobserved(null);
                }
                else { pose = k.Pose; (depth, conf) = (k.Depth, k.Confidence!); }
                if (p.DeliveredAsKeyframe) State.Refined(new FramePose(p.Frame.Index, p.Frame.TimestampSeconds, pose, isKeyframe: false));
                State.Emit(new FrameEstimate { Index = p.Frame.Index, Name = p.Frame.Name, TimestampSeconds = p.Frame.TimestampSeconds, Pose = pose, IsKeyframe = false, Depth = depth, Confidence = conf });
            }
            k.Followers.Clear();
        }

        /// <summary>
        /// The dense flow of a frame tracked sparsely (it has only its matches), for its depth: computed now, at the processing
        /// size, when the follower still has its image (frames held before the first solve may have dropped it).
        /// </summary>
        private FlowResult? FlowForDepth(Keyframe k, Follower p)
        {
            if (State.FlowForDepth == null || p.Image == null || p.Image.Width != k.Image.Width || p.Image.Height != k.Image.Height) return null;
            return State.Clock.Time("flow", () => State.FlowForDepth(k.Image, p.Image, default));
        }

        /// <summary>Finalises every keyframe not yet final, in order.</summary>
        protected void FinaliseRest()
        {
            foreach (var k in Window) if (!k.Frozen) Finalise(k);
            Window.Clear();
        }
    }

    /// <summary>
    /// Online mapping: a sliding window of keyframes, solved warm-started when a keyframe joins it (the first once
    /// <see cref="ReconstructionOptions.FirstWindowKeyframes"/> are there); keyframes leaving its active part are frozen,
    /// fused and finalised; moved keyframes are published for the engine. With a mapping thread
    /// (<see cref="ReconstructionOptions.MappingThread"/>) the solve runs there and its result is applied by
    /// <see cref="Publish"/> at the first frame after it finished, while tracking goes on (and chooses keyframes as the
    /// motion asks: those that arrive during a solve are taken in together by the next one, started as soon as the
    /// running one is applied); without, it runs at once (the result is applied at the keyframe's own frame: deterministic).
    /// </summary>
    internal sealed class SlidingWindowMapper : KeyframeMapper
    {
        private readonly StageClock? _mappingClock; // the mapping thread's stage times, added to the frame that applies them
        private WindowSolve? _running;
        private Keyframe? _waiting;                  // the newest keyframe that arrived while a solve ran (its solve is due)
        private CancellationToken _token;

        public SlidingWindowMapper(ReconstructionState state, KeyframeSolver solver, StageClock? mappingClock = null) : base(state, solver)
        {
            _mappingClock = mappingClock;
        }

        private bool Threaded => _mappingClock != null;

        /// <summary>GPU time per submission of the mapping thread's work (<see cref="FlowMap.Gpu.GpuContext.Background"/>).</summary>
        internal const double BackgroundChunkMilliseconds = 15;

        public override void Map(TrackedFrame frame, CancellationToken token)
        {
            var o = State.Options;
            _token = token;
            if (frame.NewKeyframe is Keyframe k)
            {
                Add(k);
                // The first keyframe: nothing to solve yet. With a mapping thread a keyframe counts as taken in only once a
                // solve applied has covered it (the first solve may be provisional: see Complete).
                if (Window.Count == 1) { k.Mapped = !Threaded; NoteBacklog(); return; }
                int steps = StepsDue();
                if (steps > 0 && Threaded)
                {
                    if (_running == null) Start(steps, k, token);
                    else _waiting = k; // taken in by the next solve, started when the running one is applied
                    NoteBacklog();
                    if (o.CullBacklog && State.KeyframesAwaitingMapping >= MaxWaiting(o)) CullWaiting(_running?.Window);
                    return;
                }
                if (steps > 0) SolveWindow(steps, token);
                k.Mapped = !Threaded; // threaded: the first window is not full yet (its solve will take this keyframe in)
                FreezeOld();
            }
            else if (frame.Posed && o.StepsPerFrame > 0)
            {
                if (!Threaded) SolveWindow(o.StepsPerFrame, token);
                else if (_running == null) Start(o.StepsPerFrame, null, token);
            }
        }

        /// <summary>Descent steps of the solve a new keyframe asks for (0: the first window is not full yet).</summary>
        private int StepsDue()
        {
            var o = State.Options;
            return State.SolvedOnce ? o.KeyframeSteps : Window.Count >= o.FirstWindowKeyframes ? o.FirstWindowSteps : 0;
        }

        /// <summary>Starts a window solve on the mapping thread.</summary>
        private void Start(int steps, Keyframe? newKeyframe, CancellationToken token)
        {
            var job = PrepareSolve(steps, includeBacklog: true)!;
            job.NewKeyframe = newKeyframe;
            var clock = _mappingClock!;
            job.Running = Task.Factory.StartNew(() =>
            {
                // Mapping's GPU work in chunks of ~15 ms: tracking's batches (one queue) never wait behind a whole solve.
                using var background = FlowMap.Gpu.GpuContext.Background(BackgroundChunkMilliseconds);
                clock.BeginFrame();
                var r = RunSolve(job, token);
                clock.EndFrame();
                return (r, clock.LastFrame);
            }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            _running = job;
        }

        public override bool Busy => Volatile.Read(ref _running)?.Running is { IsCompleted: false };

        public override void Publish()
        {
            if (_running?.Running is { IsCompleted: true }) Complete();
            // Keyframes that arrived during that solve: the next one, at once.
            if (_running == null && _waiting != null)
            {
                var k = _waiting;
                _waiting = null;
                Start(Math.Max(1, StepsDue()), k, _token);
            }
        }

        /// <summary>Applies the running solve (waiting for it when it has not finished), then freezes what left the active part.</summary>
        private void Complete()
        {
            var job = _running!;
            _running = null;
            var (r, stages) = job.Running!.GetAwaiter().GetResult();
            foreach (var kv in stages) State.Clock.Add(kv.Key, kv.Value);
            bool first = !State.SolvedOnce;
            ApplySolve(job, r);
            if (job.NewKeyframe != null)
            {
                // The first solve, at a focal the motion did not determine yet (its descent's own), is provisional: its
                // keyframes wait for the next solve instead of being frozen at once by a backlog (mapping behind tracking)
                // and held by every window after (FlowMap.Tests/Issues/ProvisionalFirstSolveFrozenByTheBacklog.cs).
                if (!first || r.FocalDetermined)
                    foreach (var k in job.Window) k.Mapped = true;
                FreezeOld();
            }
            // A backlog longer than one solve takes: the rest next (Publish starts it).
            if (_waiting == null && Window.Count > 0 && !Window[Window.Count - 1].Mapped) _waiting = Window[Window.Count - 1];
        }

        /// <summary>
        /// Freezes keyframes that left the active part of the window; finalises them and their followers. With a mapping
        /// thread, a keyframe no solve has taken in yet waits for one (and the ones after it: frames are finalised in order),
        /// unless it is more than <see cref="KeyframeMapper.MaxBacklog"/> keyframes old and has a warm start (a pose and
        /// depth carried from solved keyframes).
        /// </summary>
        private void FreezeOld()
        {
            var o = State.Options;
            int n = Window.Count;
            for (int j = 0; j < n - o.ActiveKeyframes; j++)
            {
                if (Window[j].Frozen) continue;
                // "Taken in" is Mapped, not a solved depth: a keyframe whose solves came back non-finite has none, and waiting
                // for one stalled finalising behind it (FlowMap.Tests/Reconstruction/MappingThreadTests.cs).
                // A keyframe with no warm start either (chosen before the first solve existed) has no pose of its own yet:
                // finalised unsolved it would be frozen at its predecessor's pose and anchor the next window there
                // (FlowMap.Tests/Issues/BacklogBeforeTheFirstSolveFinalisedUnposed.cs), so it always waits for a solve.
                if (Threaded && !Window[j].Mapped && (j >= n - MaxBacklog(o) || Window[j].InitialDepth == null)) break;
                Finalise(Window[j]);
            }
            // Drop frozen keyframes no window needs any more (a window keeps WindowKeyframes - ActiveKeyframes frozen ones
            // before its first active keyframe).
            int frozenFront = Window.TakeWhile(k => k.Frozen).Count();
            while (Window.Count > o.WindowKeyframes && frozenFront > o.WindowKeyframes - o.ActiveKeyframes) { Window.RemoveAt(0); frozenFront--; }
            NoteBacklog();
        }

        public override void Finish(CancellationToken token)
        {
            if (_running != null) Complete();
            // The solves below run here with the mapping solver (its clock): their stage times join the pipeline's totals.
            _mappingClock?.BeginFrame();
            try { FinishSolves(token); }
            finally
            {
                if (_mappingClock != null)
                {
                    _mappingClock.EndFrame();
                    foreach (var kv in _mappingClock.LastFrame) State.Clock.Add(kv.Key, kv.Value);
                }
            }
            FinaliseRest();
        }

        private void FinishSolves(CancellationToken token)
        {
            // Keyframes that arrived during the last solves: solved here, like any keyframe (oldest first, window by window).
            for (int guard = Window.Count; _waiting != null && guard > 0; guard--)
            {
                _waiting = null;
                var job = PrepareSolve(Math.Max(1, StepsDue()), includeBacklog: true);
                if (job == null) break;
                ApplySolve(job, RunSolve(job, token));
                foreach (var k in job.Window) k.Mapped = true;
                FreezeOld();
                if (Window.Count > 0 && !Window[Window.Count - 1].Mapped) _waiting = Window[Window.Count - 1];
            }
            // A short stream may end before the first window filled.
            if (!State.SolvedOnce && Window.Count >= 2) SolveWindow(State.Options.FirstWindowSteps, token);
        }

        public override void Stop()
        {
            _waiting = null;
            var t = _running?.Running;
            _running = null;
            if (t == null) return;
            try { t.Wait(); }
            catch (AggregateException) { } // cancelled or failed: the session is stopping
        }
    }

    /// <summary>
    /// Offline over keyframes: the keyframes tracking chose are held, and solved all at once in <see cref="Finish"/> (the
    /// mapper's geometry start, descent and refinement); then every frame is finalised against them.
    /// </summary>
    internal sealed class AllKeyframesMapper : KeyframeMapper
    {
        public AllKeyframesMapper(ReconstructionState state, KeyframeSolver solver) : base(state, solver) { }

        public override void Map(TrackedFrame frame, CancellationToken token)
        {
            if (frame.NewKeyframe is Keyframe k) { Add(k); k.Mapped = true; }
        }

        public override void Finish(CancellationToken token)
        {
            if (Window.Count >= 2 && State.CumulativeMedianFlow >= State.Options.StaticFlowPixels) SolveAll(token);
            else if (!State.SolvedOnce && Window.Count >= 2) SolveWindow(State.Options.FirstWindowSteps, token);
            FinaliseRest();
        }

        private void SolveAll(CancellationToken token)
        {
            var inputs = Window.Select(Input).ToList();
            var s = Solver.SolveAll(inputs, State.FixedFocal, token);
            for (int j = 0; j < Window.Count; j++)
            {
                Window[j].Pose = s.Poses[j];
                Window[j].Depth = s.Depth[j];
                Window[j].Confidence = s.Confidence[j];
            }
            State.Focal = State.FixedFocal ?? s.Focal;
            State.K1 = s.K1;
            State.FocalRelStd = s.FocalRelStd;
            foreach (var w in s.Warnings) State.AddWarning(w);
            State.SolvedOnce = true;
            State.NoteSceneDepth(Window[Window.Count / 2].Depth!);
        }
    }

    /// <summary>
    /// Offline over every frame (from <see cref="ChainTracker"/>): all frames solved at once in <see cref="Finish"/>, every
    /// <see cref="ReconstructionOptions.OfflineFuseEvery"/>-th fused.
    /// </summary>
    internal sealed class AllFramesMapper : Mapper
    {
        private readonly List<Keyframe> _all = new List<Keyframe>();

        public AllFramesMapper(ReconstructionState state, KeyframeSolver solver) : base(state, solver) { }

        public override void Map(TrackedFrame frame, CancellationToken token) => _all.Add(frame.NewKeyframe!);

        public override int KeyframesHeld => _all.Count;

        public override void Finish(CancellationToken token)
        {
            var o = State.Options;
            var priors = _all.Select(a => State.AwaitPrior(a.PendingPrior)).ToList();
            State.KeyframeCount = _all.Count;
            if (_all.Count < 2 || State.CumulativeMedianFlow < o.StaticFlowPixels)
            {
                for (int i = 0; i < _all.Count; i++)
                {
                    var (d, c) = State.Unobserved(priors[i]);
                    State.Emit(new FrameEstimate { Index = _all[i].Frame.Index, Name = _all[i].Frame.Name, TimestampSeconds = _all[i].Frame.TimestampSeconds, Pose = CameraPose.Identity, IsKeyframe = true, Depth = d, Confidence = c });
                }
                return;
            }
            var inputs = _all.Select((a, i) => new KeyframeSolver.Input { FrameIndex = a.Frame.Index, Image = a.Image, FromPrevious = a.FromPrevious, Prior = priors[i] }).ToList();
            var r = Solver.SolveAll(inputs, State.FixedFocal, token);
            State.Focal = State.FixedFocal ?? r.Focal;
            State.K1 = r.K1;
            State.FocalRelStd = r.FocalRelStd;
            foreach (var w in r.Warnings) State.AddWarning(w);
            State.SolvedOnce = true;
            State.NoteSceneDepth(r.Depth[r.Depth.Length / 2]);
            for (int i = 0; i < _all.Count; i++)
            {
                var e = new FrameEstimate { Index = _all[i].Frame.Index, Name = _all[i].Frame.Name, TimestampSeconds = _all[i].Frame.TimestampSeconds, Pose = r.Poses[i], IsKeyframe = true, Depth = r.Depth[i], Confidence = r.Confidence[i] };
                if (i % o.OfflineFuseEvery == 0 || i == _all.Count - 1) State.Fuse(e.Depth, e.Confidence, _all[i].Image, e.Pose);
                State.Emit(e);
            }
        }
    }
}
