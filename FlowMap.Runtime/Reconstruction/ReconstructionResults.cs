using System;
using System.Collections.Generic;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// The final estimate for one frame: emitted by <see cref="ReconstructionPipeline.FrameFinalized"/> once nothing will
    /// change it any more (online: when its keyframe leaves the active part of the window; offline: after the solve).
    /// </summary>
    internal sealed class FrameEstimate
    {
        public int Index { get; internal set; }
        /// <summary>Source name (file name for image folders, "NNNNNN.png" otherwise).</summary>
        public string Name { get; internal set; } = "";
        public double TimestampSeconds { get; internal set; }
        /// <summary>Camera-to-world, OpenCV axes, frame 0 = identity, the reconstruction's arbitrary scale.</summary>
        public CameraPose Pose { get; internal set; }
        public bool IsKeyframe { get; internal set; }
        /// <summary>z-depth at the processing size, the poses' scale.</summary>
        public FloatImage Depth { get; internal set; } = null!;
        /// <summary>Confidence in [0, 1] at the processing size.</summary>
        public FloatImage Confidence { get; internal set; } = null!;
    }

    /// <summary>What a whole reconstruction produced (per-frame depth is delivered through <see cref="ReconstructionPipeline.FrameFinalized"/>).</summary>
    internal sealed class ReconstructionResult
    {
        public ReconstructionMode Mode { get; internal set; }
        /// <summary>Input frame size (of the first frame).</summary>
        public int InputWidth { get; internal set; }
        public int InputHeight { get; internal set; }
        private Intrinsics _processing = null!, _input = null!;

        /// <summary>
        /// Intrinsics at the processing size (one focal, principal point at the centre); their radial distortion is
        /// <see cref="K1"/> (whatever K1 the assigned value had).
        /// </summary>
        public Intrinsics Processing { get => WithK1(_processing); internal set => _processing = value; }
        /// <summary>The same camera at the input size (the same <see cref="K1"/>: it acts on focal-normalised coordinates).</summary>
        public Intrinsics Input { get => WithK1(_input); internal set => _input = value; }
        /// <summary>
        /// The estimated radial distortion coefficient (COLMAP SIMPLE_RADIAL, <see cref="Intrinsics.K1"/>; 0 when not
        /// estimated). <see cref="Processing"/> and <see cref="Input"/> carry it.
        /// </summary>
        public double K1 { get; init; }
        /// <summary>Final camera-to-world pose of every processed frame, in frame order.</summary>
        public IReadOnlyList<(int Index, string Name, CameraPose Pose)> Poses { get; internal set; } = Array.Empty<(int, string, CameraPose)>();
        public int Keyframes { get; internal set; }
        /// <summary>
        /// Relative standard deviation of the estimated focal as the motion determines it (0.01 = 1 %); null when the focal
        /// was given or not estimated. A warning says when the motion does not determine it.
        /// </summary>
        public double? FocalRelStd { get; internal set; }
        /// <summary>The fused coloured point cloud (world = frame 0's camera).</summary>
        public PointCloud Points { get; internal set; } = PointCloud.Empty;
        /// <summary>Low parallax, static camera, resolution changes, unobservable focal, ...</summary>
        public IReadOnlyList<string> Warnings { get; internal set; } = Array.Empty<string>();
        /// <summary>Median milliseconds per frame of each pipeline stage (solver stages included).</summary>
        public IReadOnlyDictionary<string, double> StageMedianMilliseconds { get; internal set; } = new Dictionary<string, double>();
        /// <summary>Total milliseconds spent in each stage.</summary>
        public IReadOnlyDictionary<string, double> StageTotalMilliseconds { get; internal set; } = new Dictionary<string, double>();
        /// <summary>Every online window solve, in order (<see cref="KeyframeSolver.WindowSolves"/>).</summary>
        public IReadOnlyList<FlowMap.Session.WindowSolveTiming> WindowSolves { get; internal set; } = Array.Empty<FlowMap.Session.WindowSolveTiming>();
        /// <summary>How far mapping fell behind tracking (<see cref="ReconstructionState.Backlog"/>).</summary>
        public FlowMap.Session.MappingBacklog Backlog { get; internal set; } = FlowMap.Session.MappingBacklog.None;
        /// <summary>Names of the components used, e.g. flow "vulkan-pyramid", prior "none".</summary>
        public IReadOnlyDictionary<string, string> Components { get; internal set; } = new Dictionary<string, string>();

        private Intrinsics WithK1(Intrinsics k) => k == null || k.K1 == K1 ? k! : k with { K1 = K1 };
    }
}
