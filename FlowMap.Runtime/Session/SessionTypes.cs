using System;
using System.Collections.Generic;

namespace FlowMap.Session
{
    /// <summary>Pixel layout of a frame pushed by an engine.</summary>
    public enum PixelFormat
    {
        /// <summary>8-bit R, G, B.</summary>
        Rgb24,
        /// <summary>8-bit R, G, B, A (alpha ignored), e.g. Unity's Color32[] / RGBA32 textures.</summary>
        Rgba32,
        /// <summary>8-bit B, G, R, A (alpha ignored), e.g. many camera APIs and swapchains.</summary>
        Bgra32,
    }

    /// <summary>What the pipeline produced for one frame, delivered by <see cref="ReconstructionSession.FrameProcessed"/>.</summary>
    public sealed class FrameUpdate
    {
        internal FrameUpdate() { }

        /// <summary>Index of the frame in push order (0-based, counting dropped frames too).</summary>
        public int FrameIndex { get; internal set; }
        /// <summary>The timestamp the frame was pushed with, seconds.</summary>
        public double TimestampSeconds { get; internal set; }
        /// <summary>Camera-to-world pose, OpenCV axes, frame 0 = identity, arbitrary scale.</summary>
        public CameraPose Pose { get; internal set; }
        /// <summary>Current intrinsics estimate at the processing resolution (pixels).</summary>
        public Intrinsics? Intrinsics { get; internal set; }
        /// <summary>True when this frame became a keyframe (its depth and points follow).</summary>
        public bool IsKeyframe { get; internal set; }
        /// <summary>
        /// z-depth at the processing resolution for keyframes, else null; also null for a keyframe whose window solve still
        /// runs on the mapping thread (<see cref="SessionOptions.DropFrames"/>): its pose is then the tracker's estimate, and
        /// the solved pose follows in <see cref="ReconstructionSession.KeyframesRefined"/>.
        /// </summary>
        public FloatImage? Depth { get; internal set; }
        /// <summary>Depth confidence in [0, 1] for keyframes, else null.</summary>
        public FloatImage? Confidence { get; internal set; }
        /// <summary>Points fused from this frame (world coordinates), or null.</summary>
        public PointCloud? NewPoints { get; internal set; }
        /// <summary>The frame's pixels at the processing resolution, for viewers (an inset), or null when the pipeline does not keep them.</summary>
        public RgbImage? Image { get; internal set; }
        /// <summary>
        /// Optical flow from the last keyframe before this frame to this frame (pixels, processing resolution), for viewers;
        /// null for the first frame and for frames tracked by points rather than dense flow (live sessions track frames
        /// other than keyframes by points by default).
        /// </summary>
        public FlowField? Flow { get; internal set; }
        /// <summary>Warnings raised at this frame (low parallax, static camera, mapping too far behind tracking to take a new keyframe, ...).</summary>
        public IReadOnlyList<string> Warnings { get; internal set; } = Array.Empty<string>();
        /// <summary>Milliseconds per pipeline stage for this frame.</summary>
        public IReadOnlyDictionary<string, double> StageMilliseconds { get; internal set; } = new Dictionary<string, double>();
        /// <summary>Seconds from <c>ReconstructionSession.PushFrame</c> to this update.</summary>
        public double LatencySeconds { get; internal set; }

        /// <summary>Keyframes whose pose the mapping changed while this frame was processed (raised as <see cref="ReconstructionSession.KeyframesRefined"/>).</summary>
        internal IReadOnlyList<FramePose> RefinedKeyframes { get; set; } = Array.Empty<FramePose>();
    }

    /// <summary>
    /// One frame's camera pose as the reconstruction holds it: a keyframe's refined pose in
    /// <see cref="ReconstructionSession.KeyframesRefined"/>, or a frame's final pose in <see cref="SessionResult.Poses"/>.
    /// </summary>
    public sealed class FramePose
    {
        internal FramePose(int frameIndex, double timestampSeconds, CameraPose pose, bool isKeyframe)
        {
            FrameIndex = frameIndex; TimestampSeconds = timestampSeconds; Pose = pose; IsKeyframe = isKeyframe;
        }

