using System;
using FlowMap.Fusion;
using FlowMap.Solve;

namespace FlowMap.Reconstruction
{
    /// <summary>How frames are turned into poses and depth.</summary>
    internal enum ReconstructionMode
    {
        /// <summary>Sliding window of keyframes, warm-started, a few descent steps per incoming frame; latency-bound.</summary>
        Online,
        /// <summary>All frames in one window solved at the end (recorded sequences); accuracy-bound.</summary>
        Offline,
    }

    /// <summary>Settings of a reconstruction. Defaults are the tuned ones; every field is optional.</summary>
    internal sealed class ReconstructionOptions
    {
        public ReconstructionMode Mode { get; set; } = ReconstructionMode.Online;

        /// <summary>Processing size (pixels); null: about 320x240 of area keeping the input's aspect (see <see cref="ImageResampler.DefaultProcessingSize"/>).</summary>
        public (int Width, int Height)? ProcessingSize { get; set; }

        /// <summary>A known focal in pixels of the INPUT resolution (both axes), or null to estimate it.</summary>
        public double? FocalPixels { get; set; }

        /// <summary>
        /// Online: a frame becomes a keyframe when the median flow from the last keyframe reaches this fraction of
        /// sqrt(W H) at the processing size (0.03 = about 8 px at 320x240).
        /// </summary>
        public double KeyframeFlowFraction { get; set; } = 0.03;

        /// <summary>Online: keyframes in the sliding window.</summary>
        public int WindowKeyframes { get; set; } = 6;

        /// <summary>Online: the newest keyframes of the window whose depth descent may still change; older ones are frozen.</summary>
        public int ActiveKeyframes { get; set; } = 3;

        /// <summary>Online: keyframes gathered before the first solve (two frames constrain the focal poorly).</summary>
        public int FirstWindowKeyframes { get; set; } = 3;

        /// <summary>Online: descent steps for the first window (nothing to warm-start from).</summary>
        public int FirstWindowSteps { get; set; } = 150;

        /// <summary>Online: descent steps when a keyframe joins the window (warm-started).</summary>
        public int KeyframeSteps { get; set; } = 40;

        /// <summary>Online: descent steps on the current window for each incoming frame that is not a keyframe (0 = none).</summary>
        public int StepsPerFrame { get; set; } = 0;

        /// <summary>
        /// Offline: the one window holds the keyframes chosen as online (wide baselines constrain focal and depth far
        /// better than adjacent frames, and the window is smaller), warm-started from the online sliding-window pass over
        /// the same frames; every other frame is then posed against its keyframe's final depth. False: literally every frame in the window, adjacent pairs (slow; weak focal on slow motion).
        /// </summary>
        public bool OfflineKeyframesOnly { get; set; } = true;

        /// <summary>
        /// Keyframe pairs of the mapper's graph: each keyframe with the next <see cref="PairSpan"/> keyframes (1 = adjacent
        /// only). Wider baselines determine the focal and the depth better; each extra pair costs one flow.
        /// </summary>
        public int PairSpan { get; set; } = 3;

        /// <summary>
        /// Offline over keyframes and online: the mapper's keyframe pairs (adjacent ones included) get their flow at full resolution
        /// (<see cref="FlowMap.Flow.VulkanFlowOptions.Mapping"/>) instead of tracking's half-resolution estimate. The focal
        /// and the refinement live on sub-pixel flow: ICL-NUIM offline focal +3.57 -> +1.75 %, ATE 1.24 -> 1.19 cm; synthetic
        /// walk +1.46 -> +0.52 % (full resolution with the variational refinement, for about three times the pair flow time);
        /// without that refinement (the mapping preset) ICL-NUIM +1.44 %, 1.10 cm, pair flows 19.6 s against tracking's 15.3 s
        /// (README, "How the geometry is solved"). `reconstruct --mode online` as well: ICL-NUIM online focal +3.92 -> +1.29 %.
        /// Sessions (live, whose mapping thread is behind already, and lossless ones, which replay what live did) keep
        /// tracking's flow. Tracking keeps the fast flow. Only with the Vulkan flow (an ONNX flow model does everything).
        /// </summary>
        public bool PreciseMappingFlow { get; set; } = true;

