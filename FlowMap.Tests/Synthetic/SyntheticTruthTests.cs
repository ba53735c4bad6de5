using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Gpu.Kernels;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Synthetic
{
    /// <summary>
    /// The synthetic ground truth agrees with itself: images, depth, poses, intrinsics, flow and occlusion are
    /// consistent, checked through the public API at small sizes.
    /// </summary>
    public sealed class SyntheticTruthTests : GpuTest
    {
        private readonly ITestOutputHelper _out;

        public SyntheticTruthTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        private SyntheticSequence Sequence(string path, int frames, int w = 160, int h = 120, int seed = 1, double motion = 1, string scene = "room", double? focal = null, double k1 = 0) =>
            SyntheticSequence.Create(SyntheticScene.Create(scene, seed),
                new SyntheticSequenceOptions { Path = path, Frames = frames, Width = w, Height = h, Seed = seed, Motion = motion, Focal = focal, K1 = k1 }, Ctx, ownsContext: false);

        private static float[] Channel(RgbImage img, int c)
        {
            var a = new float[img.Width * img.Height];
            for (int i = 0; i < a.Length; i++) a[i] = img.Pixels[3 * i + c];
            return a;
        }

        /// <summary>Photometric error (levels of 255) of frame b warped into frame a by flow, over non-occluded pixels whose target lies inside b.</summary>
        /// <summary>True when the 3x3 neighbourhood of (x, y) spans a depth jump of more than 5 %: an anti-aliased silhouette pixel mixes two surfaces that move differently.</summary>
        private static bool AtDepthEdge(FloatImage d, int x, int y)
        {
            float lo = float.MaxValue, hi = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    int xx = Math.Clamp(x + dx, 0, d.Width - 1), yy = Math.Clamp(y + dy, 0, d.Height - 1);
                    lo = Math.Min(lo, d[xx, yy]); hi = Math.Max(hi, d[xx, yy]);
                }
            return hi > 1.05f * lo;
        }

        /// <summary>Keys (1981) cubic convolution, a = -0.5, clamp-to-edge: interpolates textured images much closer than bilinear.</summary>
        private static double Cubic(float[] src, int w, int h, double px, double py)
        {
            static double K(double t)
            {
                t = Math.Abs(t);
                return t <= 1 ? (1.5 * t - 2.5) * t * t + 1 : t < 2 ? ((-0.5 * t + 2.5) * t - 4) * t + 2 : 0;
            }
            int x0 = (int)Math.Floor(px), y0 = (int)Math.Floor(py);
            double sum = 0;
            for (int j = -1; j <= 2; j++)
            {
                double wy = K(py - (y0 + j));
                int yy = Math.Clamp(y0 + j, 0, h - 1);
                for (int i = -1; i <= 2; i++)
                    sum += wy * K(px - (x0 + i)) * src[yy * w + Math.Clamp(x0 + i, 0, w - 1)];
            }
            return sum;
        }

        private static (double Mean, double P95, int Count) WarpError(RgbImage a, RgbImage b, FlowField flow, FloatImage occ, FloatImage depthA, double shiftU = 0)
        {
            int w = a.Width, h = a.Height;
            var chans = Enumerable.Range(0, 3).Select(c => Channel(b, c)).ToArray();
            var errs = new List<double>();
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x;
                    if (occ.Data[i] > 0 || AtDepthEdge(depthA, x, y)) continue;
                    double px = x + flow.U(x, y) + shiftU, py = y + flow.V(x, y);
                    if (px < 0 || py < 0 || px > w - 1 || py > h - 1) continue;
                    double e = 0;
                    for (int c = 0; c < 3; c++) e += Math.Abs(Cubic(chans[c], w, h, px, py) - a.Pixels[3 * i + c]);
                    errs.Add(e / 3);
                }
            errs.Sort();
            return (errs.Average(), errs[(int)(0.95 * (errs.Count - 1))], errs.Count);
        }

        /// <summary>
        /// Frame b is resampled at p + flow(p) with Keys cubic interpolation, over pixels of a that are not occluded and
        /// not on a depth edge (an anti-aliased silhouette pixel mixes two surfaces that move differently). Bound: mean
        /// absolute error at most 2.5 levels of 255 and 95th percentile at most 8 (measured: mean 1.7..2.2, p95 5..7;
        /// what remains is resampling of texture detail near the sampling limit, and band-limiting that depends on
        /// distance). Shifting the flow by 1 px must make the error at least twice as large (measured 4..6 times), so
        /// the bound is not met by any flow. The same bounds hold with radial distortion (barrel k1 = -0.2 and pincushion
        /// +0.1): the flow reprojects through the distortion, and the texture band-limit follows the distortion's
        /// local scale, so the images are as smooth per pixel as the pinhole's.
        /// </summary>
        [Theory]
        [InlineData("walk", 1.0, 1, 0.0)]
        [InlineData("orbit", 1.0, 2, 0.0)]
        [InlineData("forward", 1.0, 1, 0.0)]
        [InlineData("walk", 3.0, 1, 0.0)]
        [InlineData("rotation", 3.0, 1, 0.0)]
        [InlineData("walk", 1.0, 1, -0.2)]
        [InlineData("orbit", 1.0, 2, 0.1)]
        [InlineData("rotation", 3.0, 1, -0.2)]
        public void Warping_b_into_a_with_true_flow_reproduces_a(string path, double motion, int gap, double k1)
        {
            using var seq = Sequence(path, 4 + gap, motion: motion, k1: k1);
            int a = 3, b = 3 + gap;
            var flow = seq.Flow(a, b);
            var occ = seq.Occlusion(a, b);
            var (mean, p95, n) = WarpError(seq.Frame(a), seq.Frame(b), flow, occ, seq.Depth(a));
            var (meanShift, _, _) = WarpError(seq.Frame(a), seq.Frame(b), flow, occ, seq.Depth(a), shiftU: 1);
            double maxFlow = 0;
            for (int i = 0; i < flow.Data.Length / 2; i++) maxFlow = Math.Max(maxFlow, Math.Sqrt(flow.Data[2 * i] * flow.Data[2 * i] + flow.Data[2 * i + 1] * flow.Data[2 * i + 1]));
            _out.WriteLine($"{path} motion {motion} gap {gap} k1 {k1}: mean {mean:F2} p95 {p95:F2} over {n} px; shifted by 1 px: {meanShift:F2}; max flow {maxFlow:F1}");
            Assert.True(n > 0.5 * seq.Intrinsics.Width * seq.Intrinsics.Height, $"only {n} pixels are visible in both frames");
            Assert.True(mean <= 2.5, $"mean warp error {mean:F2} levels");
            Assert.True(p95 <= 8, $"95th percentile warp error {p95:F2} levels");
            Assert.True(meanShift >= 2 * mean, $"a 1 px shift only raised the error from {mean:F2} to {meanShift:F2}");
        }

        /// <summary>
        /// The flow equals the reprojection of frame a's depth computed here from the public pose and intrinsics types
        /// (within 1e-3 px), and the reprojected z-depth agrees with the separately rendered depth of frame b. Inverse
        /// depth over a plane is affine in the undistorted normalised coordinates, so it is interpolated exactly (for
        /// planes) by barycentric weights of the reprojected point among three of its four neighbouring pixel centres,
        /// taken in undistorted coordinates (with k1 = 0 these are pixel coordinates scaled), where all four lie within 1 %
        /// of each other: median relative difference at most 1e-5 (float rounding), and within 0.2 % on 98 % of those
        /// pixels (the rest are neighbourhoods straddling a crease or on a curved surface, where inverse depth is not
        /// affine). With distortion (k1 = -0.2, +0.1) the same bounds hold.
        /// </summary>
        [Theory]
        [InlineData("walk", "room", 0.0)]
        [InlineData("orbit", "boxes", 0.0)]
        [InlineData("forward", "room", 0.0)]
        [InlineData("walk", "room", -0.2)]
        [InlineData("orbit", "boxes", 0.1)]
        public void Reprojected_depth_agrees_with_flow_and_depth_of_b(string path, string scene, double k1)
        {
            using var seq = Sequence(path, 6, w: 97, h: 71, scene: scene, motion: 2, k1: k1);
            int a = 2, b = 5;
            var k = seq.Intrinsics;
            Assert.Equal(k1, k.K1);
            var rel = seq.Pose(b).Inverse().Compose(seq.Pose(a));
            var da = seq.Depth(a);
            var db = seq.Depth(b);
            var flow = seq.Flow(a, b);
            var occ = seq.Occlusion(a, b);
            int w = k.Width, h = k.Height, checkedDepth = 0, depthOff = 0;
            double worstFlow = 0;
            var rels = new List<double>();
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    var pa = k.Unproject(x, y, da[x, y]);
                    var (X, Y, Z) = rel.Transform(pa.X, pa.Y, pa.Z);
                    Assert.True(k.Project(X, Y, Z, out double u, out double v) || occ[x, y] > 0, $"pixel ({x}, {y}) is behind b but not occluded");
                    if (occ[x, y] > 0) continue;
                    worstFlow = Math.Max(worstFlow, Math.Max(Math.Abs(u - x - flow.U(x, y)), Math.Abs(v - y - flow.V(x, y))));
                    if (u < 0 || v < 0 || u > w - 1 || v > h - 1) continue;
                    int x0 = Math.Min((int)u, w - 2), y0 = Math.Min((int)v, h - 2);
                    float q00 = db[x0, y0], q10 = db[x0 + 1, y0], q01 = db[x0, y0 + 1], q11 = db[x0 + 1, y0 + 1];
                    float lo = Math.Min(Math.Min(q00, q10), Math.Min(q01, q11)), hi = Math.Max(Math.Max(q00, q10), Math.Max(q01, q11));
                    if (hi > 1.01 * lo) continue;
                    double inv = InverseDepthAt(k, db, x0, y0, u, v);
                    checkedDepth++;
                    rels.Add(Math.Abs(1 / inv - Z) / Z);
                    if (Math.Abs(1 / inv - Z) > 2e-3 * Z) depthOff++;
                }
            rels.Sort();
            _out.WriteLine($"{path}/{scene} k1 {k1}: worst flow difference {worstFlow:E2} px; depth checked {checkedDepth}, off {depthOff}; rel err p50 {rels[rels.Count / 2]:E2} p98 {rels[(int)(0.98 * (rels.Count - 1))]:E2} p99 {rels[(int)(0.99 * (rels.Count - 1))]:E2} max {rels[^1]:E2}");
            Assert.True(worstFlow <= 1e-3, $"flow differs from the reprojection by {worstFlow} px");
            Assert.True(checkedDepth > w * h / 5, $"only {checkedDepth} pixels could be checked");
            Assert.True(rels[rels.Count / 2] <= 1e-5, $"median relative depth difference {rels[rels.Count / 2]:E2}");
            Assert.True(depthOff <= checkedDepth / 50, $"{depthOff} of {checkedDepth} reprojected depths disagree with frame b's depth by more than 0.2 %");
        }

        /// <summary>
        /// Inverse depth at pixel position (u, v) in the cell with corner (x0, y0): barycentric weights of (u, v)'s
        /// undistorted normalised point among the undistorted points of the cell's triangle that holds (u, v) in pixel
        /// coordinates. Exact for a plane (inverse depth affine in normalised coordinates), distorted or not.
        /// </summary>
        private static double InverseDepthAt(Intrinsics k, FloatImage depth, int x0, int y0, double u, double v)
        {
            bool lower = (u - x0) + (v - y0) <= 1;
            var (c0, c1, c2) = lower ? ((x0, y0), (x0 + 1, y0), (x0, y0 + 1)) : ((x0 + 1, y0 + 1), (x0, y0 + 1), (x0 + 1, y0));
            (double X, double Y) N(double px, double py) { var r = k.Unproject(px, py, 1); return (r.X, r.Y); }
            var p = N(u, v); var a = N(c0.Item1, c0.Item2); var b = N(c1.Item1, c1.Item2); var c = N(c2.Item1, c2.Item2);
            double det = (b.X - a.X) * (c.Y - a.Y) - (c.X - a.X) * (b.Y - a.Y);
            double wb = ((p.X - a.X) * (c.Y - a.Y) - (c.X - a.X) * (p.Y - a.Y)) / det;
            double wc = ((b.X - a.X) * (p.Y - a.Y) - (p.X - a.X) * (b.Y - a.Y)) / det;
            return (1 - wb - wc) / depth[c0.Item1, c0.Item2] + wb / depth[c1.Item1, c1.Item2] + wc / depth[c2.Item1, c2.Item2];
        }

        /// <summary>Forward then backward flow returns to the start: |f_ab(p) + f_ba(p + f_ab(p))| &lt;= 0.05 px on 99 % of non-occluded pixels on smooth surfaces.</summary>
        [Fact]
        public void Forward_and_backward_flow_are_consistent()
        {
            using var seq = Sequence("walk", 5, w: 97, h: 71, motion: 2);
            var fab = seq.Flow(1, 4);
            var occ = seq.Occlusion(1, 4);
            var fba = seq.Flow(4, 1);
            var db = seq.Depth(4);
            int w = fab.Width, h = fab.Height, n = 0, off = 0;
            var bu = new float[w * h]; var bv = new float[w * h];
            for (int i = 0; i < w * h; i++) { bu[i] = fba.Data[2 * i]; bv[i] = fba.Data[2 * i + 1]; }
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    if (occ[x, y] > 0) continue;
                    double u = x + fab.U(x, y), v = y + fab.V(x, y);
                    if (u < 0 || v < 0 || u > w - 1 || v > h - 1) continue;
                    int x0 = Math.Min((int)u, w - 2), y0 = Math.Min((int)v, h - 2);
                    float lo = Math.Min(Math.Min(db[x0, y0], db[x0 + 1, y0]), Math.Min(db[x0, y0 + 1], db[x0 + 1, y0 + 1]));
                    float hi = Math.Max(Math.Max(db[x0, y0], db[x0 + 1, y0]), Math.Max(db[x0, y0 + 1], db[x0 + 1, y0 + 1]));
                    if (hi > 1.01 * lo) continue;
                    n++;
                    double ru = fab.U(x, y) + Warp.Sample(bu, w, h, u, v), rv = fab.V(x, y) + Warp.Sample(bv, w, h, u, v);
                    if (Math.Sqrt(ru * ru + rv * rv) > 0.05) off++;
                }
            _out.WriteLine($"checked {n}, off {off}");
            Assert.True(n > w * h / 5, $"only {n} pixels checked");
            Assert.True(off <= n / 100, $"{off} of {n} pixels do not return within 0.05 px");
        }

        /// <summary>
        /// Pure rotation: the flow is the homography K R K^-1, whatever the depth (known answer, 1e-3 px); nothing but
        /// leaving the image occludes. With distortion the homography acts between undistorted rays:
        /// p_b = distort(K R K^-1 undistort(p_a)).
        /// </summary>
        [Theory]
        [InlineData(0.0)]
        [InlineData(-0.2)]
        [InlineData(0.1)]
        public void Rotation_path_flow_is_the_rotation_homography(double k1)
        {
            using var seq = Sequence("rotation", 4, w: 81, h: 59, motion: 3, k1: k1);
            Assert.Equal(seq.Pose(0).Center, seq.Pose(3).Center);
            var k = seq.Intrinsics;
            var r = seq.Pose(3).Inverse().Compose(seq.Pose(0));
            var flow = seq.Flow(0, 3);
            var occ = seq.Occlusion(0, 3);
            double worst = 0;
            for (int y = 0; y < k.Height; y++)
                for (int x = 0; x < k.Width; x++)
                {
                    var ray = k.Unproject(x, y, 1);
                    var (X, Y, Z) = r.Transform(ray.X, ray.Y, ray.Z);
                    if (!k.Project(X, Y, Z, out double u, out double v))
                    {
                        // Behind the camera or beyond the distortion's fold: not visible in b.
                        Assert.True(occ[x, y] > 0, $"pixel ({x}, {y}) does not project into b but is not occluded");
                        continue;
                    }
                    worst = Math.Max(worst, Math.Max(Math.Abs(u - x - flow.U(x, y)), Math.Abs(v - y - flow.V(x, y))));
                    bool outside = u < -0.5 || v < -0.5 || u > k.Width - 0.5 || v > k.Height - 0.5;
                    Assert.True(outside == (occ[x, y] > 0), $"pixel ({x}, {y}): occlusion {occ[x, y]} but outside = {outside}");
                }
            Assert.True(worst <= 1e-3, $"rotation flow differs from the homography by {worst} px");
            Assert.True(flow.Data.Max(Math.Abs) > 3, "the rotation path should move the image");
        }

        /// <summary>
        /// Each pixel of a distorted camera sees along the undistorted ray of its position: the depth rendered with
        /// k1 = -0.2 at pixel p equals the pinhole camera's depth at pixel K undistort(K^-1 p) (same pose, same scene, same
        /// focal; the pinhole image is larger, 141x105, so that it holds every undistorted position), interpolated exactly
        /// for planes (<see cref="InverseDepthAt"/> with the pinhole). Bounds as for the reprojected depth: median relative
        /// difference 1e-5, within 0.2 % on 98 % of the pixels with a smooth neighbourhood, at least a fifth of the pixels
        /// checked. The distortion moves the corners by several pixels, so the comparison is not trivially the identity.
        /// </summary>
        [Fact]
        public void Distorted_pixels_see_along_their_undistorted_rays()
        {
            using var pin = Sequence("walk", 3, w: 141, h: 105, motion: 2, focal: 0.8 * 97);
            using var dis = Sequence("walk", 3, w: 97, h: 71, motion: 2, k1: -0.2);
            var kp = pin.Intrinsics; var kd = dis.Intrinsics;
            var d0 = pin.Depth(2); var d1 = dis.Depth(2);
            int w = kd.Width, h = kd.Height, n = 0, off = 0;
            double moved = 0;
            var rels = new List<double>();
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    var ray = kd.Unproject(x, y, 1);
                    Assert.True(kp.Project(ray.X, ray.Y, ray.Z, out double u, out double v));
                    moved = Math.Max(moved, Math.Max(Math.Abs(u - kp.Cx - (x - kd.Cx)), Math.Abs(v - kp.Cy - (y - kd.Cy))));
                    Assert.True(u >= 0 && v >= 0 && u <= kp.Width - 1 && v <= kp.Height - 1, $"pixel ({x}, {y}) undistorts outside the pinhole image");
                    int x0 = Math.Min((int)u, kp.Width - 2), y0 = Math.Min((int)v, kp.Height - 2);
                    float lo = Math.Min(Math.Min(d0[x0, y0], d0[x0 + 1, y0]), Math.Min(d0[x0, y0 + 1], d0[x0 + 1, y0 + 1]));
                    float hi = Math.Max(Math.Max(d0[x0, y0], d0[x0 + 1, y0]), Math.Max(d0[x0, y0 + 1], d0[x0 + 1, y0 + 1]));
                    if (hi > 1.01 * lo) continue;
                    double z = 1 / InverseDepthAt(kp, d0, x0, y0, u, v);
                    n++;
                    double rel = Math.Abs(d1[x, y] - z) / z;
                    rels.Add(rel);
                    if (rel > 2e-3) off++;
                }
            rels.Sort();
            _out.WriteLine($"undistorted positions move up to {moved:F2} px; checked {n}, off {off}; rel p50 {rels[n / 2]:E2} p98 {rels[(int)(0.98 * (n - 1))]:E2}");
            Assert.True(moved > 3, $"k1 = -0.2 moves the corners by only {moved:F2} px");
            Assert.True(n > w * h / 5, $"only {n} pixels checked");
            Assert.True(rels[n / 2] <= 1e-5, $"median relative depth difference {rels[n / 2]:E2}");
            Assert.True(off <= n / 50, $"{off} of {n} distorted depths disagree with the pinhole's along the same ray by more than 0.2 %");
        }

        /// <summary>A static camera: zero flow, nothing occluded, identical frames.</summary>
        [Fact]
        public void Static_path_has_zero_flow_and_no_occlusion()
        {
            using var seq = Sequence("static", 3, w: 45, h: 33);
            var flow = seq.Flow(0, 2);
            var occ = seq.Occlusion(0, 2);
            Assert.True(flow.Data.Max(Math.Abs) < 1e-3, $"static flow reaches {flow.Data.Max(Math.Abs)} px");
            Assert.All(occ.Data, o => Assert.Equal(0f, o));
            Assert.Equal(seq.Frame(0).Pixels, seq.Frame(2).Pixels);
        }

        /// <summary>The same scene, seed and options give the same bytes; another seed gives another sequence.</summary>
        [Fact]
        public void Sequences_are_deterministic_from_the_seed()
        {
            byte[] f1, f2, f3; float[] d1, d2; float[] fl1, fl2;
            using (var s = Sequence("walk", 4, w: 41, h: 31, seed: 7)) { f1 = s.Frame(3).Pixels; d1 = s.Depth(3).Data; fl1 = s.Flow(2, 3).Data; }
            using (var s = Sequence("walk", 4, w: 41, h: 31, seed: 7)) { f2 = s.Frame(3).Pixels; d2 = s.Depth(3).Data; fl2 = s.Flow(2, 3).Data; }
            using (var s = Sequence("walk", 4, w: 41, h: 31, seed: 8)) { f3 = s.Frame(3).Pixels; }
            Assert.Equal(f1, f2);
            Assert.Equal(d1, d2);
            Assert.Equal(fl1, fl2);
            Assert.NotEqual(f1, f3);
            var p7 = CameraPaths.Generate("walk", 10, 7, 1);
            var p7b = CameraPaths.Generate("walk", 10, 7, 1);
            var p8 = CameraPaths.Generate("walk", 10, 8, 1);
            Assert.Equal(p7[9].Translation, p7b[9].Translation);
            Assert.Equal(p7[9].Rotation, p7b[9].Rotation);
            Assert.NotEqual(p7[9].Translation, p8[9].Translation);
            Assert.NotEqual(SyntheticScene.Create("boxes", 1).Description.Packed, SyntheticScene.Create("boxes", 2).Description.Packed);
        }

        /// <summary>
        /// Adjacent-frame flow at motion 1 and 320x240 is realistic: median between 1 and 15 px, 95th percentile
        /// between 2 and 30 px on every moving path (forward motion has the smallest flow, near its focus of
        /// expansion); motion 3 makes the 95th percentile at least 2.5 times larger. Colour with one ray per pixel (only
        /// the depth matters here).
        /// </summary>
        [Theory]
        [InlineData("walk")]
        [InlineData("orbit")]
        [InlineData("forward")]
        [InlineData("rotation")]
        public void Adjacent_frame_flow_is_realistic_and_scales_with_motion(string path)
        {
            (double Median, double P95) Stats(double motion)
            {
                using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 1),
                    new SyntheticSequenceOptions { Path = path, Frames = 12, Width = 320, Height = 240, Seed = 1, Motion = motion, Samples = 1 }, Ctx, ownsContext: false);
                var mags = new List<double>();
                foreach (int a in new[] { 0, 10 })
                {
                    var f = seq.Flow(a, a + 1);
                    for (int i = 0; i < f.Data.Length / 2; i++) mags.Add(Math.Sqrt(f.Data[2 * i] * f.Data[2 * i] + f.Data[2 * i + 1] * f.Data[2 * i + 1]));
                }
                mags.Sort();
                return (mags[mags.Count / 2], mags[(int)(0.95 * (mags.Count - 1))]);
            }
            var m1 = Stats(1);
            var m3 = Stats(3);
            _out.WriteLine($"{path}: motion 1 median {m1.Median:F2} p95 {m1.P95:F2}; motion 3 median {m3.Median:F2} p95 {m3.P95:F2}");
            Assert.InRange(m1.Median, 1, 15);
            Assert.InRange(m1.P95, 2, 30);
            Assert.True(m3.P95 >= 2.5 * m1.P95, $"motion 3 gives a 95th percentile of {m3.P95:F1} px against {m1.P95:F1} px at motion 1");
        }

        /// <summary>
        /// The CPU renderer (no device) gives the same frame as the GPU within 2 levels on 99 % of pixels, and the same
        /// depth and flow, pinhole or distorted (the float Newton undistortion on the GPU agrees with the double one to
        /// about 1e-7 relative, far inside these bounds).
        /// </summary>
        [Theory]
        [InlineData(0.0)]
        [InlineData(-0.2)]
        [InlineData(0.1)]
        public void Cpu_sequence_matches_gpu_sequence(double k1)
        {
            var scene = SyntheticScene.Create("room", 4);
            var o = new SyntheticSequenceOptions { Path = "orbit", Frames = 3, Width = 33, Height = 25, Seed = 4, K1 = k1 };
            using var gpu = SyntheticSequence.Create(scene, o, Ctx, ownsContext: false);
            using var cpu = SyntheticSequence.Create(scene, o, null, ownsContext: false);
            Assert.True(gpu.OnGpu);
            Assert.False(cpu.OnGpu);
            var g = gpu.Frame(2).Pixels; var c = cpu.Frame(2).Pixels;
            int off = 0;
            for (int i = 0; i < g.Length; i++) if (Math.Abs(g[i] - c[i]) > 2) off++;
            Assert.True(off <= g.Length / 100, $"{off} of {g.Length} channel values differ by more than 2");
            var dg = gpu.Depth(2).Data; var dc = cpu.Depth(2).Data;
            for (int i = 0; i < dg.Length; i++) Assert.True(Math.Abs(dg[i] - dc[i]) <= 1e-4 * dc[i] + 1e-5, $"depth {dg[i]} vs {dc[i]} at {i}");
            Compare.AllClose(cpu.Flow(0, 2).Data.Select(v => (double)v).ToArray(), gpu.Flow(0, 2).Data, 2e-3, 1e-4, "flow");
        }
    }
}
