using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    public sealed class DepthTransferTests
    {
        /// <summary>The transfer reads the maps through pointers: a map of another size than the flow is refused, never read past its end.</summary>
        [Fact]
        public void Maps_of_another_size_than_the_flow_are_refused()
        {
            var k = Intrinsics.Centered(20, 10, 15);
            var flow = new FlowField(20, 10);
            var full = new FloatImage(20, 10); Array.Fill(full.Data, 1f);
            var small = new FloatImage(10, 5); Array.Fill(small.Data, 1f);
            Assert.Throws<ArgumentException>(() => DepthTransfer.FromKeyframe(flow, full, small, full, k, CameraPose.Identity));
            Assert.Throws<ArgumentException>(() => DepthTransfer.FromKeyframe(flow, full, full, small, k, CameraPose.Identity));
            Assert.Throws<ArgumentException>(() => DepthTransfer.FromKeyframe(flow, small, full, full, k, CameraPose.Identity));
            var (depth, conf) = DepthTransfer.FromKeyframe(flow, full, full, full, k, CameraPose.Identity);
            Assert.All(depth.Data, d => Assert.Equal(1f, d));
            Assert.All(conf.Data, c => Assert.Equal(1f, c));
        }

        /// <summary>
        /// A tilted plane Z = 2 + 0.5 X seen by a keyframe and by a frame turned by 0.3 rad about y and moved, both through
        /// a barrel-distorted camera (k1 = -0.2), with the exact backward flow. The transferred depth equals the frame's own
        /// exact depth of the plane: median relative error at most 1e-4 (bilinear interpolation of depth, which is not
        /// affine in pixels: about (1/8) |d2z/du2| / z ~ 1e-5 here, plus float storage). Lifting the same keyframe depth
        /// through the pinhole (k1 ignored) misses by more than 1e-3: the rotation mixes the (wrong) lateral position into
        /// the frame's z: sin(0.3) (x_u - x_d), with x_u - x_d up to 0.1 at the corners (0.1 rad gave a median of
        /// 9.7e-4, and the error grows with the sine).
        /// </summary>
        [Fact]
        public void Transfer_lifts_keyframe_pixels_along_undistorted_rays()
        {
            const int w = 41, h = 31;
            var k = Intrinsics.Centered(w, h, 33) with { K1 = -0.2 };
            var keyToFrame = new CameraPose(FramePoseEstimator.Rodrigues(0, 0.3, 0), new[] { -0.1, 0, 0.05 });
            var frameToKey = keyToFrame.Inverse();
            double PlaneDepth(Intrinsics kk, CameraPose camToKey, double u, double v)
            {
                // The ray c + s r (key coordinates) meets Z = 2 + 0.5 X: solve for s, return the z-depth in the camera (s, as r has z = 1 in the camera).
                var r = kk.Unproject(u, v, 1);
                var (ox, _, oz) = camToKey.Transform(0, 0, 0);
                var (ex, _, ez) = camToKey.Transform(r.X, r.Y, r.Z);
                double dx = ex - ox, dz = ez - oz;
                return (2 + 0.5 * ox - oz) / (dz - 0.5 * dx);
            }
            var keyDepth = new FloatImage(w, h); var ones = new FloatImage(w, h);
            Array.Fill(ones.Data, 1f);
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) keyDepth[x, y] = (float)PlaneDepth(k, CameraPose.Identity, x, y);
            var backward = new FlowField(w, h);
            var truth = new double[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double z = PlaneDepth(k, frameToKey, x, y);
                    truth[y * w + x] = z;
                    var p = k.Unproject(x, y, z);
                    var (X, Y, Z) = frameToKey.Transform(p.X, p.Y, p.Z);
                    if (!k.Project(X, Y, Z, out double u, out double v)) { u = -10 * w; v = -10 * h; } // beyond the keyframe's fold: leaves it
                    backward.Data[2 * (y * w + x)] = (float)(u - x); backward.Data[2 * (y * w + x) + 1] = (float)(v - y);
                }
            double MedianError(Intrinsics kk)
            {
                var (depth, conf) = DepthTransfer.FromKeyframe(backward, ones, keyDepth, ones, kk, keyToFrame);
                var errs = new List<double>();
                for (int i = 0; i < w * h; i++) if (conf.Data[i] > 0) errs.Add(Math.Abs(depth.Data[i] - truth[i]) / truth[i]);
                Assert.True(errs.Count > w * h / 2, $"only {errs.Count} pixels transferred");
                errs.Sort();
                return errs[errs.Count / 2];
            }
            double good = MedianError(k), pinhole = MedianError(k with { K1 = 0 });
            Assert.True(good <= 1e-4, $"median relative error {good:E2}");
            Assert.True(pinhole > 1e-3, $"ignoring k1 only gives {pinhole:E2}");
        }

        /// <summary>
        /// The median by selection is the element a sort puts in the middle, for any list: duplicates (values drawn from a
        /// few), sorted and reversed runs, one element, and NaN (which takes the sorting path and its order).
        /// </summary>
        [Fact]
        public void The_more_confident_transfer_wins_each_pixel_and_the_first_a_tie()
        {
            var a = (new FloatImage(3, 1, new[] { 1f, 2f, 3f }), new FloatImage(3, 1, new[] { 0.5f, 0f, 0.7f }));
            var b = (new FloatImage(3, 1, new[] { 10f, 20f, 30f }), new FloatImage(3, 1, new[] { 0.4f, 0.9f, 0.7f }));
            var (d, c) = DepthTransfer.MoreConfident(a, b);
            Assert.Equal(new[] { 1f, 20f, 3f }, d.Data);
            Assert.Equal(new[] { 0.5f, 0.9f, 0.7f }, c.Data);
            Assert.Throws<ArgumentException>(() => DepthTransfer.MoreConfident(a, (new FloatImage(2, 1), new FloatImage(2, 1))));
        }

        [Fact]
        public void Median_by_selection_is_the_sorted_middle()
        {
            var values = Gen.OneOf(Gen.Float[-1e6f, 1e6f], Gen.Int[0, 4].Select(i => (float)i), Gen.Const(float.NaN).Select(x => x));
            Gen.Select(values.List[1, 300], Gen.Int[0, 2]).Sample(t =>
            {
                var (list, order) = t;
                var v = order == 1 ? list.OrderBy(x => x).ToList() : order == 2 ? list.OrderByDescending(x => x).ToList() : list.ToList();
                var sorted = v.ToList(); sorted.Sort();
                float expected = sorted[sorted.Count / 2];
                float got = DepthTransfer.Median(v);
                Assert.True(expected.Equals(got), $"median of [{string.Join(", ", list)}] (order {order}): {got}, sorted middle {expected}");
            }, iter: 2000);
        }
    }
}
