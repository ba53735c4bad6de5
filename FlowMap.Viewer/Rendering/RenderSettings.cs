using System;
using System.Runtime.InteropServices;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>How points are drawn.</summary>
    public enum PointMode
    {
        /// <summary>Compute rasteriser on a CPU Vulkan device (lavapipe), round point sprites on a GPU.</summary>
        Auto,
        /// <summary>Point sprites through the graphics pipeline: round splats of any size.</summary>
        Sprites,
        /// <summary>Compute rasteriser (nearest depth per pixel by atomics, then colour) with splats gathered in the resolve pass: square splats up to 5 px, fast on a CPU device.</summary>
        Compute,
    }

    /// <summary>What to draw and how: layer switches and point size. Changed by the window's keys or set for a screenshot.</summary>
    public sealed class RenderSettings
    {
        public bool ShowPoints { get; set; } = true;
        public bool ShowTrajectory { get; set; } = true;
        public bool ShowFrustums { get; set; } = true;
        public bool ShowGrid { get; set; } = true;
        public bool ShowAxes { get; set; } = true;
        public bool ShowInset { get; set; } = true;
        public bool ShowText { get; set; } = true;

        /// <summary>How points are drawn (see <see cref="PointMode"/>).</summary>
        public PointMode PointMode { get; set; } = PointMode.Auto;

        /// <summary>Multiplier on the automatic splat diameter (world units, from the scene's size and point count).</summary>
        public double PointScale { get; set; } = 1;

        /// <summary>When &gt; 0, every point is this many pixels wide regardless of depth.</summary>
        public double FixedPointPixels { get; set; }

        /// <summary>
        /// Most points drawn per frame (0 = all): above it, 1 in k points (k a power of two) are drawn with wider splats.
        /// The window applies <see cref="InteractivePointBudget"/> only while the view is moving.
        /// </summary>
        public int PointBudget { get; set; }

        /// <summary>
        /// Point budget while the camera moves in the window (0 = all); the full cloud is drawn when it stops. Null = automatic:
        /// 250k on a CPU Vulkan device (lavapipe), all points on a GPU.
        /// </summary>
        public int? InteractivePointBudget { get; set; }

        /// <summary>Smallest and largest splat, pixels.</summary>
        public double MinPointPixels { get; set; } = 1;
        public double MaxPointPixels { get; set; } = 24;

        /// <summary>Background colour, linear 0..1.</summary>
        public (float R, float G, float B) Background { get; set; } = (0.09f, 0.10f, 0.12f);

        public RenderSettings Clone() => (RenderSettings)MemberwiseClone();
    }

    /// <summary>World-space vertex with an RGBA8 colour (points and lines): 16 bytes, matches points.vert / lines.vert.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct ColorVertex
    {
        public float X, Y, Z;
        public uint Rgba;

        public ColorVertex(float x, float y, float z, uint rgba) { X = x; Y = y; Z = z; Rgba = rgba; }

        /// <summary>R in the lowest byte, as R8G8B8A8_UNORM reads it from little-endian memory.</summary>
        public static uint Pack(byte r, byte g, byte b, byte a = 255) => (uint)(r | (g << 8) | (b << 16) | (a << 24));
    }

    /// <summary>Screen-space vertex (pixels from the top-left), texture coordinates and an RGBA8 tint: 20 bytes, matches overlay.vert.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct OverlayVertex
    {
        public float X, Y, U, V;
        public uint Rgba;

        public OverlayVertex(float x, float y, float u, float v, uint rgba) { X = x; Y = y; U = u; V = v; Rgba = rgba; }
    }

    /// <summary>Push constants of points.vert and lines.vert (std430, 80 bytes); points_raster.comp adds <see cref="Dims"/> (96 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal unsafe struct ScenePush
    {
        public fixed float ViewProj[16];
        public float SizeWorld, FocalPx, MinPx, MaxPx;
        /// <summary>points_raster.comp: width, height, points drawn, pass | stride &lt;&lt; 1; points_resolve.frag: width, height, gather radius.</summary>
        public fixed uint Dims[4];
        /// <summary>points_resolve.frag: near, far (the view's planes, to turn [0, 1] depth back into view depth).</summary>
        public float Near, Far, Pad0, Pad1;

        public const uint SceneBytes = 80, RasterBytes = 96, ResolveOffset = 64, ResolveBytes = 48;
    }
}
