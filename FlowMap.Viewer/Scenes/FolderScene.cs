using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FlowMap.Export;

namespace FlowMap.Viewer.Scenes
{
    /// <summary>
    /// A finished folder shown as a fixed scene: either a reconstruct output (points.ply, trajectory.txt, intrinsics.json,
    /// optional depth/*.npy for the inset) or a synthetic sequence's ground truth (depth/*.npy back-projected through
    /// trajectory.txt and intrinsics.json, coloured from color/*.png; the last frame, depth and flow in the inset).
    /// </summary>
    public sealed class FolderScene : IViewerScene
    {
        /// <summary>Most points a synthetic sequence's ground truth is thinned to (a uniform pixel stride per frame).</summary>
        public const int DefaultPointBudget = 1_500_000;

        private readonly ViewerSnapshot _snapshot;

        private FolderScene(string title, ViewerSnapshot snapshot, IReadOnlyList<string>? warnings = null)
        {
            Title = title; _snapshot = snapshot; Warnings = warnings ?? Array.Empty<string>();
        }

        public string Title { get; }
        /// <summary>What was wrong with the folder's files and left out of the scene (e.g. non-finite points), for the user.</summary>
        public IReadOnlyList<string> Warnings { get; }
        public ViewerSnapshot Snapshot() => _snapshot;

        /// <summary>What kind of folder <paramref name="dir"/> is, or null when it is neither kind.</summary>
        public static string? Kind(string dir)
        {
            if (!Directory.Exists(dir)) return null;
            if (File.Exists(Path.Combine(dir, "points.ply"))) return "reconstruction";
            if (Directory.Exists(Path.Combine(dir, "depth")) && Directory.Exists(Path.Combine(dir, "color"))) return "synthetic";
            return null;
        }

        /// <summary>
        /// Loads <paramref name="dir"/>. Throws <see cref="FileNotFoundException"/> naming a missing file and
        /// <see cref="InvalidDataException"/> naming a damaged one.
        /// </summary>
        public static FolderScene Load(string dir, int pointBudget = DefaultPointBudget)
        {
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"'{dir}' is not a folder.");
            return Kind(dir) switch
            {
                "reconstruction" => LoadReconstruction(dir),
                "synthetic" => LoadSynthetic(dir, pointBudget),
                _ => throw new FileNotFoundException(
                    $"'{dir}' is neither a reconstruct output (points.ply, trajectory.txt, intrinsics.json) nor a synthetic sequence " +
                    "(color/, depth/, trajectory.txt, intrinsics.json)."),
            };
        }

        private static string Need(string dir, string name)
        {
            var p = Path.Combine(dir, name);
            if (!File.Exists(p)) throw new FileNotFoundException($"'{dir}' has no {name} (a {(name == "points.ply" ? "reconstruct output" : "viewer folder")} needs it).", p);
            return p;
        }

