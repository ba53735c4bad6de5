using System;
using System.Threading;

namespace FlowMap.Flow
{
    /// <summary>
    /// Dense optical flow between two frames of the same size, both directions, with per-pixel confidence.
    /// Conventions as <see cref="FlowField"/>: pixels, x right, y down, pixel centres at integers.
    /// </summary>
    internal sealed class FlowResult
    {
        public FlowResult(FlowField forward, FlowField backward, FloatImage forwardConfidence, FloatImage backwardConfidence)
        {
            Forward = forward ?? throw new ArgumentNullException(nameof(forward));
            Backward = backward ?? throw new ArgumentNullException(nameof(backward));
            ForwardConfidence = forwardConfidence ?? throw new ArgumentNullException(nameof(forwardConfidence));
            BackwardConfidence = backwardConfidence ?? throw new ArgumentNullException(nameof(backwardConfidence));
            if (backward.Width != forward.Width || backward.Height != forward.Height
                || forwardConfidence.Width != forward.Width || forwardConfidence.Height != forward.Height
                || backwardConfidence.Width != forward.Width || backwardConfidence.Height != forward.Height)
                throw new ArgumentException("Flow fields and confidences must all have the same size.");
        }

        /// <summary>Flow from frame a to frame b.</summary>
        public FlowField Forward { get; }
        /// <summary>Flow from frame b to frame a.</summary>
        public FlowField Backward { get; }
        /// <summary>Confidence of <see cref="Forward"/> per pixel of a, in [0, 1] (forward-backward consistency and photometric agreement).</summary>
        public FloatImage ForwardConfidence { get; }
        /// <summary>Confidence of <see cref="Backward"/> per pixel of b, in [0, 1].</summary>
        public FloatImage BackwardConfidence { get; }
        public int Width => Forward.Width;
        public int Height => Forward.Height;
    }

    /// <summary>A dense optical flow estimator (the Vulkan one, or an ONNX model). Not thread-safe: one caller at a time.</summary>
    internal interface IFlowEstimator : IDisposable
    {
        /// <summary>Short name for reports, e.g. "vulkan-pyramid" or "onnx:raft_small.onnx".</summary>
        string Name { get; }

        /// <summary>
        /// Flow between <paramref name="a"/> and <paramref name="b"/> (same size, at least 2x2) at their resolution.
        /// Never returns NaN; throws <see cref="ArgumentException"/> on mismatched or empty images.
        /// </summary>
        FlowResult Estimate(RgbImage a, RgbImage b, CancellationToken token = default);
    }
}
