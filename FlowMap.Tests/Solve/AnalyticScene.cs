using System;
using System.Collections.Generic;
using FlowMap.Flow;
using FlowMap.Solve;

namespace FlowMap.Tests.Solve
{
    /// <summary>
    /// A ray-cast scene of planes with exact depth, poses and flow, made in the test (no renderer): a slanted back wall,
    /// a floor, and a few fronto-parallel and slanted boards floating in front. Flow of each adjacent pair is computed
    /// from the true depth and poses; the confidence is 1 where the point is visible in the other frame (z agrees with
    /// the other frame's depth at the flowed position within 2 %) and inside the image, else 0.
    /// </summary>
    internal sealed class AnalyticScene
    {
        private readonly record struct Plane(double Nx, double Ny, double Nz, double D, double XMin, double XMax, double YMin, double YMax, double ZMin, double ZMax);

        public int Width { get; }
        public int Height { get; }
        public double Focal { get; }
        public CameraPose[] Poses { get; }
        public float[][] Depth { get; }
        public SolverWindow Window { get; }

        private readonly List<Plane> _planes = new List<Plane>();

        /// <param name="boards">Floating boards in front of the wall (depth discontinuities).</param>
        /// <param name="motion">"walk" (forward, sideways and yaw), "orbit" or "rotation" (pure rotation).</param>
        public AnalyticScene(int width, int height, int frames, double focal, string motion = "walk", int seed = 1, int boards = 3)
        {
            Width = width; Height = height; Focal = focal;
            var rng = new Random(seed);
            // World: x right, y down, z forward. Back wall n.X = d, slanted; floor y = 1.2.
            _planes.Add(new Plane(0.15, 0, 1, 6, -1e9, 1e9, -1e9, 1e9, -1e9, 1e9));
            _planes.Add(new Plane(0, 1, 0, 1.2, -1e9, 1e9, -1e9, 1e9, -1e9, 1e9));
                        for (int b = 0; b < boards; b++)
            {
                double cx = -1.0 + 1.0 * b + 0.2 * rng.NextDouble(), cy = -0.5 + rng.NextDouble() * 0.8, cz = 2.5 + 1.5 * rng.NextDouble();
                double sx = 0.4 + 0.2 * rng.NextDouble(), sy = 0.4 + 0.2 * rng.NextDouble();
                double tilt = (rng.NextDouble() - 0.5) * 0.8;
                // Plane through (cx, cy, cz) with normal (tilt, 0, 1): tilt x + z = tilt cx + cz.
                _planes.Add(new Plane(tilt, 0, 1, tilt * cx + cz, cx - sx, cx + sx, cy - sy, cy + sy, -1e9, 1e9));
            }
            Poses = new CameraPose[frames];
            for (int i = 0; i < frames; i++)
            {
                double yaw, pitch = 0, tx, ty = 0, tz;
                switch (motion)
                {
                    case "rotation": yaw = 0.03 * i; pitch = 0.01 * i; tx = tz = 0; break;
                    case "orbit": yaw = -0.04 * i; tx = 0.12 * i; tz = 0.02 * i; break;
                    default: yaw = 0.03 * i; tx = 0.2 * i; ty = 0.03 * i; tz = 0.25 * i; break;
                }
                Poses[i] = Pose(yaw, pitch, tx, ty, tz);
            }
            Depth = new float[frames][];
            for (int i = 0; i < frames; i++) Depth[i] = RenderDepth(Poses[i]);
            var images = new List<RgbImage>();
            for (int i = 0; i < frames; i++) images.Add(new RgbImage(width, height));
            var pairs = new List<FlowResult>();
            for (int i = 0; i + 1 < frames; i++)
            {
                var (f, cf) = TrueFlow(i, i + 1);
                var (b, cb) = TrueFlow(i + 1, i);
                pairs.Add(new FlowResult(f, b, cf, cb));
            }
            Window = new SolverWindow(images, pairs);
        }

        private static CameraPose Pose(double yaw, double pitch, double tx, double ty, double tz)
        {
            double cy = Math.Cos(yaw), sy = Math.Sin(yaw), cp = Math.Cos(pitch), sp = Math.Sin(pitch);
            var ry = new[] { cy, 0, sy, 0, 1, 0, -sy, 0, cy };
            var rx = new[] { 1, 0, 0, 0, cp, -sp, 0, sp, cp };
            return new CameraPose(Procrustes.Mul(ry, rx), new[] { tx, ty, tz });
        }

