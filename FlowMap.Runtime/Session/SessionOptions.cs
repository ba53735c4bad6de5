using System;
using System.Threading;
using FlowMap.Depth;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlowMap.Session
{
    /// <summary>How a <see cref="ReconstructionSession"/> runs. The defaults suit a live camera.</summary>
    public sealed class SessionOptions
    {
        /// <summary>
        /// Processing size in pixels (frames are resized to it before flow and depth), each side from 16 to 4096. 0 x 0
        /// (default) picks about 320x240 keeping the input's aspect ratio.
        /// </summary>
        public int ProcessingWidth { get; set; }
        /// <summary>See <see cref="ProcessingWidth"/>.</summary>
        public int ProcessingHeight { get; set; }

        /// <summary>A known focal length in pixels at the INPUT resolution (fx = fy), or null to estimate it (default).</summary>
        public double? FocalPixels { get; set; }

        /// <summary>
        /// An ONNX monocular depth model used as the depth prior (e.g. Depth Anything V2 Small), or null (default): depth
        /// is then learned from optical flow alone. The model is checked when the session is created.
        /// </summary>
        public string? DepthModelPath { get; set; }

        /// <summary>Frames that may wait for the pipeline (at least 1). Default 2.</summary>
        public int QueueCapacity { get; set; } = 2;

        /// <summary>
        /// True (default, live use): when frames arrive faster than the pipeline runs, the oldest waiting frame is
        /// dropped (the newest wins) and counted, and the keyframe window is solved on a mapping thread of its own, so
        /// tracking never waits for it (results then depend on timing). False (replay of a recording):
        /// <see cref="ReconstructionSession.PushFrame(Frame)"/> waits for room, every frame is processed and mapping runs
        /// at each keyframe's own frame, so results are deterministic.
        /// </summary>
        public bool DropFrames { get; set; } = true;

        /// <summary>Part of a Vulkan device name to use (no match is an error), or null for the best device.</summary>
        public string? Device { get; set; }

        /// <summary>Turns on the Vulkan validation layer (slow; for development and tests).</summary>
        public bool Validation { get; set; }

        /// <summary>
        /// Where the depth model runs: Auto (default) takes the best execution provider this build and device offer (CUDA,
        /// CoreML, NNAPI/XNNPACK, else the CPU); a fallback's reason is logged and given in the first frame's warnings.
        /// </summary>
        public DepthExecutionProvider DepthProvider { get; set; } = DepthExecutionProvider.Auto;

        /// <summary>Where the library logs (the host's logger; the library never writes to the console). Default: nowhere.</summary>
        public ILogger Logger { get; set; } = NullLogger.Instance;

        /// <summary>Stops the session when cancelled (as <see cref="ReconstructionSession.Dispose"/> does).</summary>
        public CancellationToken Cancellation { get; set; }

        /// <summary>
        /// Tracking size as a fraction of the processing size per side (<see cref="Reconstruction.ReconstructionOptions.TrackingScale"/>):
        /// frames that are not keyframes are tracked with flow at this size. Internal (benchmarks compare values). Default
        /// 0.5 (160x120 at the default processing size), by measurement (README, "Tracking at a reduced size"): flow per
        /// tracked frame about 4x cheaper, online ATE on the synthetic walk unchanged, on ICL-NUIM not worse.
        /// </summary>
        internal double TrackingScale { get; set; } = 0.5;

        /// <summary>
        /// Frames tracked by the keyframe's textured points instead of dense flow
        /// (<see cref="Reconstruction.ReconstructionOptions.SparseTracking"/>). Internal (benchmarks compare both: `bench live
        /// --dense-tracking`). Default true, by measurement (README, "Tracking by points"): 17-22 frames per second posed of a
        /// 30 fps stream, latency 79-90 ms, tracking 18-22 ms per frame, and, since a first window solve at an undetermined
        /// focal is provisional (solved again with the backlog instead of frozen by it), the final trajectory within 25 % of an
        /// online reconstruction of the same frames in 5 of 6 runs (the sixth 1.29 % of path against 0.87 %; before that fix
        /// it broke in 4 of 8, up to 13 %).
        /// </summary>
        internal bool SparseTracking { get; set; } = true;

        /// <summary>
        /// Mapping far behind: waiting keyframes culled to keep tracking choosing keyframes
        /// (<see cref="Reconstruction.ReconstructionOptions.CullBacklog"/>). Internal, on by default (`bench live --no-backlog-culling`
        /// turns it off).
        /// </summary>
        internal bool CullBacklog { get; set; } = true;

        /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
        public void Validate()
        {
            if (ProcessingWidth < 0 || ProcessingHeight < 0 || (ProcessingWidth == 0) != (ProcessingHeight == 0))
                throw new ArgumentException($"Processing size {ProcessingWidth}x{ProcessingHeight}: give both (each from " +
                                            $"{Reconstruction.ImageResampler.MinProcessingSide} to {Reconstruction.ImageResampler.MaxProcessingSide}) or neither.");
            if (ProcessingWidth != 0 && Reconstruction.ImageResampler.CheckProcessingSize(ProcessingWidth, ProcessingHeight) is string bad)
                throw new ArgumentException(bad);
            if (FocalPixels.HasValue && !(FocalPixels.Value > 0 && !double.IsInfinity(FocalPixels.Value)))
                throw new ArgumentException($"Focal {FocalPixels} px must be a positive number.");
            if (QueueCapacity < 1) throw new ArgumentException("QueueCapacity must be at least 1.");
        }
    }
}