        private static FolderScene LoadReconstruction(string dir)
        {
            var plyPath = Need(dir, "points.ply");
            var cloud = PlyFile.Read(plyPath);
            var warnings = new List<string>();
            int bad = CountNonFinite(cloud);
            if (bad > 0)
            {
                // NaN or infinite coordinates would be drawn at random places (or nowhere) and counted: leave them out and say so.
                cloud = FiniteOnly(cloud);
                warnings.Add($"{plyPath}: {bad} of {bad + cloud.Count} points have non-finite coordinates (NaN or infinity) and are not drawn");
            }
            var traj = TumTrajectory.ReadPoses(Need(dir, "trajectory.txt"));
            var doc = IntrinsicsJson.Read(Need(dir, "intrinsics.json"));
            var k = doc.Processing ?? doc.Input;
            FloatImage? depth = null;
            var depthDir = Path.Combine(dir, "depth");
            if (Directory.Exists(depthDir))
            {
                var last = Directory.GetFiles(depthDir, "*.npy").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault();
                if (last != null) depth = Npy.ReadFloatImage(last);
            }
            var snap = new ViewerSnapshot
            {
                PointChunks = new[] { cloud }, Trajectory = traj, Intrinsics = k, CurrentFrame = traj.Count - 1, FrameNumber = traj.Count - 1,
                Depth = depth, InsetVersion = depth == null ? 0 : 1, Status = bad > 0 ? $"reconstruction ({bad} non-finite points not drawn)" : "reconstruction",
            };
            return new FolderScene("FlowMap: " + Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/')), snap, warnings);
        }

        private static int CountNonFinite(PointCloud c)
        {
            int bad = 0;
            for (int i = 0; i < c.Count; i++)
                if (!float.IsFinite(c.Positions[3 * i]) || !float.IsFinite(c.Positions[3 * i + 1]) || !float.IsFinite(c.Positions[3 * i + 2])) bad++;
            return bad;
        }

        private static PointCloud FiniteOnly(PointCloud c)
        {
            var pos = new List<float>(c.Positions.Length);
            var col = new List<byte>(c.Colors.Length);
            var conf = c.Confidence == null ? null : new List<float>(c.Count);
            for (int i = 0; i < c.Count; i++)
            {
                if (!float.IsFinite(c.Positions[3 * i]) || !float.IsFinite(c.Positions[3 * i + 1]) || !float.IsFinite(c.Positions[3 * i + 2])) continue;
                for (int k = 0; k < 3; k++) { pos.Add(c.Positions[3 * i + k]); col.Add(c.Colors[3 * i + k]); }
                conf?.Add(c.Confidence![i]);
            }
            return new PointCloud(pos.ToArray(), col.ToArray(), conf?.ToArray());
        }

        private static FolderScene LoadSynthetic(string dir, int pointBudget)
        {
            var k = IntrinsicsJson.Read(Need(dir, "intrinsics.json")).Input;
            var entries = TumTrajectory.Read(Need(dir, "trajectory.txt"));
            var depthFiles = Directory.GetFiles(Path.Combine(dir, "depth"), "*.npy").OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (depthFiles.Count == 0) throw new FileNotFoundException($"'{Path.Combine(dir, "depth")}' has no .npy depth maps.");
            if (entries.Count < depthFiles.Count)
                throw new InvalidDataException($"'{Path.Combine(dir, "trajectory.txt")}' has {entries.Count} poses for {depthFiles.Count} depth maps.");
            var colorDir = Path.Combine(dir, "color");
            string ColorOf(string depthPath)
            {
                var stem = Path.GetFileNameWithoutExtension(depthPath);
                foreach (var ext in new[] { ".png", ".jpg", ".jpeg" })
                {
                    var p = Path.Combine(colorDir, stem + ext);
                    if (File.Exists(p)) return p;
                }
                throw new FileNotFoundException($"'{colorDir}' has no image for depth map {Path.GetFileName(depthPath)} (expected {stem}.png).");
            }
            // Uniform pixel stride so that frames x pixels / stride^2 stays within the budget.
            long pixels = (long)depthFiles.Count * k.Width * k.Height;
            int stride = Math.Max(1, (int)Math.Ceiling(Math.Sqrt(pixels / (double)Math.Max(1, pointBudget))));
            var chunks = new PointCloud[depthFiles.Count];
            var poses = entries.ConvertAll(e => e.Pose);
            try
            {
                Parallel.For(0, depthFiles.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
                {
                    var depth = Npy.ReadFloatImage(depthFiles[i]);
                    var color = PngImage.ReadRgb(ColorOf(depthFiles[i]));
                    if (depth.Width != color.Width || depth.Height != color.Height)
                        throw new InvalidDataException($"'{depthFiles[i]}' is {depth.Width}x{depth.Height} but its image is {color.Width}x{color.Height}.");
                    var kk = depth.Width == k.Width && depth.Height == k.Height ? k : k.Resized(depth.Width, depth.Height);
                    chunks[i] = BackProject(depth, color, kk, poses[i], stride, (i * 7) % stride);
                });
            }
            catch (AggregateException ae)
            {
                // Report the first failing file as itself (FileNotFound / InvalidData), not as an aggregate.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ae.Flatten().InnerExceptions[0]).Throw();
                throw;
            }
            var lastDepth = Npy.ReadFloatImage(depthFiles[^1]);
            var lastColor = PngImage.ReadRgb(ColorOf(depthFiles[^1]));
            FlowField? flow = null;
            var flowDir = Path.Combine(dir, "flow");
            if (Directory.Exists(flowDir))
            {
                var last = Directory.GetFiles(flowDir, "*.flo").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault();
                if (last != null) flow = FloFile.Read(last);
            }
            int n = depthFiles.Count;
            var snap = new ViewerSnapshot
            {
                PointChunks = chunks, Trajectory = poses, Intrinsics = k, CurrentFrame = n - 1, FrameNumber = n - 1,
                Image = lastColor, Depth = lastDepth, Flow = flow, InsetVersion = 1, Status = stride == 1 ? "ground truth, every pixel" : $"ground truth, 1 in {stride}x{stride} pixels",
            };
            return new FolderScene("FlowMap ground truth: " + Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/')), snap);
        }

        /// <summary>
        /// Back-projects every <paramref name="stride"/>-th pixel (in x and y, starting at <paramref name="offset"/>) with a
        /// finite positive z-depth into world coordinates along the pixel's undistorted ray: X_world = pose (K^-1 [u, v, 1] z)
        /// for a pinhole, <see cref="Intrinsics.Unproject"/> with radial distortion (so a distorted camera gives straight
        /// walls). Colours from <paramref name="color"/>.
        /// </summary>
        public static PointCloud BackProject(FloatImage depth, RgbImage color, Intrinsics k, CameraPose pose, int stride, int offset = 0)
        {
            var pos = new List<float>();
            var col = new List<byte>();
            offset %= Math.Max(1, stride);
            for (int y = offset; y < depth.Height; y += stride)
                for (int x = offset; x < depth.Width; x += stride)
                {
                    float z = depth.Data[y * depth.Width + x];
                    if (!(z > 0) || float.IsInfinity(z)) continue;
                    var c = k.Unproject(x, y, z);
                    if (double.IsNaN(c.X) || double.IsNaN(c.Y)) continue; // outside the distortion's domain
                    var w = pose.Transform(c.X, c.Y, c.Z);
                    pos.Add((float)w.X); pos.Add((float)w.Y); pos.Add((float)w.Z);
                    int o = 3 * (y * color.Width + x);
                    col.Add(color.Pixels[o]); col.Add(color.Pixels[o + 1]); col.Add(color.Pixels[o + 2]);
                }
            return new PointCloud(pos.ToArray(), col.ToArray());
        }
    }
}