        /// <summary>Multi-view refinement (bundle adjustment of poses, depth, focal and k1 over the pair graph) after descent.</summary>
        public bool Refine { get; set; } = true;

        /// <summary>Refinement: one inverse-depth variable per this many pixels in x and y of the processing size.</summary>
        public int RefineStride { get; set; } = 8;

        /// <summary>
        /// Offline: the refined depth is brought from its <see cref="RefineStride"/> grid to the processing size guided by the
        /// keyframe's image (each pixel's four bilinear cells weighted by how close the cell's mean colour is to the pixel's,
        /// a Gaussian of this width in RGB units of [0, 1]), so depth edges follow image edges instead of spreading over a
        /// cell; 0 = plain bilinear. Online windows keep bilinear (their depth is carried into the next windows, and the
        /// guided depth made the online orbit's path 1.0 -> 3.2 % of its length).
        /// </summary>
        public double RefineGuideSigma { get; set; } = 0.1;

        /// <summary>
        /// Refinement: at most this many Levenberg-Marquardt linearisations (the Huber warm start and the Cauchy stage
        /// together); it stops earlier once a step lowers the cost by less than 1e-6. A cap of 8 stopped online windows
        /// with many flow outliers in their Cauchy stage (synthetic walk online ATE 2.59 % of path; 30: 0.51 %,
        /// `bench reconstruct --sequences walk --modes online --refine-iterations N`); offline the walk converges in 20.
        /// </summary>
        public int RefineIterations { get; set; } = 30;

        /// <summary>
        /// Offline refinement: once converged at the robust scale of 1 px, continue at the scale of the flow's own noise
        /// (<see cref="FlowMap.Solve.Refine.BundleOptions.ScaleFromResiduals"/>). The flow's errors are heavy-tailed, and the
        /// tail at 0.5-2 px, down-weighted little at 1 px, pulls the focal: ICL-NUIM offline ended at +0.98 / +1.44 / +2.08 %
        /// at fixed scales of 0.5 / 1 / 2 px, and at 448x336 instead of 320x240 (the same errors in smaller pixels) at +1.02 %.
        /// Online windows keep 1 px: there the phone video's ATE went from 1.21 to 3.44 % of the path and the orbit's from
        /// 1.02 to 1.11 % (ICL-NUIM 0.52 -> 0.39 %, the walk 0.37 -> 0.22 %); with a fresh iteration budget at each scale
        /// (the windows' fits mostly end at the 30 linearisations) the phone video 1.80 %, the walk 0.21 %, the orbit 0.86 %,
        /// and the windows' refinement took longer (the phone video's median per window 478 ms against 388 ms).
        /// </summary>
        public bool RefineScaleFromResiduals { get; set; } = true;

        /// <summary>
        /// Refinement: estimate one radial distortion coefficient (SIMPLE_RADIAL k1); false (default) keeps k1 = 0. With the
        /// flow of today's accuracy a free k1 trades against the focal: on the synthetic room walk (no distortion) offline,
        /// k1 free gave focal -12.8 % and ATE 0.82 % of the path, k1 fixed +1.5 % and 0.25 % (`bench reconstruct --sequences
        /// walk --modes offline`); with exact flow k1 = -0.2 is recovered to 1e-4 (GeometryPipelineTests). Turn it on for
        /// lenses with visible barrel distortion until the refinement decides by itself whether the data determine k1.
        /// </summary>
        public bool RefineK1 { get; set; }

