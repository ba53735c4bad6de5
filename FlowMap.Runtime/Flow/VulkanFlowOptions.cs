using System;

namespace FlowMap.Flow
{
    /// <summary>
    /// Settings of <see cref="VulkanFlowEstimator"/>. Levels count from 0 (full resolution); level l is the image halved l
    /// times (ceil). Intensities are luminance in [0, 1]; distances in pixels of the level.
    /// </summary>
    internal sealed class VulkanFlowOptions
    {
        /// <summary>Gaussian blur (sigma in pixels of the finest estimated level) of both images before the pyramid; 0 = none.</summary>
        public float PreBlurSigma { get; set; } = 0f;
        /// <summary>Finest pyramid level that is estimated; the flow is then resampled to full resolution (0 = full).</summary>
        public int FinestLevel { get; set; } = 1;
        /// <summary>The coarsest level is the last whose smaller side is at least this many pixels.</summary>
        public int MinCoarsestSize { get; set; } = 24;
        /// <summary>At most this many levels below full resolution.</summary>
        public int MaxLevel { get; set; } = 7;
        /// <summary>Patch side of the inverse search (pixels).</summary>
        public int PatchSize { get; set; } = 8;
        /// <summary>Distance between patch origins (pixels); smaller = more overlap, better, slower.</summary>
        public int PatchStride { get; set; } = 4;
        /// <summary>Gauss-Newton iterations per patch and level.</summary>
        public int Iterations { get; set; } = 12;
        /// <summary>Integer search radius around the initial flow on the coarsest level (a small cost volume; large motion).</summary>
        public int CoarseSearchRadius { get; set; } = 3;
        /// <summary>Integer search radius on the other levels (0 = none).</summary>
        public int SearchRadius { get; set; } = 0;
        /// <summary>Densification: photometric differences below this count as this (luminance units).</summary>
        public float DensifyMinDiff { get; set; } = 1f / 255f;
        /// <summary>Variational refinement: linearisations per level, and SOR sweeps per linearisation.</summary>
        public int VariationalOuter { get; set; } = 2;
        public int VariationalInner { get; set; } = 5;
        /// <summary>Variational refinement weights: data (delta), smoothness (alpha), Charbonnier epsilons, edge awareness, SOR omega.</summary>
        public float Delta { get; set; } = 1f;
        public float Alpha { get; set; } = 0.06f;
        public float EpsData { get; set; } = 0.01f;
        public float EpsSmooth { get; set; } = 0.05f;
        public float EdgeAwareness { get; set; } = 5f;
        public float Omega { get; set; } = 1.6f;
        /// <summary>Confidence: forward-backward tolerance tau^2 = abs^2 + rel^2 (|u|^2 + |u_b|^2), photometric sigma.</summary>
        public float ConfidenceFbAbs { get; set; } = 0.5f;
        public float ConfidenceFbRel { get; set; } = 0.1f;
        public float ConfidencePhotoSigma { get; set; } = 0.05f;

        /// <summary>The default: estimated down to half resolution, then resampled (like DIS MEDIUM's finest scale).</summary>
        public static VulkanFlowOptions Fast() => new VulkanFlowOptions();

        /// <summary>Estimated at full resolution: lower error, about 3 to 4 times the work of <see cref="Fast"/>.</summary>
        public static VulkanFlowOptions Accurate() => new VulkanFlowOptions { FinestLevel = 0 };

        /// <summary>
        /// The mapper's keyframe pairs (offline): estimated at full resolution like <see cref="Accurate"/>, without the
        /// variational refinement. Measured on ICL-NUIM offline (`bench reconstruct --sequences icl --modes offline`): focal
        /// error +1.75 -> +1.44 %, ATE 1.19 -> 1.10 cm, pair flows 43.7 -> 19.6 s; a weaker smoothness (alpha 0.02) or a
        /// stronger edge awareness (15) left the focal at +1.71 / +1.73 %. Against the exact flow of ICL-NUIM pairs 6 to 18
        /// frames apart (320x240) the refinement lowers the mean error away from depth edges only slightly (1.20 -> 1.16 px)
        /// and keeps a third more confidence on pixels near depth edges, where the error is 2.8-3.2 px.
        /// </summary>
        public static VulkanFlowOptions Mapping() => new VulkanFlowOptions { FinestLevel = 0, VariationalOuter = 0 };

        /// <summary>A preset by name: "fast" (default), "accurate" or "mapping".</summary>
        public static VulkanFlowOptions Preset(string name) => name?.Trim().ToLowerInvariant() switch
        {
            "fast" or "default" => Fast(),
            "accurate" => Accurate(),
            "mapping" => Mapping(),
            _ => throw new ArgumentException($"Unknown flow preset '{name}'; known: fast, accurate, mapping."),
        };

        internal void Validate()
        {
            if (FinestLevel < 0 || MaxLevel < 0 || MinCoarsestSize < 2) throw new ArgumentException("Pyramid levels must be >= 0 and MinCoarsestSize >= 2.");
            if (PatchSize < 2 || PatchSize > 8 || PatchStride < 1 || PatchStride > PatchSize) throw new ArgumentException("2 <= PatchSize <= 8 and 1 <= PatchStride <= PatchSize are needed.");
            if (Iterations < 0 || CoarseSearchRadius < 0 || SearchRadius < 0 || VariationalOuter < 0 || VariationalInner < 0)
                throw new ArgumentException("Iteration counts and radii must be >= 0.");
            if (!(Omega > 0 && Omega < 2)) throw new ArgumentException("SOR omega must be in (0, 2).");
        }
    }
}
