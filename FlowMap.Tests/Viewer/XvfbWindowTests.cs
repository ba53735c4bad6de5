using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Tests.Support;
using FlowMap.Viewer;
using FlowMap.Viewer.Rendering;
using FlowMap.Viewer.Scenes;
using Xunit;

namespace FlowMap.Tests.Viewer
{
    /// <summary>
    /// A real window on a private Xvfb display: the viewer presents frames through the swapchain, the screen is captured
    /// with xwd while it runs, and the capture must match a headless render of the same scene and camera. A resize in the
    /// middle must rebuild the swapchain, and the whole run must be validation clean.
    /// </summary>
    public sealed class XvfbWindowTests
    {
        [Fact]
        public void Window_presents_what_the_headless_renderer_draws_and_survives_a_resize()
        {
            if (XvfbServer.Executable == null)
            {
                if (GpuFixture.GpuRequired) throw new InvalidOperationException("FLOWMAP_REQUIRE_GPU=1 but Xvfb is not installed (apt-get install xvfb).");
                Assert.Skip("Xvfb is not installed (apt-get install xvfb).");
            }
            const int W = 320, H = 240;
            var k = Intrinsics.Centered(W, H, 250);
            var scene = new StaticScene("window test", ViewerTestSupport.Room(30000, 20, new Random(5), k));
            var settings = new RenderSettings { ShowText = false, ShowInset = false };

            // The reference: the same scene and camera rendered offscreen.
            byte[] reference;
            using (var off = ViewerTestSupport.Renderer(W, H))
            {
                var snap = scene.Snapshot();
                off.Scene.Sync(snap);
                reference = off.Render(CameraSpec.Overview.Resolve(snap, off.Scene.Bounds, W, H), settings, snap, Array.Empty<string>());
            }

            using var x = XvfbServer.Start(640, 480);
            x.UseAsDisplay();
            RgbImage? screen = null;
            (int, int) sizeAfterResize = default;
            var result = ViewerApp.Run(scene, new ViewerOptions
            {
                Width = W, Height = H, Settings = settings, Validation = true, MaxFrames = 40,
                OnFrame = c =>
                {
                    // Capture once a few frames are on screen (the window sits at the top-left corner: Xvfb has no window manager).
                    if (c.FramesPresented == 5) screen = x.Capture(640, 480);
                    if (c.FramesPresented == 10) c.Resize(400, 300);
                    if (c.FramesPresented == 39) sizeAfterResize = c.Size;
                },
            });

            Assert.Equal(40, result.Frames);
            Assert.True(result.SwapchainRecreations >= 1, "the resize did not rebuild the swapchain");
            Assert.Equal((400, 300), sizeAfterResize);
            Assert.NotNull(screen);
            int close = 0, lit = 0;
            for (int py = 0; py < H; py++)
                for (int px = 0; px < W; px++)
                {
                    int s = 3 * (py * 640 + px), r = 4 * (py * W + px);
                    int d = Math.Abs(screen!.Pixels[s] - reference[r]) + Math.Abs(screen.Pixels[s + 1] - reference[r + 1]) + Math.Abs(screen.Pixels[s + 2] - reference[r + 2]);
                    if (d <= 6) close++;
                    if (screen.Pixels[s] + screen.Pixels[s + 1] + screen.Pixels[s + 2] > 120) lit++;
                }
            Assert.True(lit > W * H / 10, $"the captured window is nearly dark ({lit} bright pixels)");
            Assert.True(close > 0.98 * W * H, $"only {close} of {W * H} captured pixels match the headless render");
            // Outside the window the root window stays black.
            Assert.Equal(0, screen!.Pixels[3 * (470 * 640 + 630)]);
        }

        [Fact]
        public void Live_scene_fed_from_another_thread_draws_every_point_it_received()
        {
            if (XvfbServer.Executable == null)
            {
                if (GpuFixture.GpuRequired) throw new InvalidOperationException("FLOWMAP_REQUIRE_GPU=1 but Xvfb is not installed (apt-get install xvfb).");
                Assert.Skip("Xvfb is not installed (apt-get install xvfb).");
            }
            var k = Intrinsics.Centered(64, 48, 50);
            var room = ViewerTestSupport.Room(30000, 30, new Random(8), k).PointChunks[0];
            var scene = new LiveScene("live test");
            using var x = XvfbServer.Start(400, 300);
            x.UseAsDisplay();
            int posted = 0;
            var feeder = new System.Threading.Thread(() =>
            {
                // 30 updates of 1000 points each, a depth map every third: the point buffer grows while frames are in flight.
                for (int i = 0; i < 30; i++)
                {
                    var pos = room.Positions.AsSpan(i * 3000, 3000).ToArray();
                    var col = room.Colors.AsSpan(i * 3000, 3000).ToArray();
                    scene.Post(new FlowMap.Session.FrameUpdate
                    {
                        FrameIndex = i, Pose = CameraPose.FromQuaternion(0, 0, 0, 1, 0.02 * i, 0, 0.05 * i), Intrinsics = k, IsKeyframe = i % 3 == 0,
                        Depth = i % 3 == 0 ? new FloatImage(64, 48, Enumerable.Repeat(1f + i, 64 * 48).ToArray()) : null,
                        NewPoints = new PointCloud(pos, col),
                    });
                    System.Threading.Interlocked.Increment(ref posted);
                    System.Threading.Thread.Sleep(5);
                }
            });
            int drawnAtEnd = -1;
            var result = ViewerApp.Run(scene, new ViewerOptions
            {
                Width = 320, Height = 240, Validation = true, MaxFrames = 400,
                OnFrame = c =>
                {
                    if (c.FramesPresented == 1) feeder.Start();
                    // Keep presenting until everything arrived and a few frames were drawn after it.
                    if (drawnAtEnd < 0 && System.Threading.Volatile.Read(ref posted) == 30) drawnAtEnd = c.FramesPresented;
                    if (drawnAtEnd > 0 && c.FramesPresented >= drawnAtEnd + 3) c.Close();
                },
            });
            feeder.Join();
            Assert.True(drawnAtEnd > 0, $"the window closed after {result.Frames} frames before all updates arrived");
            Assert.Equal(30, scene.Snapshot().Trajectory.Count);
            Assert.Equal(30000, scene.Snapshot().PointCount);
            Assert.Equal(30000, result.PointsUploaded); // every point reached the GPU buffer while frames were drawn
        }
    }
}