using System;
using System.Collections.Generic;
using FlowMap.Session;

namespace FlowMap.Viewer.Scenes
{
    /// <summary>
    /// A running reconstruction as a viewer scene. Subscribes to <see cref="ReconstructionSession.FrameProcessed"/> and keeps
    /// only the latest state: every pose (the trajectory), keyframe indices, the newest intrinsics, depth, image and flow,
    /// and the new points as append-only chunks (past <see cref="PointBudget"/> replaced by the session's fused map). Refined keyframe poses (<see cref="ReconstructionSession.KeyframesRefined"/>)
    /// replace the live ones; on completion (<see cref="ReconstructionSession.Finished"/>) the trajectory becomes the final
    /// poses and the last keyframes' points, which no frame update carried, are added. The event handler does O(1) work under a short lock, so the pipeline
    /// thread is never held up by drawing; the render thread takes a snapshot per frame (cached until something changes).
    /// </summary>
    public sealed class LiveScene : IViewerScene, IDisposable
    {
        private readonly object _lock = new object();
        private readonly ReconstructionSession? _session;
        private readonly List<CameraPose> _trajectory = new List<CameraPose>();
        private readonly Dictionary<int, int> _slotOfFrame = new Dictionary<int, int>(); // frame index -> trajectory position
        private readonly List<int> _keyframes = new List<int>();
        private readonly List<PointCloud> _chunks = new List<PointCloud>();
        private long _chunkPoints, _pointsGeneration;
        private Intrinsics? _intrinsics;
        private RgbImage? _image;
        private FloatImage? _depth;
        private FlowField? _flow;
        private IReadOnlyDictionary<string, double> _stages = new Dictionary<string, double>();
        private int _frameNumber = -1;
        private long _version, _insetVersion;
        private string? _status = "waiting for frames";
        private ViewerSnapshot? _cached;
        private long _cachedVersion = -1;

        /// <summary>A scene fed by <see cref="Post"/> (e.g. from a recorded run or a custom pipeline).</summary>
        public LiveScene(string title = "FlowMap live")
        {
            Title = title ?? throw new ArgumentNullException(nameof(title));
        }

        /// <summary>A scene fed by <paramref name="session"/>'s events until disposed.</summary>
        public LiveScene(ReconstructionSession session, string title = "FlowMap live") : this(title)
        {
            _session = session ?? throw new ArgumentNullException(nameof(session));
            _session.FrameProcessed += Post;
            _session.Failed += OnFailed;
            _session.KeyframesRefined += Refine;
            _session.Finished += Finish;
        }

        public string Title { get; }

        /// <summary>
        /// The most points the scene keeps as received chunks: each fused keyframe's points arrive as a chunk (the same
        /// surfaces again with every keyframe), so past this many the chunks are replaced by the session's fused map
        /// (<see cref="ReconstructionSession.GetMap"/>, one point per confirmed voxel, bounded) and new chunks append to it. A
        /// long live session then holds at most this many points plus the map, where it grew without bound. Scenes fed by
        /// <see cref="Post"/> without a session keep every chunk.
        /// </summary>
        public long PointBudget { get; set; } = 4_000_000;

        /// <summary>Times the chunks were replaced by the map (<see cref="PointBudget"/>).</summary>
        public long Compactions { get { lock (_lock) return _pointsGeneration; } }

        /// <summary>Frames received so far.</summary>
        public int FramesReceived { get { lock (_lock) return _trajectory.Count; } }

        /// <summary>Adds one pipeline update. Thread-safe; cheap (list appends and reference swaps under a short lock).</summary>
        public void Post(FrameUpdate update)
        {
            if (update == null) throw new ArgumentNullException(nameof(update));
            lock (_lock)
            {
                _slotOfFrame[update.FrameIndex] = _trajectory.Count;
                _trajectory.Add(update.Pose);
                if (update.IsKeyframe) _keyframes.Add(_trajectory.Count - 1);
                if (update.NewPoints != null && update.NewPoints.Count > 0) { _chunks.Add(update.NewPoints); _chunkPoints += update.NewPoints.Count; }
                if (update.Intrinsics != null) _intrinsics = update.Intrinsics;
                if (update.Image != null || update.Depth != null || update.Flow != null)
                {
                    if (update.Image != null) _image = update.Image;
                    if (update.Depth != null) _depth = update.Depth;
                    if (update.Flow != null) _flow = update.Flow;
                    _insetVersion++;
                }
                _stages = update.StageMilliseconds;
                _frameNumber = update.FrameIndex;
                _status = update.Warnings.Count > 0 ? string.Join("; ", update.Warnings) : "live";
                _version++;
            }
            Compact();
        }

