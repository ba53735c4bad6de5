using System;
using System.Threading;
using FlowMap.Session;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// The session's per-frame work done by a <see cref="ReconstructionPipeline"/> (online mode): one live
    /// <see cref="FrameUpdate"/> per frame. Final estimates still arrive through <see cref="ReconstructionPipeline.FrameFinalized"/>.
    /// </summary>
    internal sealed class PipelineFrameProcessor : IFrameProcessor
    {
        private readonly ReconstructionPipeline _pipeline;

        public PipelineFrameProcessor(ReconstructionPipeline pipeline)
        {
            _pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
            if (pipeline.Mode != ReconstructionMode.Online) throw new ArgumentException("A live session needs an online pipeline.");
        }

        public ReconstructionPipeline Pipeline => _pipeline;

        public FrameUpdate Process(Frame frame, CancellationToken token) =>
            _pipeline.Process(frame, token) ?? throw new InvalidOperationException("An online pipeline returned no update.");

        public void Dispose() => _pipeline.Dispose();
    }
}
