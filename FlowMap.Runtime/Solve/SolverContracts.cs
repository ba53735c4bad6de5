using System;
using System.Collections.Generic;
using System.Threading;
using FlowMap.Flow;

namespace FlowMap.Solve
{
    /// <summary>
    /// The observations of a window of N consecutive (key)frames at the processing size W x H: their images, the flow of
    /// each adjacent pair (Pairs[i] relates frame i and frame i + 1), and optionally a depth prior per frame.
    /// </summary>
    internal sealed class SolverWindow
    {
        public SolverWindow(IReadOnlyList<RgbImage> images, IReadOnlyList<FlowResult> pairs,
            IReadOnlyList<FloatImage>? priorInverseDepth = null, double? fixedFocal = null)
        {
            Images = images ?? throw new ArgumentNullException(nameof(images));
            Pairs = pairs ?? throw new ArgumentNullException(nameof(pairs));
            if (images.Count < 2) throw new ArgumentException("A window needs at least two frames.");
            if (pairs.Count != images.Count - 1) throw new ArgumentException($"{images.Count} frames need {images.Count - 1} flow pairs, got {pairs.Count}.");
            Width = images[0].Width; Height = images[0].Height;
            foreach (var im in images)
                if (im.Width != Width || im.Height != Height) throw new ArgumentException("All frames of a window must have the same size.");
            foreach (var p in pairs)
                if (p.Width != Width || p.Height != Height) throw new ArgumentException("Flow pairs must have the frames' size.");
            if (priorInverseDepth != null && priorInverseDepth.Count != images.Count) throw new ArgumentException("One depth prior per frame.");
            PriorInverseDepth = priorInverseDepth;
            if (fixedFocal.HasValue && !(fixedFocal.Value > 0)) throw new ArgumentException("A fixed focal must be positive.");
            FixedFocal = fixedFocal;
        }

        public int Width { get; }
        public int Height { get; }
        public int Count => Images.Count;
        public IReadOnlyList<RgbImage> Images { get; }
        public IReadOnlyList<FlowResult> Pairs { get; }
        /// <summary>Relative inverse depth per frame from a depth model, or null (depth learned from flow alone).</summary>
        public IReadOnlyList<FloatImage>? PriorInverseDepth { get; }
        /// <summary>A known focal in pixels at the processing size (both axes), or null to estimate it.</summary>
        public double? FixedFocal { get; }
    }

    /// <summary>Where a solve starts: parameters carried over from a previous, overlapping window (online mode).</summary>
    internal sealed class SolverWarmStart
    {
        /// <summary>Per frame of the new window: the z-depth it had in the previous solve, or null for a new frame.</summary>
        public IReadOnlyList<FloatImage?>? InitialDepth { get; init; }
        /// <summary>The focal (pixels at the processing size) of the previous solve.</summary>
        public double? Focal { get; init; }
        /// <summary>Frames (from the start of the window) whose depth is frozen: not updated by descent.</summary>
        public int FrozenFrames { get; init; }
    }

    /// <summary>The fitted window: poses, one focal, depth and confidence per frame.</summary>
    internal sealed class SolverResult
    {
        /// <summary>Camera-to-world poses (OpenCV axes), frame 0 of the window = identity, the window's scale.</summary>
        public CameraPose[] Poses { get; init; } = Array.Empty<CameraPose>();
        /// <summary>Focal in pixels at the processing size (fx = fy), principal point at the image centre.</summary>
        public double Focal { get; init; }
        /// <summary>z-depth per frame at the processing size, in the same scale as the poses.</summary>
        public FloatImage[] Depth { get; init; } = Array.Empty<FloatImage>();
        /// <summary>Per-pixel confidence in [0, 1] per frame.</summary>
        public FloatImage[] Confidence { get; init; } = Array.Empty<FloatImage>();
        /// <summary>Loss after the last step, and the number of descent steps taken.</summary>
        public double FinalLoss { get; init; }
        public int Steps { get; init; }
        /// <summary>
        /// Milliseconds per solver stage. Always: "steps" (the whole descent loop; divide by <see cref="Steps"/> for ms per
        /// step) and "total". GPU: "upload", "record", "gpu" (submit to completion), "readback", and with per-kernel timings
        /// (benches) "gpu:NAME" (a kernel's summed GPU time) and "calls:NAME" (its dispatches); CPU: "focal" (candidate scoring).
        /// </summary>
        public IReadOnlyDictionary<string, double> StageMilliseconds { get; init; } = new Dictionary<string, double>();
    }

    /// <summary>Fits poses, focal and depth of a window by gradient descent on the induced-flow loss (METHOD.md).</summary>
    internal interface IWindowSolver : IDisposable
    {
        SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default);
    }

    /// <summary>Descent settings; defaults are the tuned ones.</summary>
    internal sealed class SolverOptions
    {
        /// <summary>Gradient-descent steps for a fresh window (offline) or per incoming frame (online, warm-started).</summary>
        public int Steps { get; set; } = 300;
        /// <summary>
        /// Adam step size on the log inverse depth (and half of it on the log focal), decayed tenfold over the steps; a
        /// tenth of it when the depth is warm-started (<see cref="SolverWarmStart.InitialDepth"/>).
        /// </summary>
        public double LearningRate { get; set; } = 0.03;
        /// <summary>
        /// True (default): the gradient flows through the closed-form Procrustes poses (analytic 3x3 backward) into depth
        /// and focal. False: a stop-gradient through the poses (measured much less accurate; kept for comparison).
        /// </summary>
        public bool GradientThroughPoses { get; set; } = true;
        /// <summary>Seed for anything random, so solves are deterministic.</summary>
        public int Seed { get; set; } = 0;
        /// <summary>
        /// GPU solver: descent steps recorded into one queue submission with no host round-trip between them (1 = submit
        /// and wait for every step). The result does not depend on it; larger saves the per-submission cost.
        /// </summary>
        public int StepsPerSubmission { get; set; } = 25;
    }
}
