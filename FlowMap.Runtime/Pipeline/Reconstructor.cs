using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using FlowMap.Capture;
using FlowMap.Session;

namespace FlowMap.Reconstruction
{
    /// <summary>What <see cref="Reconstructor.Run"/> returns: the result and what was measured around the pipeline.</summary>
    public sealed class ReconstructionRun
    {
        public ReconstructionResult Result { get; internal set; } = null!;
        public int FramesIn { get; internal set; }
        public double WallSeconds { get; internal set; }
        /// <summary>Median milliseconds per frame spent reading (decoding) the input.</summary>
        public double ReadMedianMilliseconds { get; internal set; }
        /// <summary>Warnings of the frame source (skipped or damaged frames).</summary>
        public IReadOnlyList<string> SourceWarnings { get; internal set; } = Array.Empty<string>();
    }

    /// <summary>Runs a whole stream through a <see cref="ReconstructionPipeline"/>: read frame -> process -> ... -> finish.</summary>
    public static class Reconstructor
    {
        /// <summary>
        /// Smallest frame width and height: 16 pixels, the smallest processing size (<see cref="SessionOptions.Validate"/>);
        /// smaller frames run through the pipeline without error but give no points and no information.
        /// </summary>
        public const int MinFrameSide = 16;

        /// <param name="source">The frames.</param>
        /// <param name="pipeline">A fresh pipeline.</param>
        /// <param name="onLiveUpdate">Per-frame live updates (online mode), optional.</param>
        /// <param name="onFrameRead">Called after each frame read with (frames read so far, total when known).</param>
        /// <param name="maxFrames">Stop after this many frames (null: all).</param>
        public static ReconstructionRun Run(IFrameSource source, ReconstructionPipeline pipeline, Action<FrameUpdate>? onLiveUpdate = null,
            Action<int, int?>? onFrameRead = null, int? maxFrames = null, CancellationToken token = default)
        {
            if (source == null) throw new ArgumentNullException(nameof(source));
            if (pipeline == null) throw new ArgumentNullException(nameof(pipeline));
            var wall = Stopwatch.StartNew();
            var reads = new List<double>();
            int n = 0;
            while (maxFrames == null || n < maxFrames)
            {
                token.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                if (!source.TryRead(out var frame)) break;                 // 1. read frame
                reads.Add(sw.Elapsed.TotalMilliseconds);
                if (frame.Image.Width < MinFrameSide || frame.Image.Height < MinFrameSide)
                    throw new System.IO.InvalidDataException($"frame {frame.Index} ({frame.Name}) is {frame.Image.Width}x{frame.Image.Height}: too small to reconstruct " +
                                                             $"(at least {MinFrameSide}x{MinFrameSide} pixels).");
                var update = pipeline.Process(frame, token);                 // 2. resize, flow, prior, solve, pose, fuse
                if (update != null) onLiveUpdate?.Invoke(update);            // 3. emit
                n++;
                onFrameRead?.Invoke(n, source.FrameCount is int c && maxFrames is int m ? Math.Min(c, m) : source.FrameCount ?? maxFrames);
            }
            if (n == 0) throw new System.IO.InvalidDataException(NoFramesMessage(source));
            var result = pipeline.Finish(token);                             // 4. final solve (offline), finalise, fused cloud
            reads.Sort();
            return new ReconstructionRun
            {
                Result = result,
                FramesIn = n,
                WallSeconds = wall.Elapsed.TotalSeconds,
                ReadMedianMilliseconds = reads.Count > 0 ? reads[reads.Count / 2] : 0,
                SourceWarnings = source.Warnings.ToList(),
            };
        }

        /// <summary>"X gave no readable frame: reason 1; reason 2; reason 3 (and N more).", with the source's own reasons.</summary>
        internal static string NoFramesMessage(IFrameSource source)
        {
            var w = source.Warnings;
            var msg = $"{source.Description} gave no readable frame";
            if (w.Count == 0) return msg + ".";
            msg += ": " + string.Join("; ", w.Take(3));
            return w.Count > 3 ? msg + $" (and {w.Count - 3} more)." : msg + ".";
        }
    }
}
