using System;
using System.Collections.Generic;
using System.IO;
using FlowMap.Export;

namespace FlowMap.Tests.Viewer
{
    /// <summary>
    /// Writes small folders in the `flowmap synth` layout (color/NNNNNN.png, depth/NNNNNN.npy, trajectory.txt,
    /// intrinsics.json, flow/NNNNNN.flo) by ray casting a checkered box room, so viewer tests do not depend on the synth
    /// generator. Room: floor y = 1.2, ceiling y = -1.3, walls x = +-2, back wall z = 6 (OpenCV world axes, y down).
    /// </summary>
    internal static class SyntheticFolders
    {
        public static readonly (int Axis, double Value)[] Planes = { (1, 1.2), (1, -1.3), (0, -2), (0, 2), (2, 6) };

        private static readonly (byte R, byte G, byte B)[] s_colors = { (200, 180, 150), (230, 230, 230), (220, 90, 90), (90, 200, 110), (90, 140, 220) };

        public static CameraPose Pose(int i, int n)
        {
            double t = i / (double)Math.Max(1, n - 1), yaw = 0.3 * Math.Sin(t * Math.PI);
            double c = Math.Cos(yaw), s = Math.Sin(yaw);
            return new CameraPose(new[] { c, 0, s, 0, 1, 0, -s, 0, c }, new[] { 0.5 * t, -0.2 * t, 1.5 * t });
        }

        /// <summary>Ray casts frame <paramref name="i"/>: z-depth and colour per pixel.</summary>
        public static (FloatImage Depth, RgbImage Color) Render(Intrinsics k, CameraPose pose, bool noFlatShade = false)
        {
            var depth = new FloatImage(k.Width, k.Height);
            var rgb = new byte[k.Width * k.Height * 3];
            for (int v = 0; v < k.Height; v++)
                for (int u = 0; u < k.Width; u++)
                {
                    var ray = k.Unproject(u, v, 1); // the pixel's undistorted ray (the pinhole when K1 = 0)
                    var dc = (ray.X, ray.Y, 1.0);
                    var d = (pose.R(0, 0) * dc.Item1 + pose.R(0, 1) * dc.Item2 + pose.R(0, 2),
                             pose.R(1, 0) * dc.Item1 + pose.R(1, 1) * dc.Item2 + pose.R(1, 2),
                             pose.R(2, 0) * dc.Item1 + pose.R(2, 1) * dc.Item2 + pose.R(2, 2));
                    double best = double.PositiveInfinity;
                    int plane = -1;
                    for (int p = 0; p < Planes.Length; p++)
                    {
                        double dir = Planes[p].Axis == 0 ? d.Item1 : Planes[p].Axis == 1 ? d.Item2 : d.Item3;
                        double c0 = pose.T(Planes[p].Axis);
                        double t = (Planes[p].Value - c0) / dir;
                        if (t > 0 && t < best) { best = t; plane = p; }
                    }
                    int o = v * k.Width + u;
                    depth.Data[o] = (float)best; // the camera-frame ray has z = 1, so the ray parameter is the z-depth
                    var x = (pose.T(0) + best * d.Item1, pose.T(1) + best * d.Item2, pose.T(2) + best * d.Item3);
                    // Checkers from the two in-plane coordinates only (the third is the plane's constant, where floor() is unstable).
                    int ax = Planes[plane].Axis;
                    double cs = (ax == 0 ? 0 : Math.Floor(x.Item1 * 2)) + (ax == 1 ? 0 : Math.Floor(x.Item2 * 2)) + (ax == 2 ? 0 : Math.Floor(x.Item3 * 2));
                    double check = Math.Abs(cs % 2) < 0.5 ? 1 : 0.6;
                    var col = s_colors[plane];
                    rgb[3 * o] = (byte)(col.R * check); rgb[3 * o + 1] = (byte)(col.G * check); rgb[3 * o + 2] = (byte)(col.B * check);
                }
            return (depth, new RgbImage(k.Width, k.Height, rgb));
        }

        /// <summary>Writes a synthetic-layout folder with <paramref name="frames"/> frames; returns the intrinsics and poses.</summary>
        public static (Intrinsics K, List<CameraPose> Poses) WriteSynthetic(string dir, int frames = 8, int w = 96, int h = 72, double k1 = 0)
        {
            var k = Intrinsics.Centered(w, h, 0.8 * w) with { K1 = k1 };
            Directory.CreateDirectory(Path.Combine(dir, "color"));
            Directory.CreateDirectory(Path.Combine(dir, "depth"));
            Directory.CreateDirectory(Path.Combine(dir, "flow"));
            var poses = new List<CameraPose>();
            for (int i = 0; i < frames; i++)
            {
                var pose = Pose(i, frames);
                poses.Add(pose);
                var (depth, color) = Render(k, pose);
                PngImage.WriteRgb(Path.Combine(dir, "color", $"{i:D6}.png"), color);
                Npy.Write(Path.Combine(dir, "depth", $"{i:D6}.npy"), depth);
                if (i + 1 < frames)
                {
                    var flow = new FlowField(w, h);
                    for (int j = 0; j < w * h; j++) { flow.Data[2 * j] = (float)Math.Cos(j * 0.01); flow.Data[2 * j + 1] = (float)Math.Sin(j * 0.013); }
                    FloFile.Write(Path.Combine(dir, "flow", $"{i:D6}.flo"), flow);
                }
            }
            TumTrajectory.Write(Path.Combine(dir, "trajectory.txt"), poses);
            IntrinsicsJson.Write(Path.Combine(dir, "intrinsics.json"), k);
            return (k, poses);
        }

        /// <summary>Writes a reconstruct-output-like folder (points.ply, trajectory.txt, intrinsics.json in the nested form, depth/).</summary>
        public static void WriteReconstruction(string dir, int frames = 6)
        {
            var k = Intrinsics.Centered(64, 48, 50);
            var pos = new List<float>();
            var col = new List<byte>();
            var poses = new List<CameraPose>();
            for (int i = 0; i < frames; i++)
            {
                var pose = Pose(i, frames);
                poses.Add(pose);
                var (depth, color) = Render(k, pose);
                var cloud = FlowMap.Viewer.Scenes.FolderScene.BackProject(depth, color, k, pose, 2);
                pos.AddRange(cloud.Positions);
                col.AddRange(cloud.Colors);
                if (i == frames - 1)
                {
                    Directory.CreateDirectory(Path.Combine(dir, "depth"));
                    Npy.Write(Path.Combine(dir, "depth", $"{i:D6}.npy"), depth);
                }
            }
            PlyFile.Write(Path.Combine(dir, "points.ply"), new PointCloud(pos.ToArray(), col.ToArray()));
            TumTrajectory.Write(Path.Combine(dir, "trajectory.txt"), poses);
            IntrinsicsJson.Write(Path.Combine(dir, "intrinsics.json"), k.Resized(128, 96), k);
        }
    }
}
