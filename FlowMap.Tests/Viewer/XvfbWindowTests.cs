using System;
using System.Collections.Generic;
using System.IO;
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
    }
}