        /// <summary>
        /// Offline: descent steps of the one solve when it starts from geometry (a determined or estimated focal). Measured on
        /// ICL-NUIM offline (`bench reconstruct --sequences icl --modes offline --offline-steps N`): 100 steps gave the same
        /// ATE (1.20 vs 1.19 cm), focal (+3.73 vs +3.74 %) and AbsRel (0.075 vs 0.0755) as 300 steps; that run took 78 s in all (descent 23 s) on a quiet 2-core machine (with the refinement then capped at 8 linearisations).
        /// </summary>
        public int OfflineGeometrySteps { get; set; } = 100;

        /// <summary>Offline: descent steps of the one window solve from flat depth (when nothing determines the focal).</summary>
        public int OfflineSteps { get; set; } = 300;

        /// <summary>
        /// Online: the solver runs on the window shrunk by the smallest integer factor that brings it to at most this many
        /// pixels (depth and confidence are brought back to the processing size). Its depth is a coarse grid, so this
        /// costs little accuracy and saves time per step.
        /// </summary>
        public int OnlineSolverPixels { get; set; } = 110 * 80;

        /// <summary>Offline: as <see cref="OnlineSolverPixels"/>, for the one solve over all frames.</summary>
        public int OfflineSolverPixels { get; set; } = 110 * 80;

        /// <summary>Below this total median flow (pixels at the processing size) over the whole stream the camera is treated as static.</summary>
        public double StaticFlowPixels { get; set; } = 1.0;

        /// <summary>Settings passed to the solver (learning rate, seed); its Steps is set per solve from the fields above.</summary>
        public SolverOptions Solver { get; set; } = new SolverOptions();

        /// <summary>Point cloud fusion settings.</summary>
        public FusionOptions Fusion { get; set; } = new FusionOptions { PixelStride = 2 };

        /// <summary>Offline with <see cref="OfflineKeyframesOnly"/> false: fuse every n-th frame.</summary>
        public int OfflineFuseEvery { get; set; } = 3;

        /// <summary>
        /// Online: solve the window on a mapping thread of its own, so tracking never waits for it (live sessions that drop
        /// frames). Its results are then applied at the first frame after the solve finished, which depends on timing;
        /// false (default): at the keyframe's own frame, deterministic.
        /// </summary>
        internal bool MappingThread { get; set; }

        /// <summary>
        /// Keyframe tracking (online, and offline over keyframes): frames are tracked against their keyframe with flow at this
        /// fraction of the processing size per side (1 = the processing size), brought back to the processing size
        /// (<see cref="TrackingFlow"/>); a frame that becomes a keyframe gets its flow at the processing size again, as
        /// mapping needs it. Default 1 (reconstructions unchanged); a live session uses
        /// <see cref="FlowMap.Session.SessionOptions.TrackingScale"/> (0.5).
        /// </summary>
        internal double TrackingScale { get; set; } = 1.0;

        /// <summary>
        /// Keyframe tracking: frames are tracked by the keyframe's textured points (<see cref="FlowMap.Flow.SparseTracker"/>,
        /// pyramidal Lucas-Kanade on the GPU) instead of dense flow; a frame that becomes a keyframe still gets its dense
        /// flow (its warm start), and a frame whose depth is wanted when it is finalised gets it then. Default false
        /// (reconstructions unchanged); live sessions: <see cref="FlowMap.Session.SessionOptions.SparseTracking"/> (true).
        /// Needs the Vulkan device (with an ONNX flow model and no device, frames are tracked densely).
        /// </summary>
        internal bool SparseTracking { get; set; }

        /// <summary>
        /// Online: before the first window solve is applied, frames are posed against a two-view bootstrap (the first keyframe
        /// pair with parallax triangulated at the focal guess, carried from keyframe to keyframe; <see cref="Keyframe.BootstrapDepth"/>)
        /// instead of all getting the first keyframe's pose; keyframes still waiting for mapping are re-chained onto each
        /// applied solve. Only the live estimates change (mapping never starts from it; final poses are posed against the
        /// solved depth). Default false (reconstructions unchanged); live sessions: true.
        /// </summary>
        internal bool BootstrapTracking { get; set; }

