// FlowMap's Unity component: drop it on a GameObject, push camera frames into it, receive poses and points on the main
// thread in Unity's axes. Compiled by Unity only (it references UnityEngine); the axis conversions it uses are
// FlowMap.Core.UnityAxes in FlowMap.Runtime.dll, tested there without Unity.
using System;
using System.Collections.Concurrent;
using System.Threading.Tasks;
using FlowMap.Core;
using FlowMap.Depth;
using FlowMap.Session;
using Microsoft.Extensions.Logging;
using UnityEngine;
using UnityEngine.Events;

namespace FlowMap.Engine.Unity
{
    /// <summary>
    /// A FlowMap reconstruction session as a component. Camera feed in: <see cref="PushFrame(Color32[], int, int)"/> (or the
    /// raw-bytes overload) from any thread. Out, raised on the main thread in <c>Update</c>: <see cref="poseUpdated"/>
    /// (camera position and rotation, Unity axes), <see cref="PointsAdded"/> (new fused points, Unity axes, RGB colours),
    /// <see cref="FrameProcessed"/> (the full update, FlowMap's OpenCV axes) and <see cref="Warning"/>. The session starts in
    /// OnEnable, off the main thread (creating it builds and runs its GPU kernels once: about half a second, a few seconds on a
    /// device's first run), and is ready when <see cref="IsReady"/> is true; frames pushed before are not taken. It stops in
    /// OnDisable (its pipeline thread and Vulkan device are released).
    /// </summary>
    [DisallowMultipleComponent]
    public sealed class FlowMapSession : MonoBehaviour
    {
        [Serializable] public sealed class PoseEvent : UnityEvent<Vector3, Quaternion> { }

        [Tooltip("Processing size in pixels (0 x 0: about 320x240 keeping the camera's aspect).")]
        public int processingWidth, processingHeight;
        [Tooltip("Optional ONNX depth model in StreamingAssets (e.g. Depth Anything V2 Small); empty: depth from flow alone.")]
        public string depthModelFile = "";
        [Tooltip("Where the depth model runs; Auto takes the best provider the device offers (CoreML, NNAPI, CUDA, else CPU).")]
        public DepthExecutionProvider depthProvider = DepthExecutionProvider.Auto;
        [Tooltip("Live camera: drop the oldest waiting frame when the pipeline is behind. Off for recordings.")]
        public bool dropFrames = true;
        [Tooltip("Scale applied to FlowMap's reconstruction units (a monocular scale is arbitrary).")]
        public float worldScale = 1f;

        /// <summary>The latest camera pose in Unity's axes (main thread).</summary>
        public PoseEvent poseUpdated = new PoseEvent();

        /// <summary>Points fused at a frame: positions in Unity's axes (scaled), colours (main thread).</summary>
        public event Action<Vector3[], Color32[]> PointsAdded;

        /// <summary>Every processed frame as FlowMap gives it (OpenCV axes), on the main thread.</summary>
        public event Action<FrameUpdate> FrameProcessed;

        /// <summary>Warnings of the session (low parallax, depth provider fallback, failure), on the main thread.</summary>
        public event Action<string> Warning;

        /// <summary>The running session, or null while it starts, when the component is disabled or when it failed to start.</summary>
        public ReconstructionSession Session { get; private set; }

        /// <summary>Whether the session has started and takes frames (main thread; set in the first Update after it started).</summary>
        public bool IsReady => Session != null;

        private Task<ReconstructionSession> _starting;

        private readonly ConcurrentQueue<FrameUpdate> _updates = new ConcurrentQueue<FrameUpdate>();
        private readonly ConcurrentQueue<string> _warnings = new ConcurrentQueue<string>();

        private void OnEnable()
        {
            var options = new SessionOptions
            {
                ProcessingWidth = processingWidth,
                ProcessingHeight = processingHeight,
                DropFrames = dropFrames,
                DepthProvider = depthProvider,
                DepthModelPath = string.IsNullOrEmpty(depthModelFile) ? null : System.IO.Path.Combine(Application.streamingAssetsPath, depthModelFile),
                Logger = new UnityLogger(),
            };
            // Not on the main thread: a frame of the app would last as long as the session's start.
            _starting = Task.Run(() => ReconstructionSession.Create(options));
        }

