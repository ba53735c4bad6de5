using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowMap.Viewer.Scenes
{
    /// <summary>
    /// What the viewer draws, as an immutable snapshot taken once per frame. Points arrive as append-only chunks so a
    /// live reconstruction uploads only what is new; <see cref="PointsGeneration"/> changes when the whole cloud is replaced.
    /// All geometry is in the reconstruction's world frame (frame 0's camera, OpenCV axes, arbitrary scale).
    /// </summary>
    public sealed class ViewerSnapshot
    {
        /// <summary>Point chunks in arrival order; chunks already seen keep their positions in the list.</summary>
        public IReadOnlyList<PointCloud> PointChunks { get; init; } = Array.Empty<PointCloud>();
        /// <summary>Changes when <see cref="PointChunks"/> was replaced rather than appended to.</summary>
        public long PointsGeneration { get; init; }
        /// <summary>Camera-to-world pose of every frame so far, in frame order.</summary>
        public IReadOnlyList<CameraPose> Trajectory { get; init; } = Array.Empty<CameraPose>();
        /// <summary>Indices into <see cref="Trajectory"/> of the keyframes.</summary>
        public IReadOnlyList<int> Keyframes { get; init; } = Array.Empty<int>();
        /// <summary>Intrinsics of the frames (processing resolution), or null before they are known.</summary>
        public Intrinsics? Intrinsics { get; init; }
        /// <summary>Index into <see cref="Trajectory"/> of the current camera, or -1.</summary>
        public int CurrentFrame { get; init; } = -1;
        /// <summary>Frame number shown on screen (the stream's frame index), or -1.</summary>
        public int FrameNumber { get; init; } = -1;
        /// <summary>The current frame's pixels for the inset, or null.</summary>
        public RgbImage? Image { get; init; }
        /// <summary>The latest depth map (z-depth) for the inset, or null.</summary>
        public FloatImage? Depth { get; init; }
        /// <summary>The latest flow field (pixels, frame t to t+1) for the inset, or null.</summary>
        public FlowField? Flow { get; init; }
        /// <summary>Changes whenever <see cref="Image"/>, <see cref="Depth"/> or <see cref="Flow"/> changes.</summary>
        public long InsetVersion { get; init; }
        /// <summary>Milliseconds per pipeline stage for the latest frame.</summary>
        public IReadOnlyDictionary<string, double> StageMilliseconds { get; init; } = new Dictionary<string, double>();
        /// <summary>A short status (e.g. "live", "finished", a warning), or null.</summary>
        public string? Status { get; init; }

        public int PointCount => PointChunks.Sum(c => c.Count);
    }

    /// <summary>A source of snapshots: a finished output folder, a synthetic sequence's ground truth, or a live session.</summary>
    public interface IViewerScene
    {
        /// <summary>Window title / caption.</summary>
        string Title { get; }

        /// <summary>The latest state. Called on the render thread once per frame; must be cheap and must never block for long.</summary>
        ViewerSnapshot Snapshot();
    }

    /// <summary>A fixed scene held in memory (tests, screenshots of data built in code).</summary>
    public sealed class StaticScene : IViewerScene
    {
        private readonly ViewerSnapshot _snapshot;

        public StaticScene(string title, ViewerSnapshot snapshot)
        {
            Title = title ?? throw new ArgumentNullException(nameof(title));
            _snapshot = snapshot ?? throw new ArgumentNullException(nameof(snapshot));
        }

        public string Title { get; }
        public ViewerSnapshot Snapshot() => _snapshot;
    }
}
