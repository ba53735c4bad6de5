using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Flow;
using FlowMap.Flow.Kernels;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;
using FlowMap.Reconstruction;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Flow
{
    /// <summary>
    /// The sparse tracker (issue 12: the live tracker's motion estimate): the Lucas-Kanade kernel against its double
    /// reference (odd sizes, fresh seeds), against an exact translation, the point selection, and the whole tracker on a
    /// rendered room against its true flow.
    /// </summary>
    public sealed class SparseTrackerTests : GpuTest
    {
        public SparseTrackerTests(GpuFixture f) : base(f) { }

        public static IEnumerable<object[]> Sizes() => new[]
        {
            new object[] { 13, 11, 2 }, new object[] { 37, 23, 3 }, new object[] { 61, 47, 4 }, new object[] { 130, 67, 4 },
        };

        private float[] RunKernel(float[] keyPyr, float[] framePyr, float[] pts, LucasKanade.Push push)
        {
            using var kb = GpuBuffer.FromData<float>(Ctx, keyPyr, "key");
            using var fb = GpuBuffer.FromData<float>(Ctx, framePyr, "frame");
            using var pb = GpuBuffer.FromData<float>(Ctx, pts, "points");
            int cells = push.GridWidth * push.GridHeight;
            const int guard = 29;
            using var ob = new GpuBuffer(Ctx, (long)(4 * cells + guard) * sizeof(float), "out");
            ob.Fill(Compare.GuardBits);
            using (var batch = Ctx.BeginBatch("test"))
            {
                LucasKanade.Record(batch, Ctx, kb, fb, pb, ob, push);
                batch.Submit();
                batch.Wait();
            }
            var all = ob.ReadAll<float>(4 * cells + guard);
            Compare.GuardIntact(all, 4 * cells, "lk_track guard");
            return all.Take(4 * cells).ToArray();
        }

        [Theory, MemberData(nameof(Sizes))]
        public void LucasKanade_matches_reference(int w, int h, int radius)
        {
            var rng = Rng.Fresh(out int seed);
            // Content moved by up to 3 px with a brightness offset; guesses within 1 px of nothing in particular.
            double tx = rng.NextDouble() * 6 - 3, ty = rng.NextDouble() * 6 - 3;
            var i0 = FlowKernelTests.SmoothImage(new Random(seed), w, h, 0, 0, 10);
            var i1 = FlowKernelTests.SmoothImage(new Random(seed), w, h, tx, ty, 10).Select(v => v + 0.03f).ToArray();
            int levels = Math.Min(3, SparseTracker.Levels(w, h, 2 * radius + 1, 4));
            int cell = 6;
            int gw = (w + cell - 1) / cell, gh = (h + cell - 1) / cell;
            var pts = new float[4 * gw * gh];
            for (int c = 0; c < gw * gh; c++)
            {
                bool empty = rng.Next(7) == 0;
                pts[4 * c] = empty ? -1 : (float)(rng.NextDouble() * (w - 1));
                pts[4 * c + 1] = empty ? -1 : (float)(rng.NextDouble() * (h - 1));
                pts[4 * c + 2] = (float)(rng.NextDouble() * 2 - 1);
                pts[4 * c + 3] = (float)(rng.NextDouble() * 2 - 1);
            }
            var push = new LucasKanade.Push { Width = w, Height = h, Levels = levels, GridWidth = gw, GridHeight = gh, Radius = radius, Iterations = 10 };
            var kp = LucasKanade.ReferencePyramid(i0, w, h, levels);
            var fp = LucasKanade.ReferencePyramid(i1, w, h, levels);
            var gpu = RunKernel(kp, fp, pts, push);
            var cpu = LucasKanade.Reference(kp, fp, pts, push);
            // The iteration is a continuous map of the displacement (the template's gradient is fixed; bilinear sampling is
            // continuous), so float32 rounding (~1e-6 px per step) stays small, except where a step falls across the 1e-3 px
            // stopping rule (one step more or less: < 1e-3 px moved, converging) or the iterate does not converge (the
            // differences grow): 2e-3 px for nearly all cells, and status and finiteness for every cell.
            int cells = gw * gh, exact = 0;
            for (int c = 0; c < cells; c++)
            {
                string what = $"{w}x{h} r {radius} cell {c} seed {seed}: gpu ({gpu[4 * c]}, {gpu[4 * c + 1]}, fb {gpu[4 * c + 2]}) cpu ({cpu[4 * c]:F5}, {cpu[4 * c + 1]:F5}, fb {cpu[4 * c + 2]:F5})";
                Assert.True(gpu.Skip(4 * c).Take(4).All(float.IsFinite), what);
                if (pts[4 * c] < 0) { Assert.True(gpu[4 * c + 2] == -1 && cpu[4 * c + 2] == -1, what); exact++; continue; }
                bool close = Math.Abs(gpu[4 * c] - cpu[4 * c]) <= 2e-3 && Math.Abs(gpu[4 * c + 1] - cpu[4 * c + 1]) <= 2e-3;
                bool sameStatus = (gpu[4 * c + 2] < 0) == (cpu[4 * c + 2] < 0);
                if (close && sameStatus && (cpu[4 * c + 2] < 0 || Math.Abs(gpu[4 * c + 2] - cpu[4 * c + 2]) <= 4e-3)
                    && Math.Abs(gpu[4 * c + 3] - cpu[4 * c + 3]) <= 1e-4) exact++;
            }
            if (cells >= 20) Assert.True(exact >= 0.95 * cells, $"{w}x{h}: only {exact} of {cells} cells equal the reference (2e-3 px), seed {seed}");
        }

        /// <summary>
        /// What the kernel must return for the window at integer (px, py) of a translated image: the fixed point u* of its
        /// iterations, b(u) = sum_i g~_i r_i(u) = 0 with r_i(u) = I1~(x_i + u) - I0(x_i), I1~ the bilinear interpolant, g~ the
        /// window-centred central-difference gradient of I0 (the offset eliminated). At the true shift t, r_i(t) is the
        /// bilinear interpolation error, so u* - t is the bias of bilinear sampling (with exact sampling u* = t). Found by
        /// Newton's method in double from t with the exact Jacobian A = sum g~ J^T (J: the bilinear sample's derivative).
        /// Also the contraction rho = ||I - H^-1 A|| of the kernel's steps near u* (H = sum g~ g~^T, its fixed Hessian).
        /// </summary>
        private static (double U, double V, double Rho) FixedPoint(float[] i0, float[] i1, int w, int h, int px, int py, int r, double tx, double ty)
        {
            int side = 2 * r + 1;
            double n = side * side;
            var gx = new double[side * side]; var gy = new double[side * side];
            double sx = 0, sy = 0;
            for (int j = 0; j < side; j++)
                for (int i = 0; i < side; i++)
                {
                    int x = px + i - r, y = py + j - r, k = j * side + i;
                    gx[k] = 0.5 * (i0[y * w + x + 1] - i0[y * w + x - 1]); gy[k] = 0.5 * (i0[(y + 1) * w + x] - i0[(y - 1) * w + x]);
                    sx += gx[k]; sy += gy[k];
                }
            double hxx = 0, hxy = 0, hyy = 0;
            for (int k = 0; k < side * side; k++)
            {
                gx[k] -= sx / n; gy[k] -= sy / n;
                hxx += gx[k] * gx[k]; hxy += gx[k] * gy[k]; hyy += gy[k] * gy[k];
            }
            double u = tx, v = ty, a00 = 0, a01 = 0, a10 = 0, a11 = 0;
            for (int it = 0; it < 50; it++)
            {
                a00 = a01 = a10 = a11 = 0;
                double bx = 0, by = 0;
                for (int j = 0; j < side; j++)
                    for (int i = 0; i < side; i++)
                    {
                        int qx = px + i - r, qy = py + j - r, k = j * side + i;
                        double sxp = qx + u, syp = qy + v;
                        int x0 = (int)Math.Floor(sxp), y0 = (int)Math.Floor(syp);
                        double ax = sxp - x0, ay = syp - y0;
                        double v00 = i1[y0 * w + x0], v10 = i1[y0 * w + x0 + 1], v01 = i1[(y0 + 1) * w + x0], v11 = i1[(y0 + 1) * w + x0 + 1];
                        double res = (v00 * (1 - ax) + v10 * ax) * (1 - ay) + (v01 * (1 - ax) + v11 * ax) * ay - i0[qy * w + qx];
                        double jx = (1 - ay) * (v10 - v00) + ay * (v11 - v01), jy = (1 - ax) * (v01 - v00) + ax * (v11 - v10);
                        a00 += gx[k] * jx; a01 += gx[k] * jy; a10 += gy[k] * jx; a11 += gy[k] * jy;
                        bx += gx[k] * res; by += gy[k] * res;
                    }
                double det = a00 * a11 - a01 * a10;
                double du = (a11 * bx - a01 * by) / det, dv = (a00 * by - a10 * bx) / det;
                u -= du; v -= dv;
                if (!(du * du + dv * dv >= 1e-20)) break;
            }
            double hd = hxx * hyy - hxy * hxy;
            // M = I - H^-1 A; its spectral norm.
            double m00 = 1 - (hyy * a00 - hxy * a10) / hd, m01 = -(hyy * a01 - hxy * a11) / hd;
            double m10 = -(hxx * a10 - hxy * a00) / hd, m11 = 1 - (hxx * a11 - hxy * a01) / hd;
            double p = m00 * m00 + m10 * m10, q = m00 * m01 + m10 * m11, s = m01 * m01 + m11 * m11;
            double rho = Math.Sqrt((p + s) / 2 + Math.Sqrt((p - s) * (p - s) / 4 + q * q));
            return double.IsFinite(u) && double.IsFinite(v) && double.IsFinite(rho) ? (u, v, rho) : (double.NaN, double.NaN, double.PositiveInfinity);
        }

        [Fact]
        public void LucasKanade_recovers_a_translation_with_a_brightness_change()
        {
            var rng = Rng.Fresh(out int seed);
            int w = 96, h = 80, radius = 4;
            double tx = (rng.NextDouble() * 2 - 1) * 2.5, ty = (rng.NextDouble() * 2 - 1) * 2.5;
            // Six sinusoids (periods 12 to 36 px), one per 30 degree sector, rendered exactly at both positions; the frame
            // brighter by 0.05 (the offset the kernel models). Not smoother: with the offset eliminated, a window needs its
            // gradient to vary across it (a ramp moved is a ramp plus a constant), and the point selection knows it. Two
            // levels (the shift is at most 2.5 px): coarser ones would alias the 12 px components (large motion on real
            // texture: Tracks_a_rendered_room_as_its_true_flow).
            var shift = new SubpixelShift(new Random(seed), w, h, tx, ty, 12);
            var i1 = shift.I1.Select(v => v + 0.05f).ToArray();
            const int levels = 2;
            var pts = SparseTracker.SelectPoints(shift.I0, w, h, radius, 8, out int gw, out int gh);
            var push = new LucasKanade.Push { Width = w, Height = h, Levels = levels, GridWidth = gw, GridHeight = gh, Radius = radius, Iterations = 10 };
            var o = RunKernel(LucasKanade.ReferencePyramid(shift.I0, w, h, levels), LucasKanade.ReferencePyramid(i1, w, h, levels), pts, push);
            // Every interior window whose steps contract near the fixed point (rho <= 1/2) must end at it: the kernel stops
            // after a step shorter than 1e-3 px, which leaves at most 1e-3 rho / (1 - rho) <= 1e-3 px, plus float32 (2e-3 px,
            // as against the reference): 3e-3 px. Its forward-backward error is then the two fixed points' bias: <= 0.1 px.
            int m = radius + 2 + (int)Math.Ceiling(Math.Max(Math.Abs(tx), Math.Abs(ty)));
            int interior = 0, contracting = 0;
            for (int c = 0; c < gw * gh; c++)
            {
                int px = (int)pts[4 * c], py = (int)pts[4 * c + 1];
                if (pts[4 * c] < 0 || px < m || py < m || px > w - 1 - m || py > h - 1 - m) continue;
                interior++;
                var (u, v, rho) = FixedPoint(shift.I0, i1, w, h, px, py, radius, tx, ty);
                if (!(rho <= 0.5)) continue;
                contracting++;
                string what = $"point ({px}, {py}) shift ({tx:F3}, {ty:F3}) seed {seed}: tracked to ({o[4 * c]}, {o[4 * c + 1]}) fb {o[4 * c + 2]}, fixed point ({px + u:F4}, {py + v:F4}), rho {rho:F3}";
                Assert.True(Math.Abs(o[4 * c] - (px + u)) <= 3e-3 && Math.Abs(o[4 * c + 1] - (py + v)) <= 3e-3, what);
                Assert.True(o[4 * c + 2] >= 0 && o[4 * c + 2] <= 0.1, what);
            }
            // Which windows contract is a property of the texture: most do on these images.
            Assert.True(contracting >= interior / 2 && interior >= 10, $"{contracting} of {interior} interior points contract, seed {seed}");
        }

        [Fact]
        public void Points_are_chosen_on_texture_and_away_from_the_border()
        {
            int w = 64, h = 48, radius = 4, cell = 8;
            var flat = Enumerable.Repeat(0.5f, w * h).ToArray();
            var none = SparseTracker.SelectPoints(flat, w, h, radius, cell, out int gw, out int gh);
            Assert.Equal(8, gw); Assert.Equal(6, gh);
            Assert.All(Enumerable.Range(0, gw * gh), c => Assert.Equal(-1f, none[4 * c]));
            // A textured square [24, 40) x [16, 32) on a flat ground: points on and next to it only, never near the border.
            var img = (float[])flat.Clone();
            var r = new Random(5);
            for (int y = 16; y < 32; y++) for (int x = 24; x < 40; x++) img[y * w + x] = (float)r.NextDouble();
            var pts = SparseTracker.SelectPoints(img, w, h, radius, cell, out _, out _);
            int chosen = 0;
            for (int c = 0; c < gw * gh; c++)
            {
                if (pts[4 * c] < 0) continue;
                chosen++;
                float x = pts[4 * c], y = pts[4 * c + 1];
                Assert.InRange(x, 24 - radius, 39 + radius);
                Assert.InRange(y, 16 - radius, 31 + radius);
                Assert.InRange(x, radius + 1, w - radius - 2);
                Assert.InRange(y, radius + 1, h - radius - 2);
            }
            Assert.True(chosen >= 4, $"{chosen} points on the textured square");
        }

        /// <summary>
        /// The whole tracker on a rendered room (deterministic scene) against the true flow: frames 1 to 3 of a walk tracked
        /// from frame 0 (up to about 10 px of motion, beyond which the keyframe rule starts a new keyframe), each from the
        /// previous frame's tracks, compared with the dense flow at the same points. Windows that straddle a depth edge see
        /// two motions, so not every point can be exact.
        /// </summary>
        [Fact]
        public void Tracks_a_rendered_room_as_its_true_flow()
        {
            const int W = 192, H = 144, Frames = 4;
            var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 3), new SyntheticSequenceOptions
            {
                Path = "walk", Frames = Frames, Width = W, Height = H, Focal = 150, Seed = 3, Motion = 1.5, Samples = 1, UseGpu = false,
            });
            using var tracker = new SparseTracker(Ctx);
            var key = seq.Frame(0);
            tracker.SetKeyframe(key);
            Assert.True(tracker.PointCount >= 100, $"{tracker.PointCount} points chosen");
            var depth0 = seq.Depth(0);
            using var denseFlow = new VulkanFlowEstimator(Ctx, null, ownsContext: false);
            for (int i = 1; i < Frames; i++)
            {
                var t = tracker.Track(seq.Frame(i));
                var truth = FlowMap.Evaluation.TruthFlow.Between(depth0, seq.Poses[0], seq.Depth(i), seq.Poses[i], seq.Intrinsics);
                var errors = new List<double>();
                for (int c = 0; c < t.Cells; c++)
                {
                    if (!(t.Confidence[c] > 0.5)) continue;
                    int x = (int)t.Kx[c], y = (int)t.Ky[c];
                    double ex = t.U[c] - (x + truth.Forward.U(x, y)), ey = t.V[c] - (y + truth.Forward.V(x, y));
                    errors.Add(Math.Sqrt(ex * ex + ey * ey));
                }
                errors.Sort();
                double median = errors[errors.Count / 2];
                double within = errors.Count(e => e <= 0.5) / (double)errors.Count;
                var dense = denseFlow.Estimate(key, seq.Frame(i));
                var dErr = new List<double>();
                for (int c = 0; c < t.Cells; c++)
                {
                    if (!(t.Confidence[c] > 0.5)) continue;
                    int x = (int)t.Kx[c], y = (int)t.Ky[c];
                    double ex = dense.Forward.U(x, y) - truth.Forward.U(x, y), ey = dense.Forward.V(x, y) - truth.Forward.V(x, y);
                    dErr.Add(Math.Sqrt(ex * ex + ey * ey));
                }
                dErr.Sort();
                double denseMedian = dErr[dErr.Count / 2];
                Assert.True(errors.Count >= 0.5 * tracker.PointCount, $"frame {i}: {errors.Count} of {tracker.PointCount} points confident");
                // It replaces the dense flow for posing: about as accurate at the same points (the translational window
                // model degrades as the view deforms, the variational dense flow less so).
                Assert.True(median <= 1.5 * denseMedian + 0.02, $"frame {i}: median error {median:F3} px, the dense flow's {denseMedian:F3} px");
                Assert.True(within >= 0.8, $"frame {i}: {within:P0} of confident points within 0.5 px (median motion {t.MedianDisplacement():F2} px)");
            }
        }

        /// <summary>
        /// The keyframe tracker with the sparse tracker (ReconstructionOptions.SparseTracking) poses the frames of a rendered
        /// walk against the keyframe's true depth as the dense-flow tracker does (ReducedTrackingTests, same scene and
        /// measure): within a quarter pixel of the true motion's reprojection, with no dense flow for frames that are not
        /// keyframes; and a frame whose depth is wanted when it is finalised gets its dense flow then.
        /// </summary>
        [Fact]
        public void Sparse_tracking_poses_frames_as_the_dense_flow_does()
        {
            const int W = FlowMap.Tests.Reconstruction.ReducedTrackingTests.W, H = FlowMap.Tests.Reconstruction.ReducedTrackingTests.H;
            var s = FlowMap.Tests.Reconstruction.ReducedTrackingTests.Render();
            var o = new ReconstructionOptions { ProcessingSize = (W, H), FocalPixels = FlowMap.Tests.Reconstruction.ReducedTrackingTests.Focal, SparseTracking = true, KeyframeFlowFraction = 10 };
            o.Validate();
            var state = new ReconstructionState(o, new StageClock(), null, _ => { }, () => false);
            using var dense = new VulkanFlowEstimator(Ctx, null, ownsContext: false);
            using var sparse = new SparseTracker(Ctx);
            var tracker = new KeyframeTracker(state, dense, sparse);
            var f0 = new Frame(0, 0, s.Images[0], "000000.png");
            var k0 = tracker.Track(f0, state.Prepare(f0), TestContext.Current.CancellationToken).NewKeyframe!;
            var depth0 = s.Full.Depth(0);
            k0.Depth = depth0;
            k0.Confidence = new FloatImage(W, H, Enumerable.Repeat(1f, W * H).ToArray());
            k0.Mapped = true;
            state.SolvedOnce = true;
            var errors = new List<double>();
            // Frames 1 to 4: up to about three times the motion at which the default keyframe rule (0.03 sqrt(W H)) makes a
            // new keyframe; beyond, the translational windows deform with the view (frame 5: 0.27 px).
            for (int i = 1; i < 5; i++)
            {
                var f = new Frame(i, i / 30.0, s.Images[i], $"{i:D6}.png");
                var t = tracker.Track(f, state.Prepare(f), TestContext.Current.CancellationToken);
                Assert.Null(t.NewKeyframe);
                Assert.True(t.Posed, $"frame {i} not posed");
                Assert.Null(t.Flow); // tracked by points
                Assert.Null(t.Follower!.Flow);
                Assert.True(t.Follower.Matches.Count >= KeyframeTracker.MinSparseTracks, $"frame {i}: {t.Follower.Matches.Count} matches");
                var truth = s.Full.Poses[0].Inverse().Compose(s.Full.Poses[i]);
                errors.Add(FlowMap.Tests.Reconstruction.ReducedTrackingTests.MeanReprojectionDifference(depth0, state.K, truth, t.Pose));
            }

            // The tolerance of the dense tracker's test (a quarter pixel): the pose is fitted to a couple of hundred matches
            // whose errors are about the dense flow's (Tracks_a_rendered_room_as_its_true_flow).
            string what = $"mean reprojection difference per frame, px: [{string.Join(", ", errors.Select(e => e.ToString("F3")))}]";
            Assert.All(errors, e => Assert.True(e < 0.25, what));
        }

        [Fact]
        public void A_frame_of_another_size_is_refused()
        {
            using var tracker = new SparseTracker(Ctx);
            var img = new RgbImage(40, 30);
            tracker.SetKeyframe(img);
            var e = Assert.Throws<ArgumentException>(() => tracker.Track(new RgbImage(42, 30)));
            Assert.Contains("differs in size", e.Message);
            Assert.Throws<InvalidOperationException>(() => new SparseTracker(Ctx).Track(img));
        }
    }
}
