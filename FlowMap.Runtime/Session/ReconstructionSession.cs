using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace FlowMap.Session
{
    /// <summary>The per-frame work behind a session (the live reconstruction pipeline). Called from one thread.</summary>
    internal interface IFrameProcessor : IDisposable
    {
        /// <summary>Processes one frame; null when the frame produced no update (nothing is raised then).</summary>
        FrameUpdate? Process(Frame frame, CancellationToken token);

        /// <summary>
        /// No more frames: finalises the reconstruction (the last window solved, the last keyframes fused, every frame
        /// posed) and returns it, or null when there is nothing to report (no frame was processed).
        /// </summary>
        SessionResult? Finish(CancellationToken token) => null;

        /// <summary>Points in the fused map's cloud so far (read from any thread).</summary>
        int MapPoints => 0;

        /// <summary>Voxels the fused map holds so far (read from any thread).</summary>
        int MapVoxels => 0;

        /// <summary>Bytes held by the fused map so far (read from any thread).</summary>
        long MapBytes => 0;

        /// <summary>The fused map's cloud now (read from any thread).</summary>
        PointCloud Map() => PointCloud.Empty;
    }

    /// <summary>
    /// The engine-facing entry point: an engine owns one session, pushes camera frames into it from any thread, and
    /// receives results as events (raised on the session's pipeline thread) or by polling <see cref="TryGetLatest"/>.
    /// Frames pushed faster than the pipeline runs wait in a bounded queue where the newest frame wins; drops are
    /// counted in <see cref="Stats"/>. Events, in order: per frame <see cref="KeyframesRefined"/> (when the mapping moved
    /// keyframes) then <see cref="FrameProcessed"/>; after <see cref="Complete"/> a last <see cref="KeyframesRefined"/> and
    /// <see cref="Finished"/>, then <see cref="Completion"/> completes. Dispose (or cancel the token given at creation) to stop.
    /// </summary>
    public sealed class ReconstructionSession : IDisposable
    {
        private readonly IFrameProcessor _processor;
        private readonly LatestFrameQueue<QueuedFrame> _queue;
        private readonly CancellationTokenSource _cts;
        private readonly Thread _thread;
        private readonly TaskCompletionSource<bool> _done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly RollingWindow _latencies = new RollingWindow(1024);
        private readonly Dictionary<string, RollingWindow> _stageMs = new Dictionary<string, RollingWindow>();
        private FrameUpdate? _latest;
        private SessionResult? _result;
        private long _pushed, _processed;
        private int _width, _height;
        private bool _disposed;

        /// <summary>A pushed frame waiting for the pipeline, with its push time (for the latency).</summary>
        private sealed class QueuedFrame
        {
            public QueuedFrame(Frame frame, double pushedAt) { Frame = frame; PushedAt = pushedAt; }
            public Frame Frame { get; }
            public double PushedAt { get; }
        }

        private readonly bool _dropFrames;

        /// <summary>
        /// Starts a session: picks the Vulkan device, checks the depth model if one is given, and starts the pipeline
        /// thread. Throws a clear exception when there is no usable Vulkan driver (naming what to install) or the model
        /// is unusable; nothing is left running then.
        /// </summary>
        public static ReconstructionSession Create(SessionOptions? options = null)
        {
            options ??= new SessionOptions();
            options.Validate();
            var processor = new FlowMap.Reconstruction.PipelineFrameProcessor(FlowMap.Reconstruction.ReconstructionComponents.CreateLivePipeline(options,
                mappingThread: FlowMap.Reconstruction.ReconstructionComponents.SessionMapsOnItsOwnThread(options)));
            try
            {
                return new ReconstructionSession(processor, options.QueueCapacity, options.Cancellation, options.DropFrames);
            }
            catch
            {
                processor.Dispose();
                throw;
            }
        }

        internal ReconstructionSession(IFrameProcessor processor, int queueCapacity = 2, CancellationToken token = default, bool dropFrames = true)
        {
            _processor = processor ?? throw new ArgumentNullException(nameof(processor));
            _dropFrames = dropFrames;
            _queue = new LatestFrameQueue<QueuedFrame>(queueCapacity);
            _cts = CancellationTokenSource.CreateLinkedTokenSource(token);
            _thread = new Thread(Loop) { IsBackground = true, Name = "FlowMap pipeline" };
            _thread.Start();
        }

        /// <summary>Raised on the pipeline thread after each processed frame. Handlers must not block for long.</summary>
        public event Action<FrameUpdate>? FrameProcessed;

        /// <summary>
        /// Raised on the pipeline thread when the mapping changed the poses of keyframes already delivered (in a
        /// <see cref="FrameUpdate"/> or an earlier refinement): each entry is a keyframe's frame index and its new
        /// camera-to-world pose. An engine moves what it anchored to those frames. Raised before the
        /// <see cref="FrameProcessed"/> of the frame during which the mapping ran, and once more on completion. A keyframe
        /// that mapping, far behind, culled (made a frame of the keyframe before it) comes once more with its final pose and
        /// <see cref="FramePose.IsKeyframe"/> false, and not after that.
        /// </summary>
        public event Action<IReadOnlyList<FramePose>>? KeyframesRefined;

        /// <summary>
        /// Raised on the pipeline thread after <see cref="Complete"/>, once the queued frames are processed and the
        /// reconstruction is finalised (the last keyframes solved and fused): the final poses of all frames, the points
        /// fused on completion and the whole cloud. Not raised when the session is cancelled, disposed or failed, or
        /// when no frame was processed. <see cref="Completion"/> completes after it.
        /// </summary>
        public event Action<SessionResult>? Finished;

        /// <summary>The final result once <see cref="Finished"/> was raised, else null. Thread-safe.</summary>
        public SessionResult? Result => Volatile.Read(ref _result);

        /// <summary>
        /// The fused map as it stands: one point per voxel that two keyframes confirmed (the cloud <see cref="SessionResult.Points"/>
        /// holds on completion), in world coordinates, bounded by the map's voxel limit. Where
        /// <see cref="FrameUpdate.NewPoints"/> hands over every fused keyframe's accepted pixels (the same surfaces again with
        /// each keyframe, and the streaks of depth no other keyframe confirmed), this is the map without repeats and without
        /// unconfirmed points: an engine that keeps a scene for a long session replaces its cloud with this one now and then
        /// (when <see cref="SessionStats.MapPoints"/> changed) instead of accumulating every update's points without bound.
        /// A copy, safe to call from any thread; it waits while a keyframe is being fused (tens of milliseconds), and costs
        /// time in proportion to the map (milliseconds per hundred thousand points): call it off the render loop's hot path.
        /// Empty before anything was fused.
        /// </summary>
        public PointCloud GetMap()
        {
            if (_disposed) throw new ObjectDisposedException(nameof(ReconstructionSession));
            return _processor.Map();
        }

        /// <summary>Raised on the pipeline thread when the pipeline fails; the session stops after it.</summary>
        public event Action<Exception>? Failed;

        /// <summary>Completes when the pipeline thread has finished (after <see cref="Complete"/>, cancellation or a failure).</summary>
        public Task Completion => _done.Task;

        /// <summary>Counters, median latency and median milliseconds per pipeline stage over the last 1024 frames. Thread-safe.</summary>
        public SessionStats Stats
        {
            get
            {
                double median;
                Dictionary<string, double> stages;
                lock (_latencies)
                {
                    median = _latencies.Median();
                    stages = _stageMs.ToDictionary(kv => kv.Key, kv => kv.Value.Median());
                }
                return new SessionStats(Interlocked.Read(ref _pushed), Interlocked.Read(ref _processed), _queue.Dropped, median)
                {
                    StageMedianMilliseconds = stages,
                    MapPoints = _processor.MapPoints,
                    MapVoxels = _processor.MapVoxels,
                    MapBytes = _processor.MapBytes,
                };
            }
        }

        /// <summary>
        /// Pushes one frame (copied before returning, so the caller may reuse its buffer). Thread-safe.
        /// </summary>
        /// <param name="pixels">Rows of <paramref name="width"/> pixels, <paramref name="strideBytes"/> apart, top row first.</param>
        /// <param name="width">Pixels per row.</param>
        /// <param name="height">Rows.</param>
        /// <param name="strideBytes">Bytes from one row to the next (at least width * bytes per pixel).</param>
        /// <param name="format">Pixel layout.</param>
        /// <param name="timestampSeconds">Capture time, seconds, increasing.</param>
        /// <param name="bottomRowFirst">True when the buffer starts with the bottom row (Unity's Color32[] and textures, OpenGL
        /// read-backs); FlowMap flips it so its images are top row first.</param>
        /// <returns>False when an older waiting frame was dropped to make room.</returns>
        public bool PushFrame(ReadOnlySpan<byte> pixels, int width, int height, int strideBytes, PixelFormat format, double timestampSeconds,
            bool bottomRowFirst = false)
        {
            int bpp = format == PixelFormat.Rgb24 ? 3 : 4;
            if (width < 1 || height < 1) throw new ArgumentException($"Frame size {width}x{height} is empty.");
            if (strideBytes < width * bpp) throw new ArgumentException($"Stride {strideBytes} is less than {width} pixels x {bpp} bytes.");
            if (pixels.Length < (long)strideBytes * (height - 1) + width * bpp)
                throw new ArgumentException($"A {width}x{height} frame with stride {strideBytes} needs {(long)strideBytes * (height - 1) + width * bpp} bytes, got {pixels.Length}.");
            var rgb = new byte[width * height * 3];
            for (int y = 0; y < height; y++)
            {
                var row = pixels.Slice(y * strideBytes, width * bpp);
                int o = (bottomRowFirst ? height - 1 - y : y) * width * 3;
                switch (format)
                {
                    case PixelFormat.Rgb24: row.CopyTo(rgb.AsSpan(o, width * 3)); break;
                    case PixelFormat.Rgba32:
                        for (int x = 0; x < width; x++) { rgb[o + 3 * x] = row[4 * x]; rgb[o + 3 * x + 1] = row[4 * x + 1]; rgb[o + 3 * x + 2] = row[4 * x + 2]; }
                        break;
                    case PixelFormat.Bgra32:
                        for (int x = 0; x < width; x++) { rgb[o + 3 * x] = row[4 * x + 2]; rgb[o + 3 * x + 1] = row[4 * x + 1]; rgb[o + 3 * x + 2] = row[4 * x]; }
                        break;
                    default: throw new ArgumentOutOfRangeException(nameof(format));
                }
            }
            long index = Interlocked.Increment(ref _pushed) - 1;
            return PushFrame(new Frame((int)index, timestampSeconds, new RgbImage(width, height, rgb), $"{index:D6}.png"), countPush: false);
        }

        /// <summary>
        /// Pushes a frame already in FlowMap's layout (the frame is not copied: do not modify it afterwards). With
        /// <see cref="SessionOptions.DropFrames"/> off this waits while the queue is full.
        /// </summary>
        public bool PushFrame(Frame frame) => PushFrame(frame, countPush: true);

        private bool PushFrame(Frame frame, bool countPush)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(ReconstructionSession));
            if (frame == null) throw new ArgumentNullException(nameof(frame));
            if (countPush) Interlocked.Increment(ref _pushed);
            lock (_queue)
            {
                if (_width == 0) { _width = frame.Image.Width; _height = frame.Image.Height; }
                else if (frame.Image.Width != _width || frame.Image.Height != _height)
                    throw new ArgumentException($"Frame {frame.Index} is {frame.Image.Width}x{frame.Image.Height}; this session's frames are {_width}x{_height}. " +
                                                "Start a new session for a new resolution.");
            }
            ThrowIfPipelineFailed();
            if (!_dropFrames)
            {
                try { _queue.PushWaiting(new QueuedFrame(frame, _clock.Elapsed.TotalSeconds), _cts.Token); }
                catch (InvalidOperationException) { ThrowIfPipelineFailed(); throw; }
                return true;
            }
            return _queue.Push(new QueuedFrame(frame, _clock.Elapsed.TotalSeconds)) == null;
        }

        /// <summary>The most recent update, or false before the first one. Thread-safe.</summary>
        public bool TryGetLatest(out FrameUpdate? update)
        {
            update = Volatile.Read(ref _latest);
            return update != null;
        }

        /// <summary>
        /// No more frames: the pipeline processes the queued ones, then finalises the reconstruction (solves the last
        /// window, fuses the last keyframes, poses every frame against its keyframe's final depth) and raises
        /// <see cref="KeyframesRefined"/> and <see cref="Finished"/>; then <see cref="Completion"/> completes.
        /// </summary>
        public void Complete() => _queue.Complete();

        private void Loop()
        {
            try
            {
                QueuedFrame? p;
                while ((p = _queue.Take(_cts.Token)) != null)
                {
                    var update = _processor.Process(p.Frame, _cts.Token);
                    Interlocked.Increment(ref _processed);
                    if (update == null) continue;
                    update.LatencySeconds = _clock.Elapsed.TotalSeconds - p.PushedAt;
                    lock (_latencies)
                    {
                        _latencies.Add(update.LatencySeconds);
                        foreach (var kv in update.StageMilliseconds)
                        {
                            if (!_stageMs.TryGetValue(kv.Key, out var w)) _stageMs[kv.Key] = w = new RollingWindow(1024);
                            w.Add(kv.Value);
                        }
                    }
                    Volatile.Write(ref _latest, update);
                    if (update.RefinedKeyframes.Count > 0) KeyframesRefined?.Invoke(update.RefinedKeyframes);
                    FrameProcessed?.Invoke(update);
                }
                // The queue is complete (not cancelled): finalise the reconstruction and hand over the result.
                _cts.Token.ThrowIfCancellationRequested();
                var result = _processor.Finish(_cts.Token);
                if (result != null)
                {
                    Volatile.Write(ref _result, result);
                    if (result.RefinedKeyframes.Count > 0) KeyframesRefined?.Invoke(result.RefinedKeyframes);
                    Finished?.Invoke(result);
                }
                _done.TrySetResult(true);
            }
            catch (OperationCanceledException)
            {
                _done.TrySetCanceled();
            }
            catch (Exception e)
            {
                Failed?.Invoke(e);
                _done.TrySetException(e);
                _queue.Complete(); // wakes a PushFrame waiting for room (DropFrames off): it throws instead of waiting forever
            }
        }

        /// <summary>A push after the pipeline thread failed is an InvalidOperationException carrying the failure (never a silent wait).</summary>
        private void ThrowIfPipelineFailed()
        {
            if (_done.Task.IsFaulted)
            {
                var e = _done.Task.Exception!.InnerException!;
                throw new InvalidOperationException("The reconstruction stopped: " + e.Message, e);
            }
        }

        /// <summary>Stops the pipeline (frames still queued are not processed), waits for its thread and releases the GPU and the model.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _cts.Cancel();
            _queue.Complete();
            _thread.Join();
            _processor.Dispose();
            _queue.Dispose();
            _cts.Dispose();
        }
    }

    /// <summary>The last N values of a series, for medians that do not grow with the session's length.</summary>
    internal sealed class RollingWindow
    {
        private readonly double[] _values;
        private int _count, _next;

        public RollingWindow(int capacity) { _values = new double[capacity]; }

        public void Add(double v)
        {
            _values[_next] = v;
            _next = (_next + 1) % _values.Length;
            if (_count < _values.Length) _count++;
        }

        public double Median()
        {
            if (_count == 0) return double.NaN;
            var s = new double[_count];
            Array.Copy(_values, s, _count);
            Array.Sort(s);
            return s[_count / 2];
        }
    }
}
