using System;
using System.Collections.Generic;

namespace FlowMap.Synthetic
{
    /// <summary>
    /// Camera paths through the scenes' free region, deterministic from a seed. A path is a smooth function of
    /// s = frame index x motion scale, so <c>motion</c> scales the per-frame displacement without changing the path's
    /// shape. At motion 1 and 320x240 (focal 0.8 width) adjacent-frame flow is a few pixels to about 20 px.
    /// Poses are camera-to-world, OpenCV axes (x right, y down, z forward); the world's y axis points down.
    /// </summary>
    internal static class CameraPaths
    {
        public static readonly IReadOnlyList<string> Names = new[] { "walk", "orbit", "forward", "rotation", "static" };

        // The free region: a loop around the centre table and an aisle on the -x side.
        private const double WalkRx = 2.3, WalkRz = 2.8, WalkWobble = 0.07;
        private const double OrbitRadius = 2.4;
        private const double AisleX = -2.0, AisleHalfWidth = 0.6, AisleHalfLength = 2.8;
        private static readonly (double X, double Y, double Z) Target = (0, 0.55, 0); // just above the table top

        public static CameraPose[] Generate(string path, int frames, ulong seed, double motion)
        {
            if (frames < 1) throw new ArgumentOutOfRangeException(nameof(frames), frames, "A sequence needs at least one frame.");
            if (!(motion >= 0) || double.IsInfinity(motion)) throw new ArgumentOutOfRangeException(nameof(motion), motion, "Motion scale must be a finite number >= 0.");
            var rng = new SplitMix(seed, 7);
            Func<double, CameraPose> f = path switch
            {
                "walk" => Walk(rng),
                "orbit" => Orbit(rng),
                "forward" => Forward(rng),
                "rotation" => Rotation(rng),
                "static" => Static(rng),
                _ => throw new ArgumentException($"Unknown camera path '{path}'. Known: {string.Join(", ", Names)}."),
            };
            var poses = new CameraPose[frames];
            for (int i = 0; i < frames; i++) poses[i] = f(i * motion);
            return poses;
        }

        /// <summary>Hand-held walk around the table: a wobbling loop, the gaze between the heading and the centre, step bob and shake.</summary>
        private static Func<double, CameraPose> Walk(SplitMix rng)
        {
            double theta0 = rng.Range(0, 2 * Math.PI), dir = rng.NextDouble() < 0.5 ? -1 : 1;
            double omega = 0.05 / ((WalkRx + WalkRz) / 2); // 5 cm per frame
            var ph = new double[12];
            for (int i = 0; i < ph.Length; i++) ph[i] = rng.Range(0, 2 * Math.PI);
            return s =>
            {
                double th = theta0 + dir * omega * s;
                double rx = WalkRx * (1 + WalkWobble * Math.Sin(0.011 * s + ph[0])), rz = WalkRz * (1 + WalkWobble * Math.Sin(0.013 * s + ph[1]));
                double x = rx * Math.Cos(th), z = rz * Math.Sin(th);
                double y = 0.05 * Math.Sin(0.02 * s + ph[2]) + 0.01 * Math.Sin(2 * Math.PI * s / 17 + ph[3]);
                // Shake: a few millimetres and a few tenths of a degree at incommensurate periods of 4..10 frames.
                x += 0.003 * Math.Sin(2 * Math.PI * s / 7.3 + ph[4]);
                y += 0.003 * Math.Sin(2 * Math.PI * s / 5.1 + ph[5]);
                z += 0.003 * Math.Sin(2 * Math.PI * s / 9.7 + ph[6]);
                double hx = -rx * Math.Sin(th) * dir, hz = rz * Math.Cos(th) * dir; // heading
                double hn = Math.Sqrt(hx * hx + hz * hz);
                double cx = -x, cz = -z, cn = Math.Sqrt(cx * cx + cz * cz);
                double beta = 0.3 + 0.3 * Math.Sin(0.04 * s + ph[7]);
                double fx = Math.Cos(beta) * hx / hn + Math.Sin(beta) * cx / cn, fz = Math.Cos(beta) * hz / hn + Math.Sin(beta) * cz / cn;
                double pitch = 0.22 + 0.1 * Math.Sin(0.05 * s + ph[8]);
                double roll = 0.03 * Math.Sin(0.019 * s + ph[9]);
                var shake = (0.006 * Math.Sin(2 * Math.PI * s / 4.3 + ph[10]), 0.006 * Math.Sin(2 * Math.PI * s / 6.1 + ph[11]), 0.003 * Math.Sin(2 * Math.PI * s / 8.9 + ph[3]));
                return LookAlong(x, y, z, fx, Math.Tan(pitch), fz, roll, shake);
            };
        }

