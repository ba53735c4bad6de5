using System;
using System.Linq;
using System.Threading;
using FlowMap.Core;
using FlowMap.Session;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// The session's per-frame work done by a <see cref="ReconstructionPipeline"/> (online mode): one live
    /// <see cref="FrameUpdate"/> per frame, and on completion the finished reconstruction as a <see cref="SessionResult"/>.
    /// Final per-frame estimates (with depth) still arrive through <see cref="ReconstructionPipeline.FrameFinalized"/>.
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

        public int MapPoints => _pipeline.MapPoints;

        public int MapVoxels => _pipeline.MapVoxels;

        public long MapBytes => _pipeline.MapBytes;

        public PointCloud Map() => _pipeline.MapSnapshot();

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

        /// <summary>
        /// Finishes the pipeline (the last window solved, the last keyframes fused, every frame posed) and gathers what the
        /// engine has not seen yet: the final poses of all frames, the points fused now, keyframes moved, all warnings.
        /// </summary>
        public SessionResult? Finish(CancellationToken token)
        {
            if (_pipeline.FramesIn == 0) return null;
            var r = _pipeline.Finish(token);
            return new SessionResult
            {
                Poses = _pipeline.FinalFramePoses(),
                Intrinsics = r.Processing,
                NewPoints = _pipeline.TakeFusedPoints() ?? PointCloud.Empty,
                Points = r.Points,
                Warnings = r.Warnings.Concat(ReconstructionComponents.Notes(_pipeline).Warning is string w && !r.Warnings.Contains(w) ? new[] { w } : Array.Empty<string>()).ToList(),
                RefinedKeyframes = _pipeline.TakeRefinedKeyframes(),
                StageTotalMilliseconds = r.StageTotalMilliseconds,
                WindowSolves = r.WindowSolves,
                Backlog = r.Backlog,
            };
        }

        public void Dispose() => _pipeline.Dispose();
    }
}
