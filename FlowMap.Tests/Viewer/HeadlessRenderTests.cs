using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Viewer.Rendering;
using FlowMap.Viewer.Scenes;
using Xunit;

namespace FlowMap.Tests.Viewer
{
    /// <summary>
    /// Headless rendering against a CPU projection of the same points: the viewer's view-projection, rasteriser set-up
    /// and read-back must put every point on the pixel the pinhole model (Intrinsics.Project) gives, with its colour.
    /// </summary>
    public sealed class HeadlessRenderTests
    {
        private static RenderSettings PointsOnly(double px, PointMode mode) => new RenderSettings
        {
            PointMode = mode,
            ShowGrid = false, ShowAxes = false, ShowTrajectory = false, ShowFrustums = false, ShowInset = false, ShowText = false,
            FixedPointPixels = px, Background = (0, 0, 0),
        };

        [Theory]
        [InlineData(PointMode.Sprites)]
        [InlineData(PointMode.Compute)]
        public void Sparse_points_land_where_the_cpu_projection_puts_them(PointMode mode)
        {
            const int W = 331, H = 217; // odd sizes
            var rng = new Random(12345);
            var k = new Intrinsics(W, H, 260.5, 255.0, 170.2, 101.7);
            var scene = ViewerTestSupport.Room(400, 10, rng, k);
            using var r = ViewerTestSupport.Renderer(W, H);
            var cams = new[] { scene.Trajectory[0], scene.Trajectory[9], ViewCamera.LookAt((3, -2, -2), (0, 0, 3)) };
            int checkedPoints = 0;
            foreach (var pose in cams)
            {
                var cam = new ViewCamera { Pose = pose, Intrinsics = k, Near = 0.05, Far = 100 };
                var img = r.Render(cam, PointsOnly(3, mode), scene, Array.Empty<string>());
                Assert.Equal(mode, r.Scene.LastPointMode);
                r.Device.ThrowIfValidationErrors();

                // CPU projection of every point; keep points whose 5x5 neighbourhood has no other projected point.
                var cloud = scene.PointChunks[0];
                var inv = pose.Inverse();
                var all = new List<(double U, double V, double Z, int I)>();
                for (int i = 0; i < cloud.Count; i++)
                {
                    var c = inv.Transform(cloud.Positions[3 * i], cloud.Positions[3 * i + 1], cloud.Positions[3 * i + 2]);
                    if (k.Project(c.X, c.Y, c.Z, out double u, out double v) && c.Z > 0.05) all.Add((u, v, c.Z, i));
                }
                var proj = all.Where(p => p.U > 4 && p.V > 4 && p.U < W - 5 && p.V < H - 5).ToList();
                Assert.True(proj.Count > 50, $"only {proj.Count} points in view");
                foreach (var p in proj)
                {
                    if (all.Any(q => q.I != p.I && Math.Abs(q.U - p.U) < 5 && Math.Abs(q.V - p.V) < 5)) continue;
                    // Sub-pixel positions near a pixel boundary can round either way: check the nearest pixel centre only when
                    // the point is at least 0.25 px from a boundary of the 3-pixel splat.
                    int x = (int)Math.Round(p.U), y = (int)Math.Round(p.V);
                    var got = ViewerTestSupport.Pixel(img, W, x, y);
                    var want = (cloud.Colors[3 * p.I], cloud.Colors[3 * p.I + 1], cloud.Colors[3 * p.I + 2]);
                    Assert.True(Math.Abs(got.R - want.Item1) <= 2 && Math.Abs(got.G - want.Item2) <= 2 && Math.Abs(got.B - want.Item3) <= 2,
                        $"point {p.I} projects to ({p.U:F2}, {p.V:F2}) z={p.Z:F2}: pixel ({x}, {y}) is {got}, want {want}");
                    // And nothing is drawn 3 pixels away (the splat is 3 wide, centred on the projection).
                    foreach (var (dx, dy) in new[] { (3, 0), (-3, 0), (0, 3), (0, -3) })
                    {
                        var far = ViewerTestSupport.Pixel(img, W, x + dx, y + dy);
                        Assert.True(far == (0, 0, 0) || all.Any(q => q.I != p.I && Math.Abs(q.U - (x + dx)) < 3 && Math.Abs(q.V - (y + dy)) < 3),
                            $"point {p.I} at ({p.U:F2}, {p.V:F2}) also lit pixel ({x + dx}, {y + dy}) = {far}");
                    }
                    checkedPoints++;
                }
            }
            Assert.True(checkedPoints > 100, $"only {checkedPoints} isolated points were checked");
        }

        [Theory]
        [InlineData(400, 0, 1)]
        [InlineData(400, 400, 1)]
        [InlineData(400, 399, 2)]
        [InlineData(400, 100, 4)]
        [InlineData(1000, 60, 32)]
        public void Point_stride_is_the_smallest_power_of_two_within_the_budget(int count, int budget, int stride)
        {
            Assert.Equal(stride, SceneRenderer.PointStride(count, budget));
        }