        /// <summary>
        /// Online, a window whose held past the data reject: the second refinement, from descent's re-derived poses, fixes
        /// only the gauge (the window's first keyframe, the scale along its first baseline), and a window solved outside the
        /// held frame that continues a frozen past (with the refinement on) is chained by the path of its keyframes solved before (<see cref="KeyframeMapper.PathScale"/>). False:
        /// every frozen keyframe fixed at descent's re-derived pose, and the chain by the depth's median ratio (before
        /// issue 12's held-chain change; `bench reconstruct --release-to-frozen-poses` measures it). Default true (README,
        /// "Why the held past breaks").
        /// </summary>
        internal bool ReleaseToGauge { get; set; } = true;

        /// <summary>
        /// Live, mapping on its thread: when more keyframes wait for mapping than <see cref="KeyframeMapper.MaxWaiting"/>,
        /// the most redundant waiting keyframe (the one whose neighbours are closest, by the median flow across it) becomes a
        /// frame of its predecessor (<see cref="KeyframeMapper.CullWaiting"/>), so tracking goes on choosing keyframes and
        /// never poses frames against a keyframe the camera has left far behind. False: tracking chooses no keyframe while
        /// that many wait (the long memory run's trajectory was lost that way: README, "Corrected: what loses the long run's
        /// trajectory"). Default true since the culled keyframes' frames are posed from the frame before as well
        /// (FlowMap.Tests/Issues/CulledKeyframesFramesPosedFromTheComposedMotion.cs): over 10,000 frames at ICL-NUIM's pace the
        /// error within a pass through the clip stays at 0.15-0.21 % (median per 1,000 frames), where the cap's rule lost
        /// whole blocks (README, "Culling waiting keyframes").
        /// </summary>
        internal bool CullBacklog { get; set; } = true;

        internal void Validate()
        {
            if (!(TrackingScale > 0 && TrackingScale <= 1)) throw new ArgumentException($"TrackingScale {TrackingScale} must be in (0, 1].");
            if (ProcessingSize is { } s && ImageResampler.CheckProcessingSize(s.Width, s.Height) is string bad) throw new ArgumentException(bad);
            if (FocalPixels.HasValue && !(FocalPixels.Value > 0 && !double.IsInfinity(FocalPixels.Value))) throw new ArgumentException($"Focal {FocalPixels} px must be a positive number.");
            if (!(KeyframeFlowFraction > 0)) throw new ArgumentException("KeyframeFlowFraction must be positive.");
            if (WindowKeyframes < 2) throw new ArgumentException("WindowKeyframes must be at least 2.");
            if (FirstWindowKeyframes < 2 || FirstWindowKeyframes > WindowKeyframes) throw new ArgumentException("FirstWindowKeyframes must be in [2, WindowKeyframes].");
            if (ActiveKeyframes < 1 || ActiveKeyframes > WindowKeyframes) throw new ArgumentException("ActiveKeyframes must be in [1, WindowKeyframes].");
            if (FirstWindowSteps < 1 || KeyframeSteps < 1 || OfflineSteps < 1 || OfflineGeometrySteps < 1 || StepsPerFrame < 0) throw new ArgumentException("Step counts must be positive.");
            if (OnlineSolverPixels < 64 || OfflineSolverPixels < 64) throw new ArgumentException("Solver pixel budgets must be at least 64.");
            if (OfflineFuseEvery < 1) throw new ArgumentException("OfflineFuseEvery must be at least 1.");
            if (PairSpan < 1) throw new ArgumentException("PairSpan must be at least 1.");
            if (RefineStride < 1 || RefineIterations < 0) throw new ArgumentException("RefineStride must be at least 1 and RefineIterations at least 0.");
            if (!(RefineGuideSigma >= 0) || double.IsInfinity(RefineGuideSigma)) throw new ArgumentException("RefineGuideSigma must be finite and at least 0.");
        }
    }
}