        /// <summary>
        /// Past <see cref="PointBudget"/>, the chunks become the session's map (read outside the scene's lock: the copy
        /// takes milliseconds per hundred thousand points, and drawing must not wait for it). On the pipeline thread (the
        /// event handler), where no keyframe is being fused meanwhile.
        /// </summary>
        private void Compact()
        {
            if (_session == null) return;
            int upTo;
            lock (_lock)
            {
                if (_chunkPoints <= PointBudget) return;
                upTo = _chunks.Count;
            }
            PointCloud map;
            try { map = _session.GetMap(); }
            catch (ObjectDisposedException) { return; } // the session is being disposed: nothing to replace the chunks with
            // An empty map (nothing confirmed yet) would leave nothing on screen: keep the chunks until the map has points.
            if (map.Count == 0) return;
            lock (_lock)
            {
                // Chunks that arrived meanwhile (none from the pipeline thread; Post from elsewhere) stay after the map.
                _chunks.RemoveRange(0, upTo);
                _chunks.Insert(0, map);
                _chunkPoints = 0;
                foreach (var c in _chunks) _chunkPoints += c.Count;
                _pointsGeneration++;
                _version++;
            }
        }

        /// <summary>
        /// Replaces the poses of frames already received with refined ones (frames not received, e.g. dropped, are ignored).
        /// Thread-safe.
        /// </summary>
        public void Refine(IReadOnlyList<FramePose> poses)
        {
            if (poses == null) throw new ArgumentNullException(nameof(poses));
            lock (_lock)
            {
                bool changed = false;
                foreach (var p in poses)
                    if (_slotOfFrame.TryGetValue(p.FrameIndex, out int slot)) { _trajectory[slot] = p.Pose; changed = true; }
                if (changed) _version++;
            }
        }

        /// <summary>The session's final result: final poses, the points fused on completion, and "finished". Thread-safe.</summary>
        public void Finish(SessionResult result)
        {
            if (result == null) throw new ArgumentNullException(nameof(result));
            Refine(result.Poses);
            lock (_lock)
            {
                if (result.NewPoints.Count > 0) { _chunks.Add(result.NewPoints); _chunkPoints += result.NewPoints.Count; }
                _status = "finished";
                _version++;
            }
        }

        /// <summary>Marks the run finished (shown on screen).</summary>
        public void MarkFinished(string status = "finished")
        {
            lock (_lock) { _status = status; _version++; }
        }

        private void OnFailed(Exception e) => MarkFinished("pipeline failed: " + e.Message);

        public ViewerSnapshot Snapshot()
        {
            lock (_lock)
            {
                if (_cached != null && _cachedVersion == _version) return _cached;
                _cached = new ViewerSnapshot
                {
                    PointChunks = _chunks.ToArray(), PointsGeneration = _pointsGeneration, Trajectory = _trajectory.ToArray(), Keyframes = _keyframes.ToArray(), Intrinsics = _intrinsics,
                    CurrentFrame = _trajectory.Count - 1, FrameNumber = _frameNumber, Image = _image, Depth = _depth, Flow = _flow,
                    InsetVersion = _insetVersion, StageMilliseconds = _stages, Status = _status,
                };
                _cachedVersion = _version;
                return _cached;
            }
        }

        public void Dispose()
        {
            if (_session != null)
            {
                _session.FrameProcessed -= Post;
                _session.Failed -= OnFailed;
                _session.KeyframesRefined -= Refine;
                _session.Finished -= Finish;
            }
        }
    }
}
