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
    internal sealed class ReconstructionRun
    {
        public ReconstructionResult Result { get; internal set; } = null!;
        public int FramesIn { get; internal set; }
        public double WallSeconds { get; internal set; }
        /// <summary>Median milliseconds per frame spent reading (decoding) the input.</summary>
        public double ReadMedianMilliseconds { get; internal set; }
        /// <summary>Warnings of the frame source (skipped or damaged frames) and about the run as a whole (an elongated frame).</summary>
        public IReadOnlyList<string> SourceWarnings { get; internal set; } = Array.Empty<string>();
    }

    /// <summary>Runs a whole stream through a <see cref="ReconstructionPipeline"/>: read frame -> process -> ... -> finish.</summary>
    internal static class Reconstructor
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
            ApplyNotes(result, ReconstructionComponents.Notes(pipeline));
            reads.Sort();
            var warnings = source.Warnings.ToList();
            if (ElongatedWarning(result.Processing.Width, result.Processing.Height, result.Keyframes, n) is string w) warnings.Add(w);
            return new ReconstructionRun
            {
                Result = result,
                FramesIn = n,
                WallSeconds = wall.Elapsed.TotalSeconds,
                ReadMedianMilliseconds = reads.Count > 0 ? reads[reads.Count / 2] : 0,
                SourceWarnings = warnings,
            };
        }

        /// <summary>Adds what the components say (the depth model's execution provider, and why it fell back) to the result.</summary>
        internal static void ApplyNotes(ReconstructionResult result, ReconstructionComponents.ComponentNotes notes)
        {
            var components = new Dictionary<string, string>(result.Components) { ["depth_provider"] = notes.DepthProvider };
            result.Components = components;
            if (notes.Warning != null && !result.Warnings.Contains(notes.Warning))
                result.Warnings = result.Warnings.Concat(new[] { notes.Warning }).ToList();
        }

        /// <summary>
        /// A warning when the processing size is so elongated that the flow cannot see ordinary motion, else null.
        /// The Vulkan flow's pyramid stops when its shorter side would drop under
        /// <see cref="FlowMap.Flow.VulkanFlowOptions.MinCoarsestSize"/> (24 px), so the coarsest level c = floor(log2(short / 24));
        /// the integer search there covers <see cref="FlowMap.Flow.VulkanFlowOptions.CoarseSearchRadius"/> (3) px plus about one
        /// px of refinement, i.e. about (3 + 1) * 2^c px at the processing size. At 320x240 that is 32 px (10 % of the width);
        /// a 4000x100 input processed at 1753x44 has c = 0 and about 4 px (0.2 %): frames moving 8-40 px per frame then look
        /// static (one keyframe, identity poses, no points). Warned below 2 % of the longer side.
        /// </summary>
        internal static string? ElongatedWarning(int width, int height, int keyframes, int frames)
        {
            var flow = new FlowMap.Flow.VulkanFlowOptions();
            int shortSide = Math.Min(width, height), longSide = Math.Max(width, height);
            int c = shortSide < flow.MinCoarsestSize ? 0 : (int)Math.Floor(Math.Log(shortSide / (double)flow.MinCoarsestSize, 2) + 1e-9);
            double range = (flow.CoarseSearchRadius + 1) * Math.Pow(2, c);
            if (range >= 0.02 * longSide) return null;
            return $"elongated frames: at the processing size {width}x{height} the optical flow finds at most about {range:F0} px of motion per frame " +
                   $"({100 * range / longSide:F1} % of the {(width >= height ? "width" : "height")}); faster motion is missed and the camera looks static " +
                   $"({keyframes} keyframe{(keyframes == 1 ? "" : "s")} for {frames} frames). Crop the frames, or give a processing size with a longer short side (--size)";
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
