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
        /// <summary>z-depth at the processing resolution for keyframes, else null.</summary>
        public FloatImage? Depth { get; internal set; }
        /// <summary>Depth confidence in [0, 1] for keyframes, else null.</summary>
        public FloatImage? Confidence { get; internal set; }
        /// <summary>Points fused from this frame (world coordinates), or null.</summary>
        public PointCloud? NewPoints { get; internal set; }
        /// <summary>The frame's pixels at the processing resolution, for viewers (an inset), or null when the pipeline does not keep them.</summary>
        public RgbImage? Image { get; internal set; }
        /// <summary>Optical flow from the last keyframe before this frame to this frame (pixels, processing resolution), for viewers, or null (first frame).</summary>
        public FlowField? Flow { get; internal set; }
        /// <summary>Warnings raised at this frame (low parallax, static camera, ...).</summary>
        public IReadOnlyList<string> Warnings { get; internal set; } = Array.Empty<string>();
        /// <summary>Milliseconds per pipeline stage for this frame.</summary>
        public IReadOnlyDictionary<string, double> StageMilliseconds { get; internal set; } = new Dictionary<string, double>();
        /// <summary>Seconds from <c>ReconstructionSession.PushFrame</c> to this update.</summary>
        public double LatencySeconds { get; internal set; }
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
    }
}
