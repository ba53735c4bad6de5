using System;
using System.Linq;
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

        public FrameUpdate Process(Frame frame, CancellationToken token)
        {
            var update = _pipeline.Process(frame, token) ?? throw new InvalidOperationException("An online pipeline returned no update.");
            // The components' own warning (a depth model that fell back to another execution provider) comes with the first frame.
            if (!_noted)
            {
                _noted = true;
                var warning = ReconstructionComponents.Notes(_pipeline).Warning;
                if (warning != null) update.Warnings = update.Warnings.Concat(new[] { warning }).ToList();
            }
            return update;
        }

        private bool _noted;

        public void Dispose() => _pipeline.Dispose();
    }
}