        [Theory]
        [InlineData(PointMode.Sprites)]
        [InlineData(PointMode.Compute)]
        public void Point_budget_draws_every_kth_point_and_no_other(PointMode mode)
        {
            const int W = 200, H = 150;
            var k = Intrinsics.Centered(W, H, 160);
            var scene = ViewerTestSupport.Room(300, 2, new Random(99), k);
            using var r = ViewerTestSupport.Renderer(W, H);
            var pose = ViewCamera.LookAt((0, -0.5, -4), (0, 0, 3));
            var cam = new ViewCamera { Pose = pose, Intrinsics = k, Near = 0.05, Far = 100 };
            var settings = PointsOnly(1, mode);
            settings.PointBudget = 100; // 300 points: 1 in 4 drawn
            var img = r.Render(cam, settings, scene, Array.Empty<string>());
            r.Device.ThrowIfValidationErrors();
            Assert.Equal(4, r.Scene.LastPointStride);
            var cloud = scene.PointChunks[0];
            var inv = pose.Inverse();
            var all = Enumerable.Range(0, cloud.Count).Select(i =>
            {
                var c = inv.Transform(cloud.Positions[3 * i], cloud.Positions[3 * i + 1], cloud.Positions[3 * i + 2]);
                k.Project(c.X, c.Y, c.Z, out double u, out double v);
                return (U: u, V: v, I: i);
            }).Where(p => p.U > 1 && p.V > 1 && p.U < W - 2 && p.V < H - 2).ToList();
            int drawn = 0, skipped = 0;
            foreach (var p in all)
            {
                if (all.Any(q => q.I != p.I && Math.Abs(q.U - p.U) < 2 && Math.Abs(q.V - p.V) < 2)) continue;
                if (Math.Abs(p.U - Math.Round(p.U)) > 0.4 || Math.Abs(p.V - Math.Round(p.V)) > 0.4) continue; // 1-px points: stay off pixel edges
                var got = ViewerTestSupport.Pixel(img, W, (int)Math.Round(p.U), (int)Math.Round(p.V));
                if (p.I % 4 == 0) { Assert.Equal((cloud.Colors[3 * p.I], cloud.Colors[3 * p.I + 1], cloud.Colors[3 * p.I + 2]), got); drawn++; }
                else { Assert.Equal(((byte)0, (byte)0, (byte)0), got); skipped++; }
            }
            Assert.True(drawn > 10 && skipped > 30, $"checked {drawn} drawn and {skipped} skipped points");
        }

        [Theory]
        [InlineData(PointMode.Sprites)]
        [InlineData(PointMode.Compute)]
        public void Dense_cloud_coverage_matches_a_cpu_splat_rasterisation(PointMode mode)
        {
            const int W = 256, H = 192;
            var rng = new Random(7);
            var k = Intrinsics.Centered(W, H, 200);
            var scene = ViewerTestSupport.Room(60000, 12, rng, k);
            using var r = ViewerTestSupport.Renderer(W, H);
            var cam = new ViewCamera { Pose = ViewCamera.LookAt((2.5, -2.5, -3), (0, 0, 3)), Intrinsics = k, Near = 0.05, Far = 100 };
            // Sprites: 2 px (round sprites of 3 px would drop corner pixels); compute splats are squares: 3 px.
            double px = mode == PointMode.Sprites ? 2 : 3, half = px / 2;
            var img = r.Render(cam, PointsOnly(px, mode), scene, Array.Empty<string>());
            r.Device.ThrowIfValidationErrors();

            // CPU: each projected point marks its square splat (pixels whose centres lie within px/2 of the projection).
            var cpu = new bool[W * H];
            var cloud = scene.PointChunks[0];
            var inv = cam.Pose.Inverse();
            for (int i = 0; i < cloud.Count; i++)
            {
                var c = inv.Transform(cloud.Positions[3 * i], cloud.Positions[3 * i + 1], cloud.Positions[3 * i + 2]);
                if (!k.Project(c.X, c.Y, c.Z, out double u, out double v)) continue;
                for (int y = (int)Math.Floor(v - half); y <= (int)Math.Ceiling(v + half); y++)
                    for (int x = (int)Math.Floor(u - half); x <= (int)Math.Ceiling(u + half); x++)
                        if (x >= 0 && y >= 0 && x < W && y < H && Math.Abs(x - u) < half && Math.Abs(y - v) < half) cpu[y * W + x] = true;
            }
            int both = 0, gpuOnly = 0, cpuOnly = 0;
            for (int i = 0; i < W * H; i++)
            {
                bool g = img[4 * i] + img[4 * i + 1] + img[4 * i + 2] > 0;
                if (g && cpu[i]) both++; else if (g) gpuOnly++; else if (cpu[i]) cpuOnly++;
            }
            double iou = both / (double)(both + gpuOnly + cpuOnly);
            Assert.True(both > W * H / 4, $"the image is nearly blank: {both} covered pixels of {W * H}");
            Assert.True(iou > 0.97, $"coverage IoU GPU vs CPU {iou:F4} (both {both}, GPU only {gpuOnly}, CPU only {cpuOnly})");
        }