        /// <summary>Index of the frame in push order (as <see cref="FrameUpdate.FrameIndex"/>).</summary>
        public int FrameIndex { get; }
        /// <summary>The timestamp the frame was pushed with, seconds.</summary>
        public double TimestampSeconds { get; }
        /// <summary>Camera-to-world pose, OpenCV axes, frame 0 = identity, the reconstruction's scale (as <see cref="FrameUpdate.Pose"/>).</summary>
        public CameraPose Pose { get; }
        /// <summary>True when the frame is a keyframe.</summary>
        public bool IsKeyframe { get; }
    }

    /// <summary>
    /// What a completed session reconstructed (<see cref="ReconstructionSession.Finished"/>, <see cref="ReconstructionSession.Result"/>):
    /// after <see cref="ReconstructionSession.Complete"/> the pipeline solves what is left of its window, fuses the last
    /// keyframes and poses every frame against its keyframe's final depth.
    /// </summary>
    public sealed class SessionResult
    {
        internal SessionResult() { }

        /// <summary>The final camera-to-world pose of every processed frame, in frame order (dropped frames have none).</summary>
        public IReadOnlyList<FramePose> Poses { get; internal set; } = Array.Empty<FramePose>();
        /// <summary>The final intrinsics at the processing resolution (pixels).</summary>
        public Intrinsics Intrinsics { get; internal set; } = null!;
        /// <summary>
        /// Points fused on completion (the last keyframes), which no <see cref="FrameUpdate.NewPoints"/> carried: an engine
        /// that accumulates <see cref="FrameUpdate.NewPoints"/> adds these to have everything.
        /// </summary>
        public PointCloud NewPoints { get; internal set; } = PointCloud.Empty;
        /// <summary>The whole fused point cloud (world coordinates; points of overlapping keyframes merged per voxel).</summary>
        public PointCloud Points { get; internal set; } = PointCloud.Empty;
        /// <summary>Every warning of the session (those raised on completion included: static camera, low parallax, ...).</summary>
        public IReadOnlyList<string> Warnings { get; internal set; } = Array.Empty<string>();
        /// <summary>
        /// Milliseconds per pipeline stage summed over the whole session, completion included: tracking's stages and mapping's
        /// ("flow_keyframe", "pairs", "calibrate", "start", "solve", "refine"; with a mapping thread, its work), so the
        /// mapping stages over the keyframes say what mapping costs per keyframe.
        /// </summary>
        public IReadOnlyDictionary<string, double> StageTotalMilliseconds { get; internal set; } = new Dictionary<string, double>();

        /// <summary>
        /// Every window solve of the session's mapping, in order (those on completion included): what solving a keyframe's
        /// window cost, the descent apart (issue 12's keyframe solve). A stage median over frames cannot say this: mapping's
        /// solves do not happen per frame, and a live session's mapping solves several keyframes at once when it is behind.
        /// Internal, a diagnostic (`flowmap bench live`), as the solver it times.
        /// </summary>
        internal IReadOnlyList<WindowSolveTiming> WindowSolves { get; set; } = Array.Empty<WindowSolveTiming>();

        /// <summary>How far mapping fell behind tracking (internal, a diagnostic: `flowmap bench live`).</summary>
        internal MappingBacklog Backlog { get; set; } = MappingBacklog.None;

        /// <summary>Keyframes whose pose changed on completion (raised as <see cref="ReconstructionSession.KeyframesRefined"/> before <see cref="ReconstructionSession.Finished"/>).</summary>
        internal IReadOnlyList<FramePose> RefinedKeyframes { get; set; } = Array.Empty<FramePose>();
    }

    /// <summary>
    /// How far a session's mapping fell behind its tracking (<see cref="SessionResult.Backlog"/>, a diagnostic).
    /// </summary>
    /// <param name="Cap">The most keyframes allowed to wait (then tracking chooses none).</param>
    /// <param name="MaxKeyframesAwaiting">The most keyframes that waited for mapping at once.</param>
    /// <param name="FramesAtCap">
    /// Frames whose motion asked for a new keyframe while the most keyframes allowed already waited (none was chosen: the
    /// frame was posed against the newest keyframe, however far the camera had moved from it).
    /// </param>
    /// <param name="FirstFrameAtCap">The first of those frames (-1: none).</param>
    /// <param name="KeyframesFinalisedUnsolved">Keyframes finalised on their warm start without a solve (they fell too far behind).</param>
    /// <param name="KeyframesCulled">Waiting keyframes made frames of their predecessor to keep the backlog at the cap (<c>CullBacklog</c>).</param>
    /// <param name="FirstFrameCulled">The first keyframe culled (-1: none).</param>
    internal sealed record MappingBacklog(int Cap, int MaxKeyframesAwaiting, long FramesAtCap, int FirstFrameAtCap, int KeyframesFinalisedUnsolved, int KeyframesCulled = 0, int FirstFrameCulled = -1)
    {
        /// <summary>Nothing waited, nothing at the cap, nothing culled.</summary>
        public static readonly MappingBacklog None = new MappingBacklog(0, 0, 0, -1, 0);
    }

    /// <summary>One window solve of a session's mapping (<see cref="SessionResult.WindowSolves"/>).</summary>
    /// <param name="Keyframes">Keyframes in the window.</param>
    /// <param name="FrozenKeyframes">Of those, the ones held (their depth fixed, their poses where earlier windows put them).</param>
    /// <param name="Steps">Descent steps (the first window takes more than the later ones).</param>
    /// <param name="DescentMilliseconds">Wall time of the descent (the GPU solver's steps and its read-back).</param>
    /// <param name="TotalMilliseconds">Wall time of the whole window solve: flows of new pairs, focal, start, descent, refinement.</param>
    /// <param name="Past">What the window's refinement did with the frozen keyframes' poses (<see cref="HeldPast"/>).</param>
    /// <param name="HeldMeanCost">The refinement's robust cost per unit of observation confidence with the frozen poses held where
    /// earlier windows put them; NaN when nothing was held.</param>
    /// <param name="RederivedMeanCost">The same for the refinement started from descent's re-derived poses (with
    /// ReconstructionOptions.ReleaseToGauge, the default, only the gauge fixed); NaN when that second refinement did not run
    /// (nothing held, or the held fit was exact).</param>
    internal sealed record WindowSolveTiming(int Keyframes, int FrozenKeyframes, int Steps, double DescentMilliseconds, double TotalMilliseconds,
        HeldPast Past = HeldPast.None, double HeldMeanCost = double.NaN, double RederivedMeanCost = double.NaN);

    /// <summary>What an online window's refinement did with the poses of its frozen keyframes.</summary>
    internal enum HeldPast
    {
        /// <summary>Nothing was held (the first windows, or no refinement).</summary>
        None,
        /// <summary>Held where the earlier windows put them, and the data did not reject it.</summary>
        Kept,
        /// <summary>The data rejected the held past: the refinement from descent's re-derived poses fitted better and stood.</summary>
        Released,
    }

    /// <summary>Counters of a running session.</summary>
    /// <param name="Pushed">Frames pushed.</param>
    /// <param name="Processed">Frames the pipeline finished.</param>
    /// <param name="Dropped">Frames dropped because the pipeline was behind (newest frame wins).</param>
    /// <param name="MedianLatencySeconds">Median push-to-result latency so far.</param>
    public sealed record SessionStats(long Pushed, long Processed, long Dropped, double MedianLatencySeconds)
    {
        /// <summary>Median milliseconds per pipeline stage (e.g. "flow", "solve", "fuse") over the last 1024 frames.</summary>
        public IReadOnlyDictionary<string, double> StageMedianMilliseconds { get; init; } = new Dictionary<string, double>();

        /// <summary>
        /// Points in the fused map's cloud so far: one per confirmed voxel (two keyframes put points near it; the points of
        /// <see cref="SessionResult.Points"/> once the session completes).
        /// </summary>
        public long MapPoints { get; init; }

        /// <summary>
        /// Voxels the fused map holds so far: its points, and those still waiting for a second keyframe to confirm them.
        /// What the map's memory grows with (about 41-47 bytes a voxel and the confirmation cells, see
        /// <see cref="MapBytes"/>), bounded: past a million voxels the voxel edge doubles and the map is merged into the
        /// coarser grid.
        /// </summary>
        public long MapVoxels { get; init; }

        /// <summary>
        /// Bytes the fused map holds so far (its accumulators, its voxel index at their arrays' lengths, and an estimate for
        /// its confirmation cells): the part of a
        /// session's memory that grows with the scene seen, apart from the frames and keyframes in flight.
        /// </summary>
        public long MapBytes { get; init; }
    }
}
