using System;
using System.Collections.Generic;

namespace FlowMap.Synthetic
{
    /// <summary>Surface pattern of a primitive, mixed between its two colours (see synth_scene.glsl).</summary>
    internal enum SurfacePattern { Noise = 0, Checker = 1, StripesU = 2, StripesV = 3 }

    /// <summary>
    /// One analytic primitive of a synthetic scene, world coordinates in metres (x right, y down, z forward).
    /// Packed for the GPU as 5 vec4 (80 bytes, std430) in the layout documented in FlowMap.Shaders/synth/synth_scene.glsl.
    /// </summary>
    internal struct SyntheticPrimitive
    {
        public const int Floats = 20;
        public const int KindBox = 0, KindCylinder = 1, KindSphere = 2;

        public int Kind;
        public double Cx, Cy, Cz;
        /// <summary>Box: half extents; cylinder: (radius, half height, -); sphere: (radius, -, -).</summary>
        public double Hx, Hy, Hz;
        /// <summary>Rotation of a box about the y axis, radians (local = Ry(-yaw) (world - centre)).</summary>
        public double Yaw;
        public SurfacePattern Pattern;
        /// <summary>Pattern cell size in metres.</summary>
        public double Cell;
        public double Ar, Ag, Ab, Br, Bg, Bb;
        /// <summary>Base frequency of the value-noise texture, per metre.</summary>
        public double NoiseFrequency;
        /// <summary>Texture seed (below 2^24 so that it is exact as a float).</summary>
        public uint TextureSeed;

        public static SyntheticPrimitive Box(double cx, double cy, double cz, double hx, double hy, double hz, double yaw = 0) =>
            new SyntheticPrimitive { Kind = KindBox, Cx = cx, Cy = cy, Cz = cz, Hx = hx, Hy = hy, Hz = hz, Yaw = yaw };

        /// <summary>A vertical cylinder (axis along y) from y0 to y1.</summary>
        public static SyntheticPrimitive Cylinder(double cx, double cz, double y0, double y1, double radius) =>
            new SyntheticPrimitive { Kind = KindCylinder, Cx = cx, Cy = (y0 + y1) / 2, Cz = cz, Hx = radius, Hy = Math.Abs(y1 - y0) / 2 };

        public static SyntheticPrimitive Sphere(double cx, double cy, double cz, double radius) =>
            new SyntheticPrimitive { Kind = KindSphere, Cx = cx, Cy = cy, Cz = cz, Hx = radius };

        public SyntheticPrimitive WithMaterial(SurfacePattern pattern, double cell, (double R, double G, double B) a, (double R, double G, double B) b, double noiseFrequency, uint seed)
        {
            var p = this;
            p.Pattern = pattern; p.Cell = cell; p.Ar = a.R; p.Ag = a.G; p.Ab = a.B; p.Br = b.R; p.Bg = b.G; p.Bb = b.B;
            p.NoiseFrequency = noiseFrequency; p.TextureSeed = seed & 0xFFFFFFu;
            return p;
        }

        public void Pack(Span<float> d)
        {
            d[0] = (float)Cx; d[1] = (float)Cy; d[2] = (float)Cz; d[3] = Kind;
            d[4] = (float)Hx; d[5] = (float)Hy; d[6] = (float)Hz; d[7] = 0;
            d[8] = (float)Math.Cos(Yaw); d[9] = (float)Math.Sin(Yaw); d[10] = (int)Pattern; d[11] = (float)Cell;
            d[12] = (float)Ar; d[13] = (float)Ag; d[14] = (float)Ab; d[15] = (float)NoiseFrequency;
            d[16] = (float)Br; d[17] = (float)Bg; d[18] = (float)Bb; d[19] = TextureSeed & 0xFFFFFFu;
        }

        /// <summary>Half extents of the primitive's axis-aligned bounds about its centre.</summary>
        public (double X, double Y, double Z) Extents()
        {
            if (Kind == KindBox)
            {
                double c = Math.Abs(Math.Cos(Yaw)), s = Math.Abs(Math.Sin(Yaw));
                return (c * Hx + s * Hz, Hy, s * Hx + c * Hz);
            }
            if (Kind == KindCylinder) return (Hx, Hy, Hx);
            return (Hx, Hx, Hx);
        }

        /// <summary>Conservative distance from a point to the primitive's axis-aligned bounds (0 inside).</summary>
        public double BoundsDistance(double x, double y, double z)
        {
            var (ex, ey, ez) = Extents();
            double dx = Math.Max(0, Math.Abs(x - Cx) - ex), dy = Math.Max(0, Math.Abs(y - Cy) - ey), dz = Math.Max(0, Math.Abs(z - Cz) - ez);
            return Math.Sqrt(dx * dx + dy * dy + dz * dz);
        }
    }

    /// <summary>A point light (world position in metres, intensity).</summary>
    internal readonly struct SceneLight
    {
        public SceneLight(double x, double y, double z, double intensity) { X = x; Y = y; Z = z; Intensity = intensity; }
        public double X { get; }
        public double Y { get; }
        public double Z { get; }
        public double Intensity { get; }
    }

    /// <summary>
    /// The analytic scene: a bounding-volume hierarchy and the primitives (in its leaf order), packed once as the GPU
    /// reads them (see FlowMap.Shaders/synth/synth_scene.glsl), and two lights.
    /// </summary>
    internal sealed class SceneDescription
    {
        public SceneDescription(IReadOnlyList<SyntheticPrimitive> primitives, SceneLight light0, SceneLight light1)
        {
            if (primitives.Count == 0) throw new ArgumentException("A scene needs at least one primitive.");
            var (ordered, nodes, nodeCount) = SceneBvh.Build(primitives);
            Primitives = ordered;
            NodeCount = nodeCount;
            Light0 = light0; Light1 = light1;
            Packed = new float[nodes.Length + ordered.Count * SyntheticPrimitive.Floats];
            nodes.CopyTo(Packed, 0);
            for (int i = 0; i < ordered.Count; i++)
                ordered[i].Pack(Packed.AsSpan(nodes.Length + i * SyntheticPrimitive.Floats, SyntheticPrimitive.Floats));
        }

        /// <summary>The primitives in the hierarchy's leaf order (a hit's primitive index refers to this list).</summary>
        public IReadOnlyList<SyntheticPrimitive> Primitives { get; }
        public int Count => Primitives.Count;
        /// <summary>Number of hierarchy nodes (8 floats each at the start of <see cref="Packed"/>).</summary>
        public int NodeCount { get; }
        /// <summary>float[8 NodeCount + 20 Count]: nodes then primitives, the exact values the shader reads; the CPU reference reads these too.</summary>
        public float[] Packed { get; }
        public SceneLight Light0 { get; }
        public SceneLight Light1 { get; }

        /// <summary>Distance from a point to the nearest primitive's bounds (0 inside one).</summary>
        public double Clearance(double x, double y, double z)
        {
            double best = double.PositiveInfinity;
            foreach (var p in Primitives) best = Math.Min(best, p.BoundsDistance(x, y, z));
            return best;
        }
    }
}