        /// <summary>A circle around the table, looking at it.</summary>
        private static Func<double, CameraPose> Orbit(SplitMix rng)
        {
            double theta0 = rng.Range(0, 2 * Math.PI), dir = rng.NextDouble() < 0.5 ? -1 : 1;
            double omega = 0.1 / OrbitRadius, ph = rng.Range(0, 2 * Math.PI);
            return s =>
            {
                double th = theta0 + dir * omega * s;
                double x = OrbitRadius * Math.Cos(th), z = OrbitRadius * Math.Sin(th), y = -0.1 + 0.08 * Math.Sin(0.02 * s + ph);
                return LookAlong(x, y, z, Target.X - x, Target.Y - y, Target.Z - z, 0, (0, 0, 0));
            };
        }

        /// <summary>
        /// Forward along a stadium-shaped track in the aisle: straight legs looking ahead (8 cm per frame), half-turns at
        /// the ends taken at a third of the speed (about 2.5 degrees per frame).
        /// </summary>
        private static Func<double, CameraPose> Forward(SplitMix rng)
        {
            double r = AisleHalfWidth, len = 2 * AisleHalfLength;
            const double speed = 0.08, turnSpeed = speed / 3;
            double tLeg = len / speed, tTurn = Math.PI * r / turnSpeed, total = 2 * tLeg + 2 * tTurn;
            double t0 = rng.Range(0, 0.3) * tLeg; // start on the first straight leg
            double pitch = rng.Range(0.1, 0.2);
            return s =>
            {
                double t = (t0 + s) % total;
                double x, z, hx, hz;
                if (t < tLeg) { x = AisleX - r; z = -AisleHalfLength + speed * t; hx = 0; hz = 1; }
                else if (t < tLeg + tTurn)
                {
                    double phi = (t - tLeg) * turnSpeed / r; // turn about (AisleX, +L) from the -x side to the +x side
                    x = AisleX - r * Math.Cos(phi); z = AisleHalfLength + r * Math.Sin(phi); hx = Math.Sin(phi); hz = Math.Cos(phi);
                }
                else if (t < 2 * tLeg + tTurn) { x = AisleX + r; z = AisleHalfLength - speed * (t - tLeg - tTurn); hx = 0; hz = -1; }
                else
                {
                    double phi = (t - 2 * tLeg - tTurn) * turnSpeed / r;
                    x = AisleX + r * Math.Cos(phi); z = -AisleHalfLength - r * Math.Sin(phi); hx = -Math.Sin(phi); hz = -Math.Cos(phi);
                }
                return LookAlong(x, -0.05, z, hx, Math.Tan(pitch), hz, 0, (0, 0, 0));
            };
        }

        /// <summary>Pure rotation about a fixed centre: panning yaw, nodding pitch, a little roll.</summary>
        private static Func<double, CameraPose> Rotation(SplitMix rng)
        {
            double x = rng.Range(-0.5, 0.5), z = rng.Range(-2.6, -2.2), y = rng.Range(-0.15, 0.05);
            double yaw0 = rng.Range(-0.3, 0.3), p1 = rng.Range(0, 2 * Math.PI), p2 = rng.Range(0, 2 * Math.PI), p3 = rng.Range(0, 2 * Math.PI);
            return s =>
            {
                double yaw = yaw0 + 0.9 * Math.Sin(0.04 * s + p1);
                double pitch = 0.15 + 0.15 * Math.Sin(0.05 * s + p2);
                double roll = 0.06 * Math.Sin(0.021 * s + p3);
                return LookAlong(x, y, z, Math.Sin(yaw), Math.Tan(pitch), Math.Cos(yaw), roll, (0, 0, 0));
            };
        }

