using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowMap.Synthetic
{
    /// <summary>
    /// The built-in scenes. All share one room shell and one free region for the camera paths (<see cref="CameraPaths"/>):
    /// world x right, y down, z forward, metres; the floor is at y = +1.4 (the eye height of the paths is about y = 0),
    /// the ceiling at y = -1.3, walls at x = +-4.5 and z = +-5.5. Furniture stays outside the paths' free region, so
    /// no camera ever comes within 0.3 m of a surface.
    /// </summary>
    internal static class SceneLibrary
    {
        public const double Floor = 1.4, Ceiling = -1.3, HalfX = 4.5, HalfZ = 5.5;

        public static readonly IReadOnlyList<string> Names = new[] { "room", "boxes" };

        public static SceneDescription Build(string name, ulong seed) => name switch
        {
            "room" => Room(seed),
            "boxes" => Boxes(seed),
            _ => throw new ArgumentException($"Unknown synthetic scene '{name}'. Known: {string.Join(", ", Names)}."),
        };

        private static (double, double, double) Rgb(double r, double g, double b) => (r, g, b);

        /// <summary>A colour near (r, g, b), varied by the seed.</summary>
        private static (double, double, double) Jitter(SplitMix rng, double r, double g, double b, double amount = 0.06) =>
            (Clamp(r + rng.Range(-amount, amount)), Clamp(g + rng.Range(-amount, amount)), Clamp(b + rng.Range(-amount, amount)));

        private static double Clamp(double v) => Math.Max(0.02, Math.Min(0.98, v));

        private static void Shell(List<SyntheticPrimitive> p, SplitMix rng)
        {
            const double t = 0.1; // slab half thickness
            double midY = (Floor + Ceiling) / 2, halfY = (Floor - Ceiling) / 2;
            // Floor: tiles. Ceiling: large panels with a low contrast. Each wall its own wallpaper.
            p.Add(SyntheticPrimitive.Box(0, Floor + t, 0, HalfX + 2 * t, t, HalfZ + 2 * t)
                .WithMaterial(SurfacePattern.Checker, 0.5, Jitter(rng, 0.62, 0.5, 0.38), Jitter(rng, 0.36, 0.27, 0.2), 3.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(0, Ceiling - t, 0, HalfX + 2 * t, t, HalfZ + 2 * t)
                .WithMaterial(SurfacePattern.Checker, 0.6, Jitter(rng, 0.78, 0.78, 0.74), Jitter(rng, 0.68, 0.68, 0.66), 2.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(HalfX + t, midY, 0, t, halfY + 2 * t, HalfZ + 2 * t)
                .WithMaterial(SurfacePattern.StripesU, 0.12, Jitter(rng, 0.7, 0.62, 0.45), Jitter(rng, 0.45, 0.5, 0.6), 4.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(-HalfX - t, midY, 0, t, halfY + 2 * t, HalfZ + 2 * t)
                .WithMaterial(SurfacePattern.StripesU, 0.2, Jitter(rng, 0.55, 0.68, 0.55), Jitter(rng, 0.75, 0.72, 0.6), 4.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(0, midY, HalfZ + t, HalfX + 2 * t, halfY + 2 * t, t)
                .WithMaterial(SurfacePattern.Checker, 0.25, Jitter(rng, 0.45, 0.55, 0.72), Jitter(rng, 0.75, 0.72, 0.62), 5.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(0, midY, -HalfZ - t, HalfX + 2 * t, halfY + 2 * t, t)
                .WithMaterial(SurfacePattern.StripesV, 0.15, Jitter(rng, 0.72, 0.5, 0.45), Jitter(rng, 0.8, 0.76, 0.66), 4.0, rng.TextureSeed()));
        }

        private static (SceneLight, SceneLight) Lights(SplitMix rng) =>
            (new SceneLight(rng.Range(0.5, 1.5), -1.0, rng.Range(-1.5, -0.5), 1.1),
             new SceneLight(rng.Range(-2.0, -1.0), -1.0, rng.Range(1.5, 2.5), 0.9));

        /// <summary>A table (thin legs) with objects at the centre, a chair, a cabinet, a shelf with books, a sofa, poles, pictures.</summary>
        public static SceneDescription Room(ulong seed)
        {
            var rng = new SplitMix(seed, 1);
            var p = new List<SyntheticPrimitive>();
            Shell(p, rng);

            // Table at the centre: top 1.4 x 1.0 m at 0.75 m, four legs of 3 cm radius.
            double yaw = rng.Range(-0.15, 0.15);
            double topY = Floor - 0.75;
            p.Add(SyntheticPrimitive.Box(0, topY, 0, 0.7, 0.03, 0.5, yaw)
                .WithMaterial(SurfacePattern.StripesU, 0.04, Jitter(rng, 0.55, 0.36, 0.2), Jitter(rng, 0.42, 0.26, 0.14), 8.0, rng.TextureSeed()));
            foreach (var (lx, lz) in new[] { (0.62, 0.42), (-0.62, 0.42), (0.62, -0.42), (-0.62, -0.42) })
            {
                double x = Math.Cos(yaw) * lx + Math.Sin(yaw) * lz, z = -Math.Sin(yaw) * lx + Math.Cos(yaw) * lz;
                p.Add(SyntheticPrimitive.Cylinder(x, z, topY + 0.03, Floor, 0.03)
                    .WithMaterial(SurfacePattern.StripesV, 0.05, Rgb(0.2, 0.2, 0.22), Rgb(0.55, 0.55, 0.58), 10.0, rng.TextureSeed()));
            }
            // Objects on the table: a box, a ball, a vase.
            p.Add(SyntheticPrimitive.Box(rng.Range(0.15, 0.35), topY - 0.03 - 0.12, rng.Range(-0.2, 0.0), 0.18, 0.12, 0.14, rng.Range(0, 1.5))
                .WithMaterial(SurfacePattern.Checker, 0.05, Jitter(rng, 0.8, 0.2, 0.15), Jitter(rng, 0.92, 0.9, 0.85), 12.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Sphere(rng.Range(-0.4, -0.2), topY - 0.03 - 0.13, rng.Range(0.05, 0.25), 0.13)
                .WithMaterial(SurfacePattern.StripesU, 0.03, Jitter(rng, 0.2, 0.45, 0.75), Jitter(rng, 0.9, 0.85, 0.3), 14.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Cylinder(rng.Range(-0.15, 0.05), rng.Range(-0.35, -0.25), topY - 0.03 - 0.34, topY - 0.03, 0.05)
                .WithMaterial(SurfacePattern.StripesU, 0.02, Jitter(rng, 0.3, 0.6, 0.35), Jitter(rng, 0.85, 0.85, 0.8), 16.0, rng.TextureSeed()));

            // A chair beside the table: seat, back, four thin legs.
            double chairX = 1.2, chairZ = rng.Range(0.6, 0.9), seatY = Floor - 0.45;
            p.Add(SyntheticPrimitive.Box(chairX, seatY, chairZ, 0.22, 0.025, 0.22)
                .WithMaterial(SurfacePattern.Checker, 0.06, Jitter(rng, 0.3, 0.3, 0.55), Jitter(rng, 0.5, 0.5, 0.75), 10.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(chairX + 0.2, seatY - 0.27, chairZ, 0.02, 0.25, 0.22)
                .WithMaterial(SurfacePattern.StripesV, 0.04, Jitter(rng, 0.3, 0.3, 0.55), Jitter(rng, 0.6, 0.6, 0.8), 10.0, rng.TextureSeed()));
            foreach (var (dx, dz) in new[] { (0.19, 0.19), (-0.19, 0.19), (0.19, -0.19), (-0.19, -0.19) })
                p.Add(SyntheticPrimitive.Cylinder(chairX + dx, chairZ + dz, seatY + 0.025, Floor, 0.018)
                    .WithMaterial(SurfacePattern.Noise, 1, Rgb(0.25, 0.22, 0.2), Rgb(0.25, 0.22, 0.2), 20.0, rng.TextureSeed()));

            // A cabinet against the +x wall.
            double cabZ = rng.Range(1.2, 2.2);
            p.Add(SyntheticPrimitive.Box(HalfX - 0.42, Floor - 0.9, cabZ, 0.4, 0.9, 0.8)
                .WithMaterial(SurfacePattern.Checker, 0.3, Jitter(rng, 0.85, 0.82, 0.75), Jitter(rng, 0.6, 0.55, 0.48), 6.0, rng.TextureSeed()));

            // A shelf against the -x wall: two uprights, four boards, books.
            double shelfZ = rng.Range(-2.6, -1.6);
            var wood = (Jitter(rng, 0.6, 0.45, 0.3), Jitter(rng, 0.5, 0.36, 0.22));
            foreach (double dz in new[] { -0.62, 0.62 })
                p.Add(SyntheticPrimitive.Box(-HalfX + 0.27, Floor - 1.1, shelfZ + dz, 0.25, 1.1, 0.02)
                    .WithMaterial(SurfacePattern.StripesV, 0.03, wood.Item1, wood.Item2, 8.0, rng.TextureSeed()));
            foreach (double by in new[] { 0.4, 0.9, 1.4, 1.9 })
            {
                p.Add(SyntheticPrimitive.Box(-HalfX + 0.27, Floor - by, shelfZ, 0.25, 0.015, 0.6)
                    .WithMaterial(SurfacePattern.StripesU, 0.03, wood.Item1, wood.Item2, 8.0, rng.TextureSeed()));
                double z = shelfZ - 0.55;
                while (z < shelfZ + 0.5)
                {
                    double wBook = rng.Range(0.025, 0.06), hBook = rng.Range(0.14, 0.22);
                    if (rng.NextDouble() < 0.8)
                        p.Add(SyntheticPrimitive.Box(-HalfX + 0.2, Floor - by - 0.015 - hBook, z + wBook, 0.12, hBook, wBook)
                            .WithMaterial(SurfacePattern.StripesV, 0.02, Jitter(rng, rng.Range(0.2, 0.8), rng.Range(0.2, 0.8), rng.Range(0.2, 0.8), 0.1),
                                          Jitter(rng, 0.85, 0.8, 0.7), 20.0, rng.TextureSeed()));
                    z += 2 * wBook + 0.005;
                }
            }

            // A sofa against the far (+z) wall.
            double sofaX = rng.Range(0.0, 1.0);
            var fabric = (Jitter(rng, 0.55, 0.25, 0.25), Jitter(rng, 0.7, 0.4, 0.35));
            p.Add(SyntheticPrimitive.Box(sofaX, Floor - 0.22, HalfZ - 0.5, 1.2, 0.22, 0.45)
                .WithMaterial(SurfacePattern.Checker, 0.08, fabric.Item1, fabric.Item2, 12.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(sofaX, Floor - 0.6, HalfZ - 0.12, 1.2, 0.38, 0.1)
                .WithMaterial(SurfacePattern.StripesU, 0.06, fabric.Item1, fabric.Item2, 12.0, rng.TextureSeed()));

            // Floor-to-ceiling poles (thin structures) and a standing lamp.
            foreach (var (x, z, r) in new[] { (3.2, -3.8, 0.045), (-3.5, 4.3, 0.04), (2.9, 4.0, 0.03) })
                p.Add(SyntheticPrimitive.Cylinder(x + rng.Range(-0.1, 0.1), z + rng.Range(-0.1, 0.1), Ceiling, Floor, r)
                    .WithMaterial(SurfacePattern.StripesU, 0.015, Jitter(rng, 0.85, 0.85, 0.88), Jitter(rng, 0.35, 0.35, 0.4), 20.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Cylinder(3.6, -1.2, -0.3, Floor, 0.015)
                .WithMaterial(SurfacePattern.Noise, 1, Rgb(0.15, 0.15, 0.15), Rgb(0.15, 0.15, 0.15), 20.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Sphere(3.6, -0.45, -1.2, 0.18)
                .WithMaterial(SurfacePattern.Noise, 1, Jitter(rng, 0.95, 0.9, 0.7), Jitter(rng, 0.95, 0.9, 0.7), 6.0, rng.TextureSeed()));

            // A plant: pot and crown, in the -x -z corner.
            p.Add(SyntheticPrimitive.Cylinder(-3.7, -4.7, Floor - 0.5, Floor, 0.25)
                .WithMaterial(SurfacePattern.StripesV, 0.05, Jitter(rng, 0.6, 0.3, 0.2), Jitter(rng, 0.4, 0.2, 0.15), 8.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Sphere(-3.7, Floor - 0.85, -4.7, 0.38)
                .WithMaterial(SurfacePattern.Noise, 1, Jitter(rng, 0.2, 0.5, 0.15), Jitter(rng, 0.2, 0.5, 0.15), 18.0, rng.TextureSeed()));

            // Pictures on the near (-z) wall and a crate by the far wall.
            p.Add(SyntheticPrimitive.Box(rng.Range(0.5, 1.5), -0.2, -HalfZ + 0.03, 0.5, 0.35, 0.03)
                .WithMaterial(SurfacePattern.Checker, 0.07, Jitter(rng, 0.9, 0.75, 0.2), Jitter(rng, 0.15, 0.25, 0.6), 10.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(rng.Range(-2.0, -1.0), -0.1, -HalfZ + 0.03, 0.35, 0.45, 0.03)
                .WithMaterial(SurfacePattern.StripesU, 0.05, Jitter(rng, 0.2, 0.6, 0.6), Jitter(rng, 0.95, 0.95, 0.9), 10.0, rng.TextureSeed()));
            p.Add(SyntheticPrimitive.Box(-2.3, Floor - 0.3, HalfZ - 0.9, 0.3, 0.3, 0.3, rng.Range(-0.4, 0.4))
                .WithMaterial(SurfacePattern.StripesU, 0.05, Jitter(rng, 0.7, 0.55, 0.3), Jitter(rng, 0.5, 0.38, 0.2), 8.0, rng.TextureSeed()));

            var (l0, l1) = Lights(rng);
            return new SceneDescription(p, l0, l1);
        }

        /// <summary>The room shell with seeded clutter: boxes, poles and balls placed outside the paths' free region, and a stack at the centre.</summary>
        public static SceneDescription Boxes(ulong seed)
        {
            var rng = new SplitMix(seed, 2);
            var p = new List<SyntheticPrimitive>();
            Shell(p, rng);
            var patterns = new[] { SurfacePattern.Checker, SurfacePattern.StripesU, SurfacePattern.StripesV, SurfacePattern.Noise };

            // A stack at the centre (inside the paths' loop, below eye height).
            double y = Floor;
            for (int i = 0; i < 3; i++)
            {
                double hx = rng.Range(0.25, 0.5) * (1 - 0.2 * i), hy = rng.Range(0.12, 0.22), hz = rng.Range(0.25, 0.45) * (1 - 0.2 * i);
                p.Add(SyntheticPrimitive.Box(rng.Range(-0.1, 0.1), y - hy, rng.Range(-0.1, 0.1), hx, hy, hz, rng.Range(0, Math.PI))
                    .WithMaterial(patterns[rng.Int(0, 3)], rng.Range(0.04, 0.15), Jitter(rng, rng.Range(0.2, 0.9), rng.Range(0.2, 0.9), rng.Range(0.2, 0.9), 0),
                                  Jitter(rng, rng.Range(0.2, 0.9), rng.Range(0.2, 0.9), rng.Range(0.2, 0.9), 0), rng.Range(4, 16), rng.TextureSeed()));
                y -= 2 * hy;
            }

            // Clutter around the walls: rejection-sample positions whose bounds keep 0.6 m from every path.
            int placed = 0, tries = 0;
            while (placed < 28 && tries++ < 5000)
            {
                double x = rng.Range(-HalfX + 0.2, HalfX - 0.2), z = rng.Range(-HalfZ + 0.2, HalfZ - 0.2);
                int kind = rng.Int(0, 10);
                SyntheticPrimitive prim;
                if (kind < 6)
                {
                    double hx = rng.Range(0.1, 0.6), hy = rng.Range(0.1, 0.9), hz = rng.Range(0.1, 0.6);
                    bool hanging = rng.NextDouble() < 0.15;
                    prim = SyntheticPrimitive.Box(x, hanging ? Ceiling + hy : Floor - hy, z, hx, hy, hz, rng.Range(0, Math.PI));
                }
                else if (kind < 9)
                    prim = SyntheticPrimitive.Cylinder(x, z, rng.NextDouble() < 0.6 ? Ceiling : rng.Range(-0.8, 0.6), Floor, rng.Range(0.02, 0.12));
                else
                {
                    double r = rng.Range(0.1, 0.4);
                    prim = SyntheticPrimitive.Sphere(x, Floor - r - rng.Range(0, 0.8), z, r);
                }
                prim = prim.WithMaterial(patterns[rng.Int(0, 4)], rng.Range(0.02, 0.2), Jitter(rng, rng.Range(0.15, 0.9), rng.Range(0.15, 0.9), rng.Range(0.15, 0.9), 0),
                                         Jitter(rng, rng.Range(0.15, 0.9), rng.Range(0.15, 0.9), rng.Range(0.15, 0.9), 0), rng.Range(3, 20), rng.TextureSeed());
                if (CameraPaths.FreeRegionDistance(prim) < 0.6) continue;
                p.Add(prim);
                placed++;
            }
            var (l0, l1) = Lights(rng);
            return new SceneDescription(p, l0, l1);
        }
    }
}
