using System;

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
        private readonly int _count;

        public SceneRaycaster(SceneDescription scene)
        {
            Scene = scene;
            _count = scene.Count;
            _p = new double[scene.Packed.Length];
            for (int i = 0; i < _p.Length; i++) _p[i] = scene.Packed[i];
        }

        public SceneDescription Scene { get; }

        private double P(int prim, int k) => _p[prim * SyntheticPrimitive.Floats + k];

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
                uint h = Hash((uint)cx * 0x8da6b343u ^ Hash((uint)cy * 0xd8163841u ^ Hash((uint)cz * 0xcb1ab31fu ^ seed)));
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

        /// <summary>Nearest hit along o + t d with t &gt; 1e-3; Prim = -1 when nothing is hit.</summary>
        public Hit Trace(double ox, double oy, double oz, double dx, double dy, double dz)
        {
            var best = new Hit { T = Far, Prim = -1 };
            for (int i = 0; i < _count; i++)
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
            return best;
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
        /// Renders rows [y0, y1) of a frame exactly as synth_render.comp does: RGB bytes (3 per pixel) and z-depth.
        /// <paramref name="pose"/> is camera-to-world; rays through pixel centres at integer coordinates.
        /// </summary>
        public void RenderRows(CameraPose pose, Intrinsics k, int samples, int y0, int y1, byte[] rgb, float[] depth, double[]? linear = null)
        {
            int w = k.Width;
            double ox = pose.T(0), oy = pose.T(1), oz = pose.T(2);
            for (int y = y0; y < y1; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x;
                    var (dx, dy, dz) = Dir(pose, k, x, y);
                    var centre = Trace(ox, oy, oz, dx, dy, dz);
                    depth[i] = centre.Prim >= 0 ? (float)centre.T : 0f;
                    double sr = 0, sg = 0, sb = 0;
                    for (int sy = 0; sy < samples; sy++)
                        for (int sx = 0; sx < samples; sx++)
                        {
                            double u = x + (sx + 0.5) / samples - 0.5, v = y + (sy + 0.5) / samples - 0.5;
                            var (ex, ey, ez) = Dir(pose, k, u, v);
                            var h = Trace(ox, oy, oz, ex, ey, ez);
                            if (h.Prim < 0) continue;
                            double px = ox + h.T * ex, py = oy + h.T * ey, pz = oz + h.T * ez;
                            double cosine = Math.Abs(h.Nx * ex + h.Ny * ey + h.Nz * ez) / Math.Sqrt(ex * ex + ey * ey + ez * ez);
                            double fw = h.T / k.Fx / Math.Max(cosine, 0.3);
                            var a = Albedo(h.Prim, px, py, pz, h.U, h.V, fw);
                            double s = Shade(px, py, pz, h.Nx, h.Ny, h.Nz);
                            sr += a.R * s; sg += a.G * s; sb += a.B * s;
                        }
                    double inv = 1.0 / (samples * samples);
                    double r = Clamp01(sr * inv), g = Clamp01(sg * inv), b = Clamp01(sb * inv);
                    rgb[3 * i] = ToByte(r); rgb[3 * i + 1] = ToByte(g); rgb[3 * i + 2] = ToByte(b);
                    if (linear != null) { linear[3 * i] = r; linear[3 * i + 1] = g; linear[3 * i + 2] = b; }
                }
        }

        private static double Clamp01(double v) => v < 0 ? 0 : (v > 1 ? 1 : v);
        private static byte ToByte(double v) => (byte)Math.Round(v * 255, MidpointRounding.AwayFromZero);

        /// <summary>World direction of the ray through pixel (u, v): R ((u - cx) / fx, (v - cy) / fy, 1).</summary>
        public static (double X, double Y, double Z) Dir(CameraPose pose, Intrinsics k, double u, double v)
        {
            double cx = (u - k.Cx) / k.Fx, cy = (v - k.Cy) / k.Fy;
            return (pose.R(0, 0) * cx + pose.R(0, 1) * cy + pose.R(0, 2),
                    pose.R(1, 0) * cx + pose.R(1, 1) * cy + pose.R(1, 2),
                    pose.R(2, 0) * cx + pose.R(2, 1) * cy + pose.R(2, 2));
        }
    }
}