        /// <summary>A fixed view of the table from a seeded point of the walk loop.</summary>
        private static Func<double, CameraPose> Static(SplitMix rng)
        {
            double th = rng.Range(0, 2 * Math.PI);
            double x = WalkRx * Math.Cos(th), z = WalkRz * Math.Sin(th), y = rng.Range(-0.1, 0.05);
            var pose = LookAlong(x, y, z, Target.X - x, Target.Y - y, Target.Z - z, rng.Range(-0.05, 0.05), (0, 0, 0));
            return _ => pose;
        }

        /// <summary>
        /// Camera at (x, y, z) looking along (fx, fy, fz) with the world's -y as up, rolled about the view axis, then
        /// turned by a small camera-frame rotation vector (the shake). Columns of R are the camera axes in the world.
        /// </summary>
        internal static CameraPose LookAlong(double x, double y, double z, double fx, double fy, double fz, double roll, (double X, double Y, double Z) shake)
        {
            double n = Math.Sqrt(fx * fx + fy * fy + fz * fz);
            fx /= n; fy /= n; fz /= n;
            // right = down x forward, down = (0, 1, 0)
            double rx = fz, ry = 0, rz = -fx;
            double rn = Math.Sqrt(rx * rx + rz * rz);
            rx /= rn; rz /= rn;
            // camera down = forward x right
            double dx = fy * rz - fz * ry, dy = fz * rx - fx * rz, dz = fx * ry - fy * rx;
            double c = Math.Cos(roll), s = Math.Sin(roll);
            double r2x = c * rx + s * dx, r2y = c * ry + s * dy, r2z = c * rz + s * dz;
            double d2x = -s * rx + c * dx, d2y = -s * ry + c * dy, d2z = -s * rz + c * dz;
            var look = new CameraPose(new[] { r2x, d2x, fx, r2y, d2y, fy, r2z, d2z, fz }, new[] { x, y, z });
            return look.Compose(new CameraPose(Rodrigues(shake.X, shake.Y, shake.Z), new double[3]));
        }

        /// <summary>Rotation matrix (row-major) of the rotation vector w (axis x angle, radians).</summary>
        internal static double[] Rodrigues(double wx, double wy, double wz)
        {
            double th = Math.Sqrt(wx * wx + wy * wy + wz * wz);
            if (th < 1e-15) return new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
            double kx = wx / th, ky = wy / th, kz = wz / th, c = Math.Cos(th), s = Math.Sin(th), v = 1 - c;
            return new[]
            {
                c + kx * kx * v, kx * ky * v - kz * s, kx * kz * v + ky * s,
                ky * kx * v + kz * s, c + ky * ky * v, ky * kz * v - kx * s,
                kz * kx * v - ky * s, kz * ky * v + kx * s, c + kz * kz * v,
            };
        }

        /// <summary>Smallest distance from a primitive's bounds to any camera position a path can reach (sampled densely).</summary>
        internal static double FreeRegionDistance(SyntheticPrimitive prim)
        {
            double best = double.PositiveInfinity;
            foreach (var (x, y, z) in FreeRegionSamples()) best = Math.Min(best, prim.BoundsDistance(x, y, z));
            return best;
        }

        private static List<(double, double, double)>? s_samples;

        private static List<(double X, double Y, double Z)> FreeRegionSamples()
        {
            if (s_samples != null) return s_samples;
            var pts = new List<(double, double, double)>();
            for (int i = 0; i < 360; i++)
            {
                double th = i * Math.PI / 180;
                foreach (double k in new[] { 1 - WalkWobble, 1.0, 1 + WalkWobble })
                    pts.Add((WalkRx * k * Math.Cos(th), 0, WalkRz * k * Math.Sin(th)));
                pts.Add((OrbitRadius * Math.Cos(th), 0, OrbitRadius * Math.Sin(th)));
            }
            for (double zz = -AisleHalfLength - AisleHalfWidth; zz <= AisleHalfLength + AisleHalfWidth; zz += 0.05)
                for (double xx = AisleX - AisleHalfWidth; xx <= AisleX + AisleHalfWidth; xx += 0.05)
                    pts.Add((xx, 0, zz));
            for (double xx = -0.5; xx <= 0.5; xx += 0.1)
                for (double zz = -2.6; zz <= -2.2; zz += 0.1)
                    pts.Add((xx, 0, zz));
            s_samples = pts;
            return pts;
        }
    }
}