        private double Cx => (Width - 1) / 2.0;
        private double Cy => (Height - 1) / 2.0;

        private float[] RenderDepth(CameraPose pose)
        {
            var d = new float[Width * Height];
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                    d[y * Width + x] = (float)Cast(pose, (x - Cx) / Focal, (y - Cy) / Focal);
            return d;
        }

        /// <summary>z-depth along the camera ray (rx, ry, 1).</summary>
        private double Cast(CameraPose pose, double rx, double ry)
        {
            var (ox, oy, oz) = pose.Center;
            double dx = pose.R(0, 0) * rx + pose.R(0, 1) * ry + pose.R(0, 2);
            double dy = pose.R(1, 0) * rx + pose.R(1, 1) * ry + pose.R(1, 2);
            double dz = pose.R(2, 0) * rx + pose.R(2, 1) * ry + pose.R(2, 2);
            double best = double.MaxValue;
            foreach (var p in _planes)
            {
                double den = p.Nx * dx + p.Ny * dy + p.Nz * dz;
                if (Math.Abs(den) < 1e-12) continue;
                double t = (p.D - (p.Nx * ox + p.Ny * oy + p.Nz * oz)) / den;
                if (t <= 0.05 || t >= best) continue;
                double hx = ox + t * dx, hy = oy + t * dy;
                if (hx < p.XMin || hx > p.XMax || hy < p.YMin || hy > p.YMax) continue;
                best = t;
            }
            return best == double.MaxValue ? 50 : best; // t along (rx, ry, 1) is the z-depth
        }

        private (FlowField Flow, FloatImage Conf) TrueFlow(int a, int b)
        {
            var flow = new FlowField(Width, Height);
            var conf = new FloatImage(Width, Height);
            var rel = Poses[b].Inverse().Compose(Poses[a]); // camera a -> camera b
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    int i = y * Width + x;
                    double z = Depth[a][i];
                    var (px, py, pz) = rel.Transform((x - Cx) / Focal * z, (y - Cy) / Focal * z, z);
                    double u = Focal * px / pz + Cx, v = Focal * py / pz + Cy;
                    flow.Data[2 * i] = (float)(u - x); flow.Data[2 * i + 1] = (float)(v - y);
                    bool inside = pz > 0 && u >= 0 && v >= 0 && u <= Width - 1 && v <= Height - 1;
                    if (inside)
                    {
                        double zb = Cast(Poses[b], (u - Cx) / Focal, (v - Cy) / Focal);
                        inside = Math.Abs(zb - pz) < 0.02 * pz;
                    }
                    conf.Data[i] = inside ? 1 : 0;
                }
            return (flow, conf);
        }

        /// <summary>Worst rotation error (degrees) of the relative pose of each adjacent pair.</summary>
        public double WorstPairRotationErrorDeg(CameraPose[] est)
        {
            double worst = 0;
            for (int i = 0; i + 1 < Poses.Length; i++)
            {
                var t = Poses[i].Inverse().Compose(Poses[i + 1]);
                var e = est[i].Inverse().Compose(est[i + 1]);
                worst = Math.Max(worst, t.Inverse().Compose(e).RotationAngle() * 180 / Math.PI);
            }
            return worst;
        }

        /// <summary>AbsRel of the estimated depth after one median scale per frame (pixels with positive truth).</summary>
        public double DepthAbsRel(FloatImage[] est)
        {
            double sum = 0; long n = 0;
            for (int f = 0; f < est.Length; f++)
            {
                var ratios = new List<double>();
                for (int i = 0; i < Depth[f].Length; i++) ratios.Add(Depth[f][i] / est[f].Data[i]);
                ratios.Sort();
                double s = ratios[ratios.Count / 2];
                for (int i = 0; i < Depth[f].Length; i++) { sum += Math.Abs(s * est[f].Data[i] - Depth[f][i]) / Depth[f][i]; n++; }
            }
            return sum / n;
        }
    }
}
