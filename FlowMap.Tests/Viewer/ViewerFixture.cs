using System;
using System.Collections.Generic;
using FlowMap.Tests.Support;
using FlowMap.Viewer.Rendering;
using FlowMap.Viewer.Scenes;
using Xunit;

namespace FlowMap.Tests.Viewer
{
    /// <summary>
    /// Helpers for viewer tests: a headless renderer with the validation layer on (skipped with the reason when there is
    /// no Vulkan device, failing instead under FLOWMAP_REQUIRE_GPU=1), and synthetic scenes built here in code.
    /// </summary>
    internal static class ViewerTestSupport
    {
        public static OffscreenRenderer Renderer(int w, int h)
        {
            RenderDevice dev;
            try
            {
                dev = RenderDevice.Create(new RenderDeviceOptions { Validation = true });
            }
            catch (RenderException e)
            {
                if (GpuFixture.GpuRequired) throw;
                Assert.Skip("No Vulkan device that can draw: " + e.Message);
                throw;
            }
            try { return new OffscreenRenderer(w, h, dev); }
            catch { dev.Dispose(); throw; }
        }

        /// <summary>
        /// A synthetic room: random coloured points on the floor, back wall and two side walls of a 4 x 2.5 x 6 box
        /// (OpenCV world axes: y down, floor at y = 1.2), and a camera moving forward along z with a slight pan.
        /// </summary>
        public static ViewerSnapshot Room(int pointCount, int frames, Random rng, Intrinsics k)
        {
            var pos = new float[pointCount * 3];
            var col = new byte[pointCount * 3];
            for (int i = 0; i < pointCount; i++)
            {
                double a = rng.NextDouble(), b = rng.NextDouble();
                double x, y, z;
                switch (i % 4)
                {
                    case 0: x = -2 + 4 * a; y = 1.2; z = 6 * b; break;              // floor
                    case 1: x = -2 + 4 * a; y = 1.2 - 2.5 * b; z = 6; break;        // back wall
                    case 2: x = -2; y = 1.2 - 2.5 * a; z = 6 * b; break;            // left wall
                    default: x = 2; y = 1.2 - 2.5 * a; z = 6 * b; break;            // right wall
                }
                pos[3 * i] = (float)x; pos[3 * i + 1] = (float)y; pos[3 * i + 2] = (float)z;
                col[3 * i] = (byte)(80 + 175 * a); col[3 * i + 1] = (byte)(80 + 175 * b); col[3 * i + 2] = (byte)(i % 4 * 60 + 40);
            }
            var traj = new List<CameraPose>();
            for (int f = 0; f < frames; f++)
            {
                double t = f / (double)Math.Max(1, frames - 1), yaw = 0.15 * Math.Sin(t * Math.PI);
                double c = Math.Cos(yaw), s = Math.Sin(yaw);
                traj.Add(new CameraPose(new[] { c, 0, s, 0, 1, 0, -s, 0, c }, new[] { 0.3 * t, -0.1 * t, 1.5 * t }));
            }
            return new ViewerSnapshot
            {
                PointChunks = new[] { new PointCloud(pos, col) }, Trajectory = traj, Intrinsics = k, CurrentFrame = frames - 1,
                FrameNumber = frames - 1,
            };
        }

        public static (byte R, byte G, byte B) Pixel(byte[] rgba, int w, int x, int y)
        {
            int o = (y * w + x) * 4;
            return (rgba[o], rgba[o + 1], rgba[o + 2]);
        }
    }
}