        /// <summary>Takes the started session (main thread, in Update), or reports why it could not start and disables the component.</summary>
        private void Started(Task<ReconstructionSession> starting)
        {
            if (starting.Status != TaskStatus.RanToCompletion)
            {
                // No Vulkan driver, an unusable model: the message says what to install or fix.
                var e = starting.Exception?.InnerException;
                Debug.LogError("FlowMap could not start: " + (e?.Message ?? "cancelled"));
                enabled = false;
                return;
            }
            var session = starting.Result;
            // Raised on FlowMap's pipeline thread: only queue here; Unity objects are touched in Update.
            session.FrameProcessed += _updates.Enqueue;
            session.Failed += e => _warnings.Enqueue("FlowMap stopped: " + e.Message);
            Session = session;
        }

        /// <summary>Pushes a frame of Unity pixels (Color32[], bottom row first, as WebCamTexture.GetPixels32 gives).</summary>
        /// <returns>False when an older waiting frame was dropped to make room, or the session is not ready (<see cref="IsReady"/>).</returns>
        public bool PushFrame(Color32[] pixels, int width, int height)
        {
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<Color32>(pixels));
            return PushFrame(bytes, width, height, width * 4, PixelFormat.Rgba32, bottomRowFirst: true);
        }

        /// <summary>Pushes raw pixels (any thread; the session copies them). Time stamps are seconds since start-up. False: as above.</summary>
        public bool PushFrame(ReadOnlySpan<byte> pixels, int width, int height, int strideBytes, PixelFormat format, bool bottomRowFirst)
        {
            var s = Session;
            return s != null && s.PushFrame(pixels, width, height, strideBytes, format, Time.realtimeSinceStartupAsDouble, bottomRowFirst);
        }

        private void Update()
        {
            if (_starting != null && _starting.IsCompleted)
            {
                var starting = _starting;
                _starting = null;
                Started(starting);
            }
            while (_warnings.TryDequeue(out var w)) Warning?.Invoke(w);
            while (_updates.TryDequeue(out var u))
            {
                foreach (var w in u.Warnings) Warning?.Invoke(w);
                var p = UnityAxes.Position(u.Pose);
                var q = UnityAxes.Rotation(u.Pose);
                poseUpdated.Invoke(new Vector3(p.X, p.Y, p.Z) * worldScale, new Quaternion(q.X, q.Y, q.Z, q.W));
                var cloud = u.NewPoints;
                if (cloud != null && cloud.Count > 0 && PointsAdded != null)
                {
                    var xyz = new float[cloud.Positions.Length];
                    UnityAxes.Positions(cloud, xyz);
                    var positions = new Vector3[cloud.Count];
                    var colours = new Color32[cloud.Count];
                    for (int i = 0; i < cloud.Count; i++)
                    {
                        positions[i] = new Vector3(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]) * worldScale;
                        colours[i] = new Color32(cloud.Colors[3 * i], cloud.Colors[3 * i + 1], cloud.Colors[3 * i + 2], 255);
                    }
                    PointsAdded(positions, colours);
                }
                FrameProcessed?.Invoke(u);
            }
        }

        private void OnDisable()
        {
            // Still starting: the session is released once it has started (or its failure observed), off the main thread.
            _starting?.ContinueWith(t => { if (t.Status == TaskStatus.RanToCompletion) t.Result.Dispose(); else _ = t.Exception; }, TaskScheduler.Default);
            _starting = null;
            Session?.Dispose(); // stops the pipeline thread, frees the Vulkan device
            Session = null;
        }

        /// <summary>FlowMap's log (warnings and errors) to Unity's console.</summary>
        private sealed class UnityLogger : ILogger
        {
            public IDisposable BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception exception, Func<TState, Exception, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                var text = "FlowMap: " + formatter(state, exception);
                if (logLevel >= LogLevel.Error) Debug.LogError(text); else Debug.LogWarning(text);
            }
        }
    }
}
