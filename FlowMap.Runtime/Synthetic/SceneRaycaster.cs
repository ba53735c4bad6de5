using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace FlowMap.Synthetic
{
    /// <summary>
    /// Plain double-precision reference of FlowMap.Shaders/synth/synth_scene.glsl and synth_render.comp: the same ray
    /// casting, textures and shading, written for clarity, reading the same packed primitive values as the GPU.
    /// Also the CPU renderer when no Vulkan device is used.
    /// </summary>
    internal sealed class SceneRaycaster
    {
        private const double TMin = 1e-3;
        private const double Far = 1e30;
        private readonly double[] _p;
        private readonly int _primBase;

        public SceneRaycaster(SceneDescription scene)
        {
            Scene = scene;
            _primBase = 8 * scene.NodeCount;
            _p = new double[scene.Packed.Length];
            for (int i = 0; i < _p.Length; i++) _p[i] = scene.Packed[i];
        }

        public SceneDescription Scene { get; }

        private double P(int prim, int k) => _p[_primBase + prim * SyntheticPrimitive.Floats + k];

        // ---- textures ----

        internal static uint Hash(uint x)
        {
            unchecked
            {
                x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
                return x;
            }
        }

        internal static double Lattice(int cx, int cy, int cz, uint seed)
        {
            unchecked
            {
                uint h = Hash(((uint)cx * 0x8da6b343u) ^ ((uint)cy * 0xd8163841u) ^ ((uint)cz * 0xcb1ab31fu) ^ seed);
                return (h >> 8) * (1.0 / 16777216.0);
            }
        }

        private static double Mix(double a, double b, double t) => a * (1 - t) + b * t;

        internal static double ValueNoise(double px, double py, double pz, uint seed)
        {
            double ix = Math.Floor(px), iy = Math.Floor(py), iz = Math.Floor(pz);
            double fx = px - ix, fy = py - iy, fz = pz - iz;
            double ux = fx * fx * (3 - 2 * fx), uy = fy * fy * (3 - 2 * fy), uz = fz * fz * (3 - 2 * fz);
            int cx = (int)ix, cy = (int)iy, cz = (int)iz;
            double a = Mix(Lattice(cx, cy, cz, seed), Lattice(cx + 1, cy, cz, seed), ux);
            double b = Mix(Lattice(cx, cy + 1, cz, seed), Lattice(cx + 1, cy + 1, cz, seed), ux);
            double d = Mix(Lattice(cx, cy, cz + 1, seed), Lattice(cx + 1, cy, cz + 1, seed), ux);
            double e = Mix(Lattice(cx, cy + 1, cz + 1, seed), Lattice(cx + 1, cy + 1, cz + 1, seed), ux);
            return Mix(Mix(a, b, uy), Mix(d, e, uy), uz);
        }

        private static double SmoothStep(double e0, double e1, double x)
        {
            double t = Math.Min(1, Math.Max(0, (x - e0) / (e1 - e0)));
            return t * t * (3 - 2 * t);
        }

        internal static double Fbm(double px, double py, double pz, double freq, double w, uint seed)
        {
            double sum = 0, amp = 0.5;
            for (int k = 0; k < 6; k++)
            {
                double s = freq * w;
                double fade = 1 - SmoothStep(0.25, 0.5, s);
                double n = fade > 0 ? ValueNoise(px * freq, py * freq, pz * freq, unchecked(seed + (uint)k * 0x9e3779b9u)) : 0.5;
                sum += amp * Mix(0.5, n, fade);
                freq *= 2; amp *= 0.5;
            }
            return sum / 0.984375;
        }

        private static double Fract(double x) => x - Math.Floor(x);

        internal static double Square(double p, double w) =>
            2 * (Math.Abs(Fract((p - 0.5 * w) * 0.5) - 0.5) - Math.Abs(Fract((p + 0.5 * w) * 0.5) - 0.5)) / w;

        // ---- ray casting ----

        public struct Hit
        {
            public double T;
            public int Prim;
            public double Nx, Ny, Nz;
            public double U, V;
        }

        private static double SafeInv(double d) => 1.0 / (Math.Abs(d) < 1e-12 ? (d < 0 ? -1e-12 : 1e-12) : d);

        /// <summary>
        /// Nearest hit along o + t d with t &gt; 1e-3; Prim = -1 when nothing is hit. The shader's stackless walk of the
        /// hierarchy (so equal distances resolve the same way): a missed node jumps to its skip index.
        /// </summary>
        public Hit Trace(double ox, double oy, double oz, double dx, double dy, double dz)
        {
            var best = new Hit { T = Far, Prim = -1 };
            double ix = SafeInv(dx), iy = SafeInv(dy), iz = SafeInv(dz);
            int nodes = Scene.NodeCount;
            int n = 0;
            while (n < nodes)
            {
                double t0 = double.NegativeInfinity, t1 = double.PositiveInfinity;
                Slab(_p[8 * n], _p[8 * n + 4], ox, ix, ref t0, ref t1);
                Slab(_p[8 * n + 1], _p[8 * n + 5], oy, iy, ref t0, ref t1);
                Slab(_p[8 * n + 2], _p[8 * n + 6], oz, iz, ref t0, ref t1);
                if (t1 < Math.Max(t0, 0) || t0 >= best.T) { n = (int)_p[8 * n + 7]; continue; }
                int leaf = (int)_p[8 * n + 3];
                if (leaf >= 0)
                    for (int i = leaf >> 3; i < (leaf >> 3) + (leaf & 7); i++) Intersect(i, ox, oy, oz, dx, dy, dz, ref best);
                n++;
            }
            return best;
        }

        /// <summary>The same nearest hit without the hierarchy: every primitive in order (tests check that culling drops nothing).</summary>
        internal Hit TraceAll(double ox, double oy, double oz, double dx, double dy, double dz)
        {
            var best = new Hit { T = Far, Prim = -1 };
            for (int i = 0; i < Scene.Count; i++) Intersect(i, ox, oy, oz, dx, dy, dz, ref best);
            return best;
        }

        private static void Slab(double lo, double hi, double o, double inv, ref double t0, ref double t1)
        {
            double ta = (lo - o) * inv, tb = (hi - o) * inv;
            t0 = Math.Max(t0, Math.Min(ta, tb));
            t1 = Math.Min(t1, Math.Max(ta, tb));
        }

        private void Intersect(int i, double ox, double oy, double oz, double dx, double dy, double dz, ref Hit best)
        {
            {
                int kind = (int)P(i, 3);
                double cx = P(i, 0), cy = P(i, 1), cz = P(i, 2);
                if (kind == SyntheticPrimitive.KindBox)
                {
                    double co = P(i, 8), si = P(i, 9);
                    double rx = ox - cx, ry = oy - cy, rz = oz - cz;
                    double lox = co * rx - si * rz, loy = ry, loz = si * rx + co * rz;
                    double ldx = co * dx - si * dz, ldy = dy, ldz = si * dx + co * dz;
                    double ix = SafeInv(ldx), iy = SafeInv(ldy), iz = SafeInv(ldz);
                    double hx = P(i, 4), hy = P(i, 5), hz = P(i, 6);
                    double tax = (-hx - lox) * ix, tbx = (hx - lox) * ix;
                    double tay = (-hy - loy) * iy, tby = (hy - loy) * iy;
                    double taz = (-hz - loz) * iz, tbz = (hz - loz) * iz;
                    double nx = Math.Min(tax, tbx), ny = Math.Min(tay, tby), nz = Math.Min(taz, tbz);
                    double enter = Math.Max(nx, Math.Max(ny, nz));
                    double exit = Math.Min(Math.Max(tax, tbx), Math.Min(Math.Max(tay, tby), Math.Max(taz, tbz)));
                    if (enter <= exit && enter > TMin && enter < best.T)
                    {
                        int axis = nx >= ny && nx >= nz ? 0 : (ny >= nz ? 1 : 2);
                        double lpx = lox + enter * ldx, lpy = loy + enter * ldy, lpz = loz + enter * ldz;
                        double lnx = 0, lny = 0, lnz = 0;
                        if (axis == 0) lnx = ldx < 0 ? 1 : -1;
                        else if (axis == 1) lny = ldy < 0 ? 1 : -1;
                        else lnz = ldz < 0 ? 1 : -1;
                        best.T = enter; best.Prim = i;
                        best.Nx = co * lnx + si * lnz; best.Ny = lny; best.Nz = -si * lnx + co * lnz;
                        if (axis == 0) { best.U = lpz; best.V = lpy; }
                        else if (axis == 1) { best.U = lpx; best.V = lpz; }
                        else { best.U = lpx; best.V = lpy; }
                    }
                }
                else if (kind == SyntheticPrimitive.KindCylinder)
                {
                    double r = P(i, 4), hh = P(i, 5);
                    double lox = ox - cx, loy = oy - cy, loz = oz - cz;
                    double a = dx * dx + dz * dz;
                    double b = lox * dx + loz * dz;
                    double cc = lox * lox + loz * loz - r * r;
                    double disc = b * b - a * cc;
                    if (a > 1e-12 && disc >= 0)
                    {
                        double t = (-b - Math.Sqrt(disc)) / a;
                        double y = loy + t * dy;
                        if (t > TMin && t < best.T && Math.Abs(y) <= hh)
                        {
                            double lpx = lox + t * dx, lpz = loz + t * dz;
                            best.T = t; best.Prim = i; best.Nx = lpx / r; best.Ny = 0; best.Nz = lpz / r;
                            best.U = y; best.V = lpx + lpz;
                        }
                    }
                    if (Math.Abs(dy) > 1e-12)
                    {
                        double capY = loy > 0 ? hh : -hh;
                        double t = (capY - loy) / dy;
                        double lpx = lox + t * dx, lpz = loz + t * dz;
                        if (t > TMin && t < best.T && lpx * lpx + lpz * lpz <= r * r)
                        {
                            best.T = t; best.Prim = i; best.Nx = 0; best.Ny = capY > 0 ? 1 : -1; best.Nz = 0;
                            best.U = lpx; best.V = lpz;
                        }
                    }
                }
                else
                {
                    double r = P(i, 4);
                    double lox = ox - cx, loy = oy - cy, loz = oz - cz;
                    double a = dx * dx + dy * dy + dz * dz, b = lox * dx + loy * dy + loz * dz, cc = lox * lox + loy * loy + loz * loz - r * r;
                    double disc = b * b - a * cc;
                    if (disc >= 0)
                    {
                        double t = (-b - Math.Sqrt(disc)) / a;
                        if (t > TMin && t < best.T)
                        {
                            double lpx = lox + t * dx, lpy = loy + t * dy, lpz = loz + t * dz;
                            best.T = t; best.Prim = i; best.Nx = lpx / r; best.Ny = lpy / r; best.Nz = lpz / r;
                            best.U = lpy; best.V = lpx + lpz;
                        }
                    }
                }
            }
        }

        /// <summary>Albedo (r, g, b) at world point p with texture coordinates (u, v), for a sample footprint w in metres.</summary>
        public (double R, double G, double B) Albedo(int prim, double px, double py, double pz, double u, double v, double w)
        {
            uint seed = (uint)P(prim, 19);
            double n = Fbm(px, py, pz, P(prim, 15), w, seed);
            int pattern = (int)P(prim, 10);
            double cell = P(prim, 11);
            double pat = 0;
            double wc = Math.Max(w / cell, 1e-3);
            if (pattern == 1) pat = 0.5 - 0.5 * Square(u / cell, wc) * Square(v / cell, wc);
            else if (pattern == 2) pat = 0.5 + 0.5 * Square(u / cell, wc);
            else if (pattern == 3) pat = 0.5 + 0.5 * Square(v / cell, wc);
            double k = 0.55 + 0.9 * n;
            return (Mix(P(prim, 12), P(prim, 16), pat) * k, Mix(P(prim, 13), P(prim, 17), pat) * k, Mix(P(prim, 14), P(prim, 18), pat) * k);
        }

        public double Shade(double px, double py, double pz, double nx, double ny, double nz)
        {
            return 0.35 + Light(Scene.Light0) + Light(Scene.Light1);

            double Light(SceneLight l)
            {
                // The shader reads the light as floats: use the same values.
                double lx = (float)l.X - px, ly = (float)l.Y - py, lz = (float)l.Z - pz;
                double q = lx * lx + ly * ly + lz * lz;
                return Math.Max(nx * lx + ny * ly + nz * lz, 0) / Math.Sqrt(q) * (float)l.Intensity / (1 + 0.04 * q);
            }
        }

        /// <summary>
        /// Renders a frame exactly as synth_hits.comp then synth_render.comp do: RGB bytes (3 per pixel) and z-depth.
        /// <paramref name="pose"/> is camera-to-world; rays through pixel centres at integer coordinates. Rows run in
        /// parallel when <paramref name="parallel"/> is set.
        /// </summary>
        public void RenderFrame(CameraPose pose, Intrinsics k, int samples, byte[] rgb, float[] depth, bool parallel = false)
        {
            int w = k.Width, h = k.Height;
            double ox = pose.T(0), oy = pose.T(1), oz = pose.T(2);
            var hits = new Hit[w * h];
            void HitRow(int y)
            {
                for (int x = 0; x < w; x++)
                {
                    var (dx, dy, dz) = Dir(pose, k, x, y);
                    var hit = Trace(ox, oy, oz, dx, dy, dz);
                    hits[y * w + x] = hit;
                    depth[y * w + x] = hit.Prim >= 0 ? (float)hit.T : 0f;
                }
            }
            bool SameFace(Hit a, int x, int y)
            {
                var b = hits[Math.Min(Math.Max(y, 0), h - 1) * w + Math.Min(Math.Max(x, 0), w - 1)];
                return a.Prim == b.Prim && a.Nx * b.Nx + a.Ny * b.Ny + a.Nz * b.Nz >= 0.999;
            }
            void ColourRow(int y)
            {
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x;
                    var centre = hits[i];
                    // 1. One face at the pixel and its four neighbours: shade the centre hit once; else average shaded sub-pixel rays.
                    bool uniform = centre.Prim >= 0 && SameFace(centre, x - 1, y) && SameFace(centre, x + 1, y) && SameFace(centre, x, y - 1) && SameFace(centre, x, y + 1);
                    double sr = 0, sg = 0, sb = 0;
                    int count = uniform || samples == 1 ? 1 : samples * samples;
                    for (int k2 = 0; k2 < count; k2++)
                    {
                        double u = count == 1 ? x : x + (k2 % samples + 0.5) / samples - 0.5, v = count == 1 ? y : y + (k2 / samples + 0.5) / samples - 0.5;
                        var (ex, ey, ez) = Dir(pose, k, u, v);
                        var hit = count == 1 ? centre : Trace(ox, oy, oz, ex, ey, ez);
                        if (hit.Prim < 0) continue;
                        double px = ox + hit.T * ex, py = oy + hit.T * ey, pz = oz + hit.T * ez;
                        double cosine = Math.Abs(hit.Nx * ex + hit.Ny * ey + hit.Nz * ez) / Math.Sqrt(ex * ex + ey * ey + ez * ez);
                        double fw = 1.5 * hit.T / k.Fx / Math.Max(cosine, 0.3) * FootprintScale(k, u, v);
                        var a = Albedo(hit.Prim, px, py, pz, hit.U, hit.V, fw);
                        double s = Shade(px, py, pz, hit.Nx, hit.Ny, hit.Nz);
                        sr += a.R * s; sg += a.G * s; sb += a.B * s;
                    }
                    double inv = 1.0 / count;
                    rgb[3 * i] = ToByte(Clamp01(sr * inv)); rgb[3 * i + 1] = ToByte(Clamp01(sg * inv)); rgb[3 * i + 2] = ToByte(Clamp01(sb * inv));
                }
            }
            if (parallel)
            {
                Parallel.For(0, h, HitRow);
                Parallel.For(0, h, ColourRow);
            }
            else
            {
                for (int y = 0; y < h; y++) HitRow(y);
                for (int y = 0; y < h; y++) ColourRow(y);
            }
        }

        /// <summary>
        /// Texture footprint scale at pixel (u, v) (synthFootprintScale in the shader): 1 / the smaller singular value of
        /// the distortion's Jacobian at the undistorted point, min(1 + 3 k1 r^2, 1 + k1 r^2) (radial, tangential), floored
        /// at 1e-3. Exactly 1 when K1 = 0.
        /// </summary>
        internal static double FootprintScale(Intrinsics k, double u, double v)
        {
            if (k.K1 == 0) return 1;
            var (x, y) = k.Undistort((u - k.Cx) / k.Fx, (v - k.Cy) / k.Fy);
            double r2 = x * x + y * y;
            return 1 / Math.Max(Math.Min(1 + 3 * k.K1 * r2, 1 + k.K1 * r2), 1e-3);
        }

        private static double Clamp01(double v) => v < 0 ? 0 : (v > 1 ? 1 : v);
        private static byte ToByte(double v) => (byte)Math.Round(v * 255, MidpointRounding.AwayFromZero);

        /// <summary>
        /// World direction of the ray through pixel (u, v): R (x, y, 1) with (x, y) the undistorted normalised point of
        /// ((u - cx) / fx, (v - cy) / fy) (<see cref="Intrinsics.Undistort"/>; the pinhole when K1 = 0). Its camera z is 1,
        /// so the ray parameter is the z-depth.
        /// </summary>
        public static (double X, double Y, double Z) Dir(CameraPose pose, Intrinsics k, double u, double v)
        {
            var (cx, cy) = k.Undistort((u - k.Cx) / k.Fx, (v - k.Cy) / k.Fy);
            return (pose.R(0, 0) * cx + pose.R(0, 1) * cy + pose.R(0, 2),
                    pose.R(1, 0) * cx + pose.R(1, 1) * cy + pose.R(1, 2),
                    pose.R(2, 0) * cx + pose.R(2, 1) * cy + pose.R(2, 2));
        }
    }
}
