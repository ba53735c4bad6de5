using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Flow;
using FlowMap.Reconstruction;
using FlowMap.Synthetic;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>
    /// Tracking at a reduced size (<see cref="ReconstructionOptions.TrackingScale"/>, issue 12): frames that are not keyframes
    /// are posed from flow estimated at half the processing size and brought back to it. With EXACT flow at either size (the
    /// true flow of a rendered room), every error left is what the reduced size and its wiring (value scaling, pixel-centre
    /// alignment, intrinsics) cost.
    /// </summary>
    public sealed class ReducedTrackingTests
    {
        internal const int W = 192, H = 144, Frames = 10;
        internal const double Focal = 150; // at W x H; the reduced camera is Intrinsics.Resized (focal / 2, centred)

        internal sealed class Scene
        {
            public SyntheticSequence Full = null!, Small = null!;
            public List<RgbImage> Images = null!;
        }

        internal static Scene Render()
        {
            SyntheticSequence Make(int w, int h, double f) => SyntheticSequence.Create(SyntheticScene.Create("room", 3), new SyntheticSequenceOptions
            {
                Path = "walk", Frames = Frames, Width = w, Height = h, Focal = f, Seed = 3, Motion = 1.5, Samples = 1, UseGpu = false,
            });
            var s = new Scene { Full = Make(W, H, Focal), Small = Make(W / 2, H / 2, Focal / 2) };
            s.Images = Enumerable.Range(0, Frames).Select(s.Full.Frame).ToList();
            return s;
        }

        /// <summary>
        /// The true flow at both sizes: frames are recognised by their pixels, at the processing size (indices 0..) and as
        /// the tracker resizes them (indices 1000..; their flow from the depth rendered at the reduced size).
        /// </summary>
        private static TruthFlowEstimator TruthAtBothSizes(Scene s)
        {
            var full = Enumerable.Range(0, Frames).Select(s.Full.Depth).ToList();
            var small = Enumerable.Range(0, Frames).Select(s.Small.Depth).ToList();
            var flow = new TruthFlowEstimator((a, b) => a >= 1000
                ? FlowMap.Evaluation.TruthFlow.Between(small[a - 1000], s.Small.Poses[a - 1000], small[b - 1000], s.Small.Poses[b - 1000], s.Small.Intrinsics)
                : FlowMap.Evaluation.TruthFlow.Between(full[a], s.Full.Poses[a], full[b], s.Full.Poses[b], s.Full.Intrinsics));
            for (int i = 0; i < Frames; i++)
            {
                flow.Register(i, s.Images[i]);
                flow.Register(1000 + i, ImageResampler.Resize(s.Images[i], W / 2, H / 2));
            }
            return flow;
        }

        /// <summary>
        /// Tracks frames 1.. against frame 0 as the keyframe, given its true depth (as if mapping had solved it), and returns
        /// per frame the mean distance in pixels (processing size) between where the estimated and the true motion project
        /// the keyframe's pixels (every 4th pixel, true depth).
        /// </summary>
        private static List<double> Track(Scene s, double trackingScale, double keyframeFlowFraction = 10)
        {
            var o = new ReconstructionOptions { ProcessingSize = (W, H), FocalPixels = Focal, TrackingScale = trackingScale, KeyframeFlowFraction = keyframeFlowFraction };
            o.Validate();
            var state = new ReconstructionState(o, new StageClock(), null, _ => { }, () => false);
            using var flow = TruthAtBothSizes(s);
            var tracker = new KeyframeTracker(state, flow);
            var f0 = new Frame(0, 0, s.Images[0], "000000.png");
            var k0 = tracker.Track(f0, state.Prepare(f0), TestContext.Current.CancellationToken).NewKeyframe!;
            var depth0 = s.Full.Depth(0);
            k0.Depth = depth0;
            k0.Confidence = new FloatImage(W, H, Enumerable.Repeat(1f, W * H).ToArray());
            k0.Mapped = true;
            state.SolvedOnce = true;
            var k = state.K;
            Assert.Equal(s.Full.Intrinsics.Fx, k.Fx, 9);
            var errors = new List<double>();
            for (int i = 1; i < Frames; i++)
            {
                var f = new Frame(i, i / 30.0, s.Images[i], $"{i:D6}.png");
                var t = tracker.Track(f, state.Prepare(f), TestContext.Current.CancellationToken);
                Assert.Null(t.NewKeyframe);
                Assert.True(t.Posed, $"frame {i} not posed");
                Assert.Equal(W, t.Flow!.Forward.Width); // flow handed on at the processing size
                var truth = s.Full.Poses[0].Inverse().Compose(s.Full.Poses[i]); // frame i camera -> keyframe camera
                errors.Add(MeanReprojectionDifference(depth0, k, truth, t.Pose));
            }
            return errors;
        }

        internal static double MeanReprojectionDifference(FloatImage depth, Intrinsics k, CameraPose truth, CameraPose est)
        {
            double sum = 0; int n = 0;
            for (int y = 2; y < H; y += 4)
                for (int x = 2; x < W; x += 4)
                {
                    float d = depth[x, y];
                    if (!(d > 0) || float.IsInfinity(d)) continue;
                    var (px, py, pz) = k.Unproject(x, y, d);
                    var a = ProjectInto(k, truth, px, py, pz);
                    var b = ProjectInto(k, est, px, py, pz);
                    if (a == null || b == null) continue;
                    sum += Math.Sqrt(Math.Pow(a.Value.u - b.Value.u, 2) + Math.Pow(a.Value.v - b.Value.v, 2)); n++;
                }
            Assert.True(n > 100, $"only {n} keyframe points");
            return sum / n;
        }

        /// <summary>Keyframe-camera point into the frame whose camera-to-keyframe pose is <paramref name="frameToKey"/>.</summary>
        private static (double u, double v)? ProjectInto(Intrinsics k, CameraPose frameToKey, double x, double y, double z)
        {
            var R = frameToKey.Rotation; var t = frameToKey.Translation;
            double dx = x - t[0], dy = y - t[1], dz = z - t[2];
            double fx = R[0] * dx + R[3] * dy + R[6] * dz, fy = R[1] * dx + R[4] * dy + R[7] * dz, fz = R[2] * dx + R[5] * dy + R[8] * dz;
            if (fz <= 1e-6) return null;
            return (k.Cx + k.Fx * fx / fz, k.Cy + k.Fy * fy / fz);
        }

        [Fact]
        public void Half_size_tracking_poses_frames_within_a_quarter_pixel_of_the_truth()
        {
            var s = Render();
            var full = Track(s, 1.0);
            var half = Track(s, 0.5);
            string what = $"mean reprojection difference per frame, px at {W}x{H}: full size [{string.Join(", ", full.Select(e => e.ToString("F3")))}], " +
                          $"half size [{string.Join(", ", half.Select(e => e.ToString("F3")))}]";
            TestContext.Current.TestOutputHelper?.WriteLine(what);
            // Tolerance: exact flow at the half size is exact at the half-size pixel centres; bringing it to the processing
            // size interpolates it bilinearly between centres one reduced pixel (2 px here) apart, which is exact for flow
            // that is affine across the cell and off only at depth edges (a few per cent of the points, down-weighted by the
            // pose's Huber loss at 1 px). The pose, fitted to hundreds of such matches, should then reproject within a small
            // part of one processing-size pixel: 0.25 px, an eighth of a reduced pixel. Wiring errors are far larger: flow not
            // scaled by 2 halves the apparent motion (several px here), a half-pixel misalignment of the resampling shifts
            // every match by about the flow's local change over 0.5 px. Tracking at the full size sets the floor.
            Assert.All(full, e => Assert.True(e < 0.25, what));
            Assert.All(half, e => Assert.True(e < 0.25, what));
        }

        /// <summary>Counts the estimator's calls per image width.</summary>
        private sealed class CountingFlow : IFlowEstimator
        {
            private readonly IFlowEstimator _inner;
            public readonly Dictionary<int, int> CallsByWidth = new Dictionary<int, int>();
            public CountingFlow(IFlowEstimator inner) { _inner = inner; }
            public string Name => _inner.Name;
            public FlowResult Estimate(RgbImage a, RgbImage b, System.Threading.CancellationToken token = default)
            {
                CallsByWidth[a.Width] = CallsByWidth.GetValueOrDefault(a.Width) + 1;
                return _inner.Estimate(a, b, token);
            }
            public void Dispose() { }
        }

        [Fact]
        public void A_frame_that_becomes_a_keyframe_gets_its_flow_at_the_processing_size_from_mapping()
        {
            var s = Render();
            var o = new ReconstructionOptions { ProcessingSize = (W, H), FocalPixels = Focal, TrackingScale = 0.5, KeyframeFlowFraction = 0.02 };
            var state = new ReconstructionState(o, new StageClock(), null, _ => { }, () => false);
            using var truth = TruthAtBothSizes(s);
            var tracking = new CountingFlow(truth);
            var tracker = new KeyframeTracker(state, tracking);
            Keyframe? first = null, second = null;
            for (int i = 0; i < Frames && second == null; i++)
            {
                var f = new Frame(i, i / 30.0, s.Images[i], $"{i:D6}.png");
                var t = tracker.Track(f, state.Prepare(f), TestContext.Current.CancellationToken);
                if (i == 0) first = t.NewKeyframe;
                else if (t.NewKeyframe != null) second = t.NewKeyframe;
            }
            Assert.NotNull(second);
            // Tracking estimated flow only at the tracking size (it never waits for a flow at the processing size); the new
            // keyframe carries the tracking flow brought to the processing size and the image its exact flow starts from.
            Assert.Equal(new[] { W / 2 }, tracking.CallsByWidth.Keys.ToArray());
            Assert.Same(first!.Image, second!.FlowFrom);
            Assert.Equal(W, second.FromPrevious!.Forward.Width);
            // Mapping's solver computes it at the processing size before its solve (here the exact full-size flow, exactly).
            var mapping = new CountingFlow(truth);
            var solver = new KeyframeSolver(mapping, null!, o, new StageClock(), null);
            var inputs = new[] { first, second }.Select(k => new KeyframeSolver.Input { FrameIndex = k.Frame.Index, Image = k.Image, FromPrevious = k.FromPrevious, FlowFrom = k.FlowFrom }).ToList();
            solver.ResolveFlows(inputs, TestContext.Current.CancellationToken);
            var exact = FlowMap.Evaluation.TruthFlow.Between(s.Full.Depth(0), s.Full.Poses[0], s.Full.Depth(second.Frame.Index), s.Full.Poses[second.Frame.Index], s.Full.Intrinsics);
            Assert.Null(inputs[1].FlowFrom);
            Assert.Equal(exact.Forward.Data, inputs[1].FromPrevious!.Forward.Data);
            Assert.Equal(1, mapping.CallsByWidth[W]);
            solver.ResolveFlows(inputs, TestContext.Current.CancellationToken); // once only
            Assert.Equal(1, mapping.CallsByWidth[W]);
        }

        [Fact]
        public void Tracking_size_is_the_scaled_processing_size_and_bad_scales_are_refused()
        {
            Assert.Null(TrackingFlow.Size(320, 240, 1.0));
            Assert.Equal((160, 120), TrackingFlow.Size(320, 240, 0.5));
            Assert.Equal((16, 16), TrackingFlow.Size(40, 20, 0.1)); // never below the smallest processing side
            Assert.Null(TrackingFlow.Size(16, 16, 0.5));             // already the smallest: no reduction
            Assert.Throws<ArgumentException>(() => new ReconstructionOptions { TrackingScale = 0 }.Validate());
            Assert.Throws<ArgumentException>(() => new ReconstructionOptions { TrackingScale = 1.5 }.Validate());
            Assert.Throws<ArgumentException>(() => new ReconstructionOptions { TrackingScale = double.NaN }.Validate());
            // Reconstructions track at the processing size (outputs unchanged); live sessions at half of it.
            Assert.Equal(1.0, new ReconstructionOptions().TrackingScale);
            Assert.Equal(0.5, ReconstructionComponents.LiveOptions(new FlowMap.Session.SessionOptions()).TrackingScale);
        }

        [Fact]
        public void Upsampled_flow_of_a_uniform_motion_is_the_motion_times_the_size_ratio()
        {
            // A uniform flow (2.5, -1) px at 50x30 is (5, -2) px at 100x60 (x2 per side), everywhere, edges included
            // (bilinear of a constant is the constant); confidence is carried unscaled.
            var data = new float[50 * 30 * 2];
            for (int i = 0; i < 50 * 30; i++) { data[2 * i] = 2.5f; data[2 * i + 1] = -1f; }
            var f = new FlowField(50, 30, data);
            var c = new FloatImage(50, 30, Enumerable.Repeat(0.75f, 50 * 30).ToArray());
            var up = TrackingFlow.Upsample(new FlowResult(f, f, c, c), 100, 60);
            Assert.Equal(100, up.Forward.Width);
            Assert.All(Enumerable.Range(0, 100 * 60), i => { Assert.Equal(5f, up.Forward.Data[2 * i], 5); Assert.Equal(-2f, up.Backward.Data[2 * i + 1], 5); });
            Assert.All(up.ForwardConfidence.Data, v => Assert.Equal(0.75f, v, 6));
        }

        [Fact]
        public void Upsampled_flow_matches_the_double_precision_reference_at_odd_sizes()
        {
            // An irregular field at 37x23 brought to 75x47 (neither a multiple of the other) against FlowUpsample.Reference
            // (double precision, same rule). Tolerance: the result is rounded to float once, |flow| <= 2 * 9 px here, so
            // 2e-5 px is a few float ulps; confidence in [0, 1]: 1e-6.
            int sw = 37, sh = 23, dw = 75, dh = 47;
            var data = new float[sw * sh * 2];
            var conf = new float[sw * sh];
            for (int i = 0; i < sw * sh; i++)
            {
                data[2 * i] = (float)(9 * Math.Sin(0.37 * i)); data[2 * i + 1] = (float)(7 * Math.Cos(0.91 * i));
                conf[i] = (float)(0.5 + 0.5 * Math.Sin(1.3 * i));
            }
            var up = TrackingFlow.Upsample(new FlowResult(new FlowField(sw, sh, data), new FlowField(sw, sh, data),
                new FloatImage(sw, sh, conf), new FloatImage(sw, sh, conf)), dw, dh);
            var reference = FlowMap.Flow.Kernels.FlowUpsample.Reference(data, sw, sh, dw, dh);
            for (int i = 0; i < reference.Length; i++)
            {
                Assert.True(float.IsFinite(up.Forward.Data[i]));
                Assert.True(Math.Abs(up.Forward.Data[i] - reference[i]) < 2e-5, $"flow value {i}: {up.Forward.Data[i]} vs {reference[i]}");
            }
            for (int y = 0; y < dh; y++)
                for (int x = 0; x < dw; x++)
                {
                    double c = FlowMap.Flow.Kernels.FlowSampling.Bilinear(conf, sw, sh, 1, 0, (x + 0.5) * sw / dw - 0.5, (y + 0.5) * sh / dh - 0.5);
                    Assert.True(Math.Abs(up.BackwardConfidence[x, y] - c) < 1e-6, $"confidence ({x}, {y})");
                }
        }

        [Fact]
        public void Upsampled_flow_keeps_pixel_centres_aligned()
        {
            // u = 0.1 x at 50x30 (x in reduced pixels). Full-size pixel X lies at reduced x = (X + 0.5) / 2 - 0.5, so inside
            // (not clamped: 1 <= X <= 98) the upsampled flow is 2 * 0.1 * ((X + 0.5) / 2 - 0.5) = 0.1 (X - 0.5) exactly
            // (bilinear is exact on an affine field); an alignment of X / 2 instead would give 0.1 X.
            var data = new float[50 * 30 * 2];
            for (int y = 0; y < 30; y++) for (int x = 0; x < 50; x++) data[2 * (y * 50 + x)] = 0.1f * x;
            var f = new FlowField(50, 30, data);
            var c = new FloatImage(50, 30, Enumerable.Repeat(1f, 50 * 30).ToArray());
            var up = TrackingFlow.Upsample(new FlowResult(f, f, c, c), 100, 60);
            for (int y = 0; y < 60; y++)
                for (int x = 1; x <= 98; x++)
                    Assert.Equal(0.1 * (x - 0.5), up.Forward.U(x, y), 4);
        }
    }
}