        [Fact]
        public void Default_overview_with_all_layers_is_not_blank_and_is_validation_clean()
        {
            const int W = 320, H = 240;
            var k = Intrinsics.Centered(160, 120, 100);
            var scene = ViewerTestSupport.Room(20000, 30, new Random(3), k);
            var depth = new FloatImage(160, 120, Enumerable.Range(0, 160 * 120).Select(i => 1f + i % 160 / 80f).ToArray());
            var flow = new FlowField(160, 120, Enumerable.Range(0, 160 * 120 * 2).Select(i => (float)Math.Sin(i * 0.01)).ToArray());
            scene = new ViewerSnapshot
            {
                PointChunks = scene.PointChunks, Trajectory = scene.Trajectory, Intrinsics = k, CurrentFrame = 29, FrameNumber = 29,
                Image = new RgbImage(160, 120), Depth = depth, Flow = flow, InsetVersion = 1,
            };
            using var r = ViewerTestSupport.Renderer(W, H);
            r.Scene.Sync(scene);
            var cam = CameraSpec.Overview.Resolve(scene, r.Scene.Bounds, W, H);
            var settings = new RenderSettings();
            var img = r.Render(cam, settings, scene, new[] { "FRAME 29  FPS 0.0" });
            r.Device.ThrowIfValidationErrors();
            var bg = settings.Background;
            var bgPx = ((byte)Math.Round(bg.R * 255), (byte)Math.Round(bg.G * 255), (byte)Math.Round(bg.B * 255));
            int nonBg = 0;
            for (int i = 0; i < W * H; i++)
                if (Math.Abs(img[4 * i] - bgPx.Item1) + Math.Abs(img[4 * i + 1] - bgPx.Item2) + Math.Abs(img[4 * i + 2] - bgPx.Item3) > 6) nonBg++;
            Assert.True(nonBg > W * H / 5, $"only {nonBg} of {W * H} pixels differ from the background");
            // The current camera's frustum colour appears (yellow), and the trajectory's (orange).
            Assert.Contains(Enumerable.Range(0, W * H), i => img[4 * i] == 255 && img[4 * i + 1] == 255 && img[4 * i + 2] == 60);
            Assert.Contains(Enumerable.Range(0, W * H), i => img[4 * i] == 255 && img[4 * i + 1] == 150 && img[4 * i + 2] == 40);
        }

        [Theory]
        [InlineData(PointMode.Sprites)]
        [InlineData(PointMode.Compute)]
        public void Points_arriving_in_chunks_render_exactly_like_the_whole_cloud(PointMode mode)
        {
            const int W = 160, H = 120;
            var k = Intrinsics.Centered(W, H, 120);
            var whole = ViewerTestSupport.Room(20000, 5, new Random(21), k);
            var cloud = whole.PointChunks[0];
            // The same points as 40 chunks of 500: the growing vertex buffer is reallocated (4096 to start) while frames are drawn.
            var chunks = new List<PointCloud>();
            for (int c = 0; c < 40; c++)
                chunks.Add(new PointCloud(cloud.Positions.AsSpan(c * 1500, 1500).ToArray(), cloud.Colors.AsSpan(c * 1500, 1500).ToArray()));
            // Fixed point size and no bounds-dependent layers (grid, axes, frustums): the scene bounds are refreshed at other
            // times when points arrive in chunks, and this test is about the point buffer.
            var settings = new RenderSettings
            {
                PointMode = mode, FixedPointPixels = 3, ShowText = false, ShowInset = false, ShowGrid = false, ShowAxes = false, ShowFrustums = false,
            };
            var cam = new ViewCamera { Pose = ViewCamera.LookAt((2, -2, -3), (0, 0, 3)), Intrinsics = k, Near = 0.05, Far = 100 };
            using var r = ViewerTestSupport.Renderer(W, H);
            byte[] last = Array.Empty<byte>();
            for (int n = 1; n <= chunks.Count; n += 3)
            {
                var partial = new ViewerSnapshot { PointChunks = chunks.GetRange(0, Math.Min(n, chunks.Count)), Trajectory = whole.Trajectory, Intrinsics = k };
                last = r.Render(cam, settings, partial, Array.Empty<string>());
            }
            var all = new ViewerSnapshot { PointChunks = chunks, Trajectory = whole.Trajectory, Intrinsics = k };
            last = r.Render(cam, settings, all, Array.Empty<string>());
            Assert.True(r.Scene.PointBufferReallocations >= 2, $"only {r.Scene.PointBufferReallocations} reallocations");
            Assert.Equal(20000, r.Scene.PointCount);
            r.Device.ThrowIfValidationErrors();

            using var fresh = ViewerTestSupport.Renderer(W, H);
            var expected = fresh.Render(cam, settings, new ViewerSnapshot { PointChunks = new[] { cloud }, Trajectory = whole.Trajectory, Intrinsics = k, PointsGeneration = 1 },
                Array.Empty<string>());
            Assert.Equal(expected, last);
        }
    }
}