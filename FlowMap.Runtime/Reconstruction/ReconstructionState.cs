using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using FlowMap.Depth;
using FlowMap.Fusion;
using FlowMap.Session;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// What the stages of a <see cref="ReconstructionPipeline"/> share: the processing size and the camera as far as it is
    /// known (tracking reads it, mapping updates it), the depth prior, the fused cloud, the warnings, the final per-frame
    /// estimates and the keyframes whose delivered pose mapping moved. One thread at a time.
    /// </summary>
    internal sealed class ReconstructionState
    {
        private readonly IDepthPrior? _prior;
        private readonly Action<FrameEstimate> _finalized;
        private readonly Func<bool> _frameDepthWanted;
        private readonly PointCloudFusion _fusion;
        private readonly List<string> _warnings = new List<string>();
        private readonly List<string> _warningsRaised = new List<string>();  // raised since the last update
        private readonly List<FramePose> _refined = new List<FramePose>();   // keyframes moved since the last update
        private readonly List<PointCloud> _fused = new List<PointCloud>();   // fused since the last update (online)
        private readonly List<(int Index, string Name, CameraPose Pose, double TimestampSeconds, bool IsKeyframe)> _finalPoses =
            new List<(int, string, CameraPose, double, bool)>();

        /// <param name="options">Validated settings.</param>
        /// <param name="clock">Per-stage timings.</param>
        /// <param name="prior">Optional frozen depth model.</param>
        /// <param name="finalized">Receives each frame's final estimate (in frame order).</param>
        /// <param name="frameDepthWanted">Whether anyone receives the final estimates (else the depth of frames that are not
        /// keyframes, carried from their keyframe at a cost per frame, is not computed).</param>
        public ReconstructionState(ReconstructionOptions options, StageClock clock, IDepthPrior? prior, Action<FrameEstimate> finalized, Func<bool> frameDepthWanted)
        {
            Options = options; Clock = clock; _prior = prior; _finalized = finalized; _frameDepthWanted = frameDepthWanted;
            _fusion = new PointCloudFusion(options.Fusion);
        }

        public ReconstructionOptions Options { get; }
        public StageClock Clock { get; }

        /// <summary>Input size (of the first frame) and processing size; 0 before the first frame.</summary>
        public int InputWidth { get; private set; }
        public int InputHeight { get; private set; }
        public int Width { get; private set; }
        public int Height { get; private set; }

        /// <summary>The given focal at the processing size, or null when it is estimated.</summary>
        public double? FixedFocal { get; private set; }
        /// <summary>The focal as far as it is known (pixels at the processing size).</summary>
        public double Focal { get; set; }
        /// <summary>SIMPLE_RADIAL k1, from the multi-view refinement.</summary>
        public double K1 { get; set; }
        /// <summary>How well the data determine the focal (null: given or not yet estimated).</summary>
        public double? FocalRelStd { get; set; }
        /// <summary>True once mapping solved anything (depth and focal exist).</summary>
        public bool SolvedOnce { get; set; }
        /// <summary>Keyframes chosen so far (offline over all frames: every frame).</summary>
        public int KeyframeCount { get; set; }

        /// <summary>
        /// Keyframes chosen that no applied solve has taken in yet (mapping on its thread, behind tracking), set by the
        /// mapper. At <see cref="KeyframeMapper.MaxWaiting"/> (with <see cref="ReconstructionOptions.CullBacklog"/>, the
        /// default: mapping culls the most redundant waiting keyframe, <see cref="KeyframeMapper.CullWaiting"/>, and only where
        /// it finds none) tracking chooses no new keyframe and poses frames against the newest one (ORB-SLAM's tracking inserts
        /// keyframes only while local mapping accepts them, Mur-Artal et al. 2015): the keyframes held, and with them a long
        /// session's memory and its completion time, stay bounded.
        /// </summary>
        public int KeyframesAwaitingMapping
        {
            get => _keyframesAwaiting;
            set { _keyframesAwaiting = value; if (value > Backlog.MaxKeyframesAwaiting) Backlog = Backlog with { MaxKeyframesAwaiting = value }; }
        }
        private int _keyframesAwaiting;

        /// <summary>How far mapping fell behind tracking over the session (a diagnostic, <see cref="FlowMap.Session.MappingBacklog"/>).</summary>
        public FlowMap.Session.MappingBacklog Backlog { get; set; } = FlowMap.Session.MappingBacklog.None;

        /// <summary>
        /// The warning of a frame whose motion asked for a keyframe while <see cref="KeyframeMapper.MaxWaiting"/> keyframes
        /// waited for mapping (raised once a session).
        /// </summary>
        internal static string MappingBehindWarning(int waiting) =>
            $"mapping is behind tracking: {waiting} keyframes wait for it, so no new keyframe is chosen and frames are posed against the newest one until mapping catches up; " +
            "with the camera moving on, tracking can be lost meanwhile (a smaller processing size or slower motion lets mapping keep up)";
        /// <summary>The largest median flow seen from a keyframe (offline over all frames: summed), pixels; small = a static camera.</summary>
        public double CumulativeMedianFlow { get; set; }
        /// <summary>Median depth of the newest solved keyframe (for the parallax check).</summary>
        public double MedianSceneDepth { get; private set; }

        /// <summary>The camera at the processing size as far as it is known: one focal, centred principal point, k1.</summary>
        public Intrinsics K => Intrinsics.Centered(Width, Height, Focal) with { K1 = K1 };

        /// <summary>
        /// Dense flow keyframe -> frame on the caller's thread, for the depth of a frame tracked sparsely when it is finalised
        /// and its depth is wanted (<see cref="FrameDepthWanted"/>); null: such frames get no depth.
        /// </summary>
        public Func<RgbImage, RgbImage, System.Threading.CancellationToken, FlowMap.Flow.FlowResult>? FlowForDepth { get; set; }

        /// <summary>True when someone receives the final per-frame estimates (their depth is then computed).</summary>
        public bool FrameDepthWanted => _frameDepthWanted();

        public IReadOnlyList<string> Warnings => _warnings;
        public PointCloud Points => _fusion.ToPointCloud();

        /// <summary>Points in the fused map's cloud so far (<see cref="PointCloudFusion.PointCount"/>); read from any thread.</summary>
        public int MapPoints => _fusion.PointCount;

        /// <summary>Voxels the fused map holds so far (<see cref="PointCloudFusion.Count"/>); read from any thread.</summary>
        public int MapVoxels => _fusion.Count;

        /// <summary>Bytes held by the fused map (<see cref="PointCloudFusion.Bytes"/>); read from any thread.</summary>
        public long MapBytes => _fusion.Bytes;

        /// <summary>Resizes a frame to the processing size, fixed (with the camera's first guess) by the first frame.</summary>
        public RgbImage Prepare(Frame frame)
        {
            var img = frame.Image;
            if (Width == 0)
            {
                InputWidth = img.Width; InputHeight = img.Height;
                var (w, h) = Options.ProcessingSize ?? ImageResampler.DefaultProcessingSize(img.Width, img.Height);
                Width = w; Height = h;
                if (Options.FocalPixels is double f) FixedFocal = f * Math.Sqrt((double)w * h / ((double)InputWidth * InputHeight));
                // Until a solve says otherwise: FlowMap's middle candidate, f = sqrt(W H) (about 53 degrees horizontal at 4:3).
                Focal = FixedFocal ?? Math.Sqrt((double)w * h);
            }
            else if (img.Width != InputWidth || img.Height != InputHeight)
                AddWarning($"resolution changed at frame {frame.Index} ({InputWidth}x{InputHeight} -> {img.Width}x{img.Height}); frames are resized to {Width}x{Height}, intrinsics assume the first size");
            return ImageResampler.Resize(img, Width, Height);
        }

        /// <summary>
        /// Adds a warning once; of the focal's "not determined" warnings (re-estimated per window online) only the newest
        /// stays. A warning not seen before is also raised with the next live update (<see cref="FrameUpdate.Warnings"/>).
        /// </summary>
        public void AddWarning(string w)
        {
            bool known = _warnings.Contains(w);
            if (w.StartsWith(FocalNotDetermined, StringComparison.Ordinal)) _warnings.RemoveAll(x => x.StartsWith(FocalNotDetermined, StringComparison.Ordinal));
            if (!_warnings.Contains(w)) _warnings.Add(w);
            if (!known && !_warningsRaised.Contains(w)) _warningsRaised.Add(w);
        }

        private const string FocalNotDetermined = "The focal length is not determined";

        /// <summary>Warnings raised since the last call (for the live update of this frame, or the session's result).</summary>
        public IReadOnlyList<string> TakeWarningsRaised() => Take(_warningsRaised);

        /// <summary>A keyframe whose delivered pose mapping moved (raised with the next live update).</summary>
        public void Refined(FramePose keyframe) => _refined.Add(keyframe);

        /// <summary>Keyframes whose pose changed since it was last delivered (live updates), since the last call.</summary>
        public IReadOnlyList<FramePose> TakeRefinedKeyframes() => Take(_refined);

        private static IReadOnlyList<T> Take<T>(List<T> list)
        {
            if (list.Count == 0) return Array.Empty<T>();
            var r = list.ToList();
            list.Clear();
            return r;
        }

        /// <summary>Forgets what was gathered for a live update that is not made (offline).</summary>
        public void DiscardLive() { _fused.Clear(); _warningsRaised.Clear(); _refined.Clear(); }

        public Task<FloatImage>? StartPrior(RgbImage image) =>
            _prior == null ? null : Task.Run(() => _prior.PredictInverseDepth(image, Width, Height));

        public FloatImage? AwaitPrior(Task<FloatImage>? t) =>
            t == null ? null : Clock.Time("depth_prior_wait", () => t.GetAwaiter().GetResult());

        /// <summary>A frame's estimate is final: kept for the result and handed on.</summary>
        public void Emit(FrameEstimate e)
        {
            _finalPoses.Add((e.Index, e.Name, e.Pose, e.TimestampSeconds, e.IsKeyframe));
            _finalized(e);
        }

        /// <summary>Final poses so far, in frame order.</summary>
        public IReadOnlyList<(int Index, string Name, CameraPose Pose)> FinalPoses() =>
            _finalPoses.OrderBy(p => p.Index).Select(p => (p.Index, p.Name, p.Pose)).ToList();

        /// <summary>The final pose of every frame finalised so far, in frame order.</summary>
        public IReadOnlyList<FramePose> FinalFramePoses() =>
            _finalPoses.OrderBy(p => p.Index).Select(p => new FramePose(p.Index, p.TimestampSeconds, p.Pose, p.IsKeyframe)).ToList();

        /// <summary>Fuses a keyframe's depth into the cloud at the current camera.</summary>
        public void Fuse(FloatImage depth, FloatImage conf, RgbImage image, CameraPose pose)
        {
            var points = Clock.Time("fuse", () => _fusion.Integrate(depth, conf, image, K, pose));
            // Online: the points go with the live update (and those fused in Finish with the session's result); offline
            // Finish returns the whole cloud.
            if (Options.Mode == ReconstructionMode.Online) _fused.Add(points);
        }

        /// <summary>Points fused since the last call (while this frame was processed, or in Finish: keyframes that became final), or null.</summary>
        public PointCloud? TakeFusedPoints()
        {
            if (_fused.Count == 0) return null;
            int n = _fused.Sum(c => c.Count);
            var pos = new float[3 * n]; var col = new byte[3 * n]; var conf = new float[n];
            int o = 0;
            foreach (var c in _fused)
            {
                Array.Copy(c.Positions, 0, pos, 3 * o, 3 * c.Count);
                Array.Copy(c.Colors, 0, col, 3 * o, 3 * c.Count);
                if (c.Confidence != null) Array.Copy(c.Confidence, 0, conf, o, c.Count);
                o += c.Count;
            }
            _fused.Clear();
            return new PointCloud(pos, col, conf);
        }

        public void NoteSceneDepth(FloatImage depth)
        {
            var v = new List<float>(depth.Data);
            MedianSceneDepth = DepthTransfer.Median(v);
        }

        /// <summary>Depth and confidence for frames when nothing could be solved (static camera): constant, or the prior's shape; confidence 0.</summary>
        public (FloatImage, FloatImage) Unobserved(FloatImage? priorInverse)
        {
            var d = new FloatImage(Width, Height);
            if (priorInverse != null)
            {
                double med = DepthTransfer.Median(new List<float>(priorInverse.Data));
                for (int i = 0; i < d.Data.Length; i++) d.Data[i] = (float)(med / priorInverse.Data[i]);
            }
            else Array.Fill(d.Data, 1f);
            return (d, new FloatImage(Width, Height));
        }

        /// <summary>The end-of-run warnings: a static camera, or camera centres that barely spread (mostly rotation).</summary>
        public void CheckMotion()
        {
            if (CumulativeMedianFlow < Options.StaticFlowPixels)
            {
                AddWarning($"static camera: the image barely moved (median flow {CumulativeMedianFlow:F2} px in total at {Width}x{Height}); poses held still, depth and focal not observable");
                return;
            }
            if (_finalPoses.Count < 2) return;
            // Camera-centre spread against the median scene depth seen by the solver.
            var c = _finalPoses.Select(p => p.Pose.Center).ToList();
            double mx = c.Average(p => p.X), my = c.Average(p => p.Y), mz = c.Average(p => p.Z);
            double spread = Math.Sqrt(c.Average(p => (p.X - mx) * (p.X - mx) + (p.Y - my) * (p.Y - my) + (p.Z - mz) * (p.Z - mz)));
            if (MedianSceneDepth > 0 && spread < 0.01 * MedianSceneDepth)
                AddWarning($"low parallax: the camera centres spread {100 * spread / MedianSceneDepth:F2} % of the scene depth (mostly rotation); depth and focal are weakly constrained");
        }
    }
}
