using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace FlowMap.Export
{
    /// <summary>
    /// One COLMAP camera: <c>CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]</c>. Parameters are in COLMAP's convention, where the
    /// centre of the top-left pixel is (0.5, 0.5): a COLMAP principal point is FlowMap's (pixel-centre) principal point + 0.5.
    /// </summary>
    internal sealed record ColmapCamera(int Id, string Model, int Width, int Height, double[] Params)
    {
        /// <summary>
        /// SIMPLE_RADIAL (f, cx, cy, k1) when fx == fy, else PINHOLE (fx, fy, cx, cy) or, with distortion, OPENCV (fx, fy,
        /// cx, cy, k1, k2 = 0, p1 = 0, p2 = 0); principal point shifted by +0.5. COLMAP's radial term acts on the same
        /// normalised coordinates as <see cref="Intrinsics.K1"/> (src/colmap/sensor/models.h), so k1 is written as is.
        /// </summary>
        public static ColmapCamera FromIntrinsics(int id, Intrinsics k)
        {
            if (k == null) throw new ArgumentNullException(nameof(k));
            if (k.Fx == k.Fy) return new ColmapCamera(id, "SIMPLE_RADIAL", k.Width, k.Height, new[] { k.Fx, k.Cx + 0.5, k.Cy + 0.5, k.K1 });
            return k.K1 == 0
                ? new ColmapCamera(id, "PINHOLE", k.Width, k.Height, new[] { k.Fx, k.Fy, k.Cx + 0.5, k.Cy + 0.5 })
                : new ColmapCamera(id, "OPENCV", k.Width, k.Height, new[] { k.Fx, k.Fy, k.Cx + 0.5, k.Cy + 0.5, k.K1, 0, 0, 0 });
        }

        /// <summary>
        /// The camera in FlowMap's convention: focal, principal point (- 0.5) and, for SIMPLE_RADIAL, RADIAL, OPENCV and
        /// FULL_OPENCV, the first radial coefficient as <see cref="Intrinsics.K1"/> (the same polynomial). Further
        /// distortion terms (k2, tangential, thin prism) and the fisheye models' distortion are dropped.
        /// </summary>
        public Intrinsics ToIntrinsics()
        {
            switch (Model)
            {
                case "SIMPLE_PINHOLE": case "SIMPLE_RADIAL_FISHEYE": case "RADIAL_FISHEYE":
                    Need(3); return new Intrinsics(Width, Height, Params[0], Params[0], Params[1] - 0.5, Params[2] - 0.5);
                case "SIMPLE_RADIAL": case "RADIAL":
                    Need(4); return new Intrinsics(Width, Height, Params[0], Params[0], Params[1] - 0.5, Params[2] - 0.5) { K1 = Params[3] };
                case "OPENCV": case "FULL_OPENCV":
                    Need(5); return new Intrinsics(Width, Height, Params[0], Params[1], Params[2] - 0.5, Params[3] - 0.5) { K1 = Params[4] };
                case "PINHOLE": case "OPENCV_FISHEYE": case "FOV": case "THIN_PRISM_FISHEYE":
                    Need(4); return new Intrinsics(Width, Height, Params[0], Params[1], Params[2] - 0.5, Params[3] - 0.5);
                default: throw new NotSupportedException($"COLMAP camera model '{Model}' is not supported.");
            }
        }

        private void Need(int n)
        {
            if (Params.Length < n) throw new InvalidDataException($"COLMAP camera {Id} ({Model}) has {Params.Length} parameters, needs {n}.");
        }
    }

    /// <summary>A 2-D keypoint of an image: pixel position (COLMAP convention) and the 3-D point it observes (-1: none).</summary>
    internal readonly record struct ColmapPoint2D(double X, double Y, long Point3DId);

    /// <summary>
    /// One COLMAP image: the world-to-camera pose as a Hamilton quaternion (QW, QX, QY, QZ) and translation (TX, TY, TZ),
    /// the camera id, the image name, and its keypoints (second line; empty when there are none).
    /// </summary>
    internal sealed record ColmapImage(int Id, double Qw, double Qx, double Qy, double Qz, double Tx, double Ty, double Tz,
                                     int CameraId, string Name, IReadOnlyList<ColmapPoint2D> Points2D)
    {
        /// <summary>An image from a camera-to-world pose (it is inverted to COLMAP's world-to-camera form).</summary>
        public static ColmapImage FromCameraToWorld(int id, int cameraId, string name, CameraPose cameraToWorld, IReadOnlyList<ColmapPoint2D>? points2D = null)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Any(char.IsWhiteSpace))
                throw new ArgumentException($"COLMAP image names cannot be empty or hold spaces: '{name}'.", nameof(name));
            var w2c = cameraToWorld.Inverse();
            var (qx, qy, qz, qw) = w2c.Quaternion;
            return new ColmapImage(id, qw, qx, qy, qz, w2c.T(0), w2c.T(1), w2c.T(2), cameraId, name, points2D ?? Array.Empty<ColmapPoint2D>());
        }

        /// <summary>World-to-camera transform (x_cam = R x_world + T).</summary>
        public CameraPose WorldToCamera => CameraPose.FromQuaternion(Qx, Qy, Qz, Qw, Tx, Ty, Tz);
        /// <summary>Camera-to-world pose (the camera centre is -R^T T).</summary>
        public CameraPose CameraToWorld => WorldToCamera.Inverse();
    }

    /// <summary>One COLMAP 3-D point: position, colour, reprojection error (pixels) and track (image id, keypoint index).</summary>
    internal sealed record ColmapPoint3D(long Id, double X, double Y, double Z, byte R, byte G, byte B, double Error,
                                       IReadOnlyList<(int ImageId, int Point2DIndex)> Track);

    /// <summary>
    /// A COLMAP sparse model in COLMAP's text format (colmap/colmap doc/format.rst, "Text Format"): <c>cameras.txt</c>,
    /// <c>images.txt</c> (two lines per image: pose line, keypoint line, empty when there are no keypoints) and
    /// <c>points3D.txt</c>, each with COLMAP's comment header. Camera axes are OpenCV's (x right, y down, z forward) in
    /// both COLMAP and FlowMap.
    /// </summary>
    internal sealed class ColmapTextModel
    {
        public List<ColmapCamera> Cameras { get; } = new List<ColmapCamera>();
        public List<ColmapImage> Images { get; } = new List<ColmapImage>();
        public List<ColmapPoint3D> Points3D { get; } = new List<ColmapPoint3D>();

        /// <summary>
        /// The model of a reconstruction: one shared camera (id 1), images 1..N named as given with their camera-to-world
        /// poses (whitespace in names becomes '_', see <see cref="SafeName"/>), and, when given, the points of <paramref name="points"/> as 3-D points with empty tracks (every
        /// <paramref name="pointStride"/>-th point, to keep the file small).
        /// </summary>
        public static ColmapTextModel FromReconstruction(Intrinsics camera, IReadOnlyList<string> names, IReadOnlyList<CameraPose> cameraToWorld,
                                                         PointCloud? points = null, int pointStride = 1)
        {
            if (names == null) throw new ArgumentNullException(nameof(names));
            if (cameraToWorld == null) throw new ArgumentNullException(nameof(cameraToWorld));
            if (names.Count != cameraToWorld.Count) throw new ArgumentException($"{names.Count} names for {cameraToWorld.Count} poses.");
            if (pointStride < 1) throw new ArgumentOutOfRangeException(nameof(pointStride));
            var m = new ColmapTextModel();
            m.Cameras.Add(ColmapCamera.FromIntrinsics(1, camera));
            for (int i = 0; i < names.Count; i++) m.Images.Add(ColmapImage.FromCameraToWorld(i + 1, 1, SafeName(names[i], i), cameraToWorld[i]));
            if (points != null)
                for (int i = 0, id = 1; i < points.Count; i += pointStride, id++)
                    m.Points3D.Add(new ColmapPoint3D(id, points.Positions[3 * i], points.Positions[3 * i + 1], points.Positions[3 * i + 2],
                        points.Colors[3 * i], points.Colors[3 * i + 1], points.Colors[3 * i + 2], 0, Array.Empty<(int, int)>()));
            return m;
        }

        /// <summary>Shortest round-trip text; -0 is written as 0.</summary>
        /// <summary>COLMAP's text format ends a name at the first space: whitespace becomes '_' (an empty name becomes NNNNNN.png).</summary>
        public static string SafeName(string? name, int index)
        {
            if (string.IsNullOrWhiteSpace(name)) return index.ToString("D6", CultureInfo.InvariantCulture) + ".png";
            var chars = name!.ToCharArray();
            for (int i = 0; i < chars.Length; i++) if (char.IsWhiteSpace(chars[i])) chars[i] = '_';
            return new string(chars);
        }

        private static string F(double v) => (v == 0 ? 0.0 : v).ToString("R", CultureInfo.InvariantCulture);
        private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

        /// <summary>Writes cameras.txt, images.txt and points3D.txt into <paramref name="folder"/> (created if needed).</summary>
        public void Write(string folder)
        {
            Directory.CreateDirectory(folder);
            var sb = new StringBuilder();
            sb.Append("# Camera list with one line of data per camera:\n");
            sb.Append("#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n");
            sb.Append("# Number of cameras: ").Append(I(Cameras.Count)).Append('\n');
            foreach (var c in Cameras)
            {
                sb.Append(I(c.Id)).Append(' ').Append(c.Model).Append(' ').Append(I(c.Width)).Append(' ').Append(I(c.Height));
                foreach (var p in c.Params) sb.Append(' ').Append(F(p));
                sb.Append('\n');
            }
            WriteText(Path.Combine(folder, "cameras.txt"), sb);

            sb.Clear();
            double meanObs = Images.Count == 0 ? 0 : Images.Sum(im => im.Points2D.Count(p => p.Point3DId >= 0)) / (double)Images.Count;
            sb.Append("# Image list with two lines of data per image:\n");
            sb.Append("#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n");
            sb.Append("#   POINTS2D[] as (X, Y, POINT3D_ID)\n");
            sb.Append("# Number of images: ").Append(I(Images.Count)).Append(", mean observations per image: ").Append(F(meanObs)).Append('\n');
            foreach (var im in Images)
            {
                sb.Append(I(im.Id));
                foreach (var v in new[] { im.Qw, im.Qx, im.Qy, im.Qz, im.Tx, im.Ty, im.Tz }) sb.Append(' ').Append(F(v));
                sb.Append(' ').Append(I(im.CameraId)).Append(' ').Append(im.Name).Append('\n');
                for (int k = 0; k < im.Points2D.Count; k++)
                {
                    if (k > 0) sb.Append(' ');
                    var p = im.Points2D[k];
                    sb.Append(F(p.X)).Append(' ').Append(F(p.Y)).Append(' ').Append(I(p.Point3DId));
                }
                sb.Append('\n');
            }
            WriteText(Path.Combine(folder, "images.txt"), sb);

            sb.Clear();
            double meanTrack = Points3D.Count == 0 ? 0 : Points3D.Sum(p => p.Track.Count) / (double)Points3D.Count;
            sb.Append("# 3D point list with one line of data per point:\n");
            sb.Append("#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n");
            sb.Append("# Number of points: ").Append(I(Points3D.Count)).Append(", mean track length: ").Append(F(meanTrack)).Append('\n');
            foreach (var p in Points3D)
            {
                sb.Append(I(p.Id)).Append(' ').Append(F(p.X)).Append(' ').Append(F(p.Y)).Append(' ').Append(F(p.Z)).Append(' ')
                  .Append(I(p.R)).Append(' ').Append(I(p.G)).Append(' ').Append(I(p.B)).Append(' ').Append(F(p.Error));
                foreach (var (img, idx) in p.Track) sb.Append(' ').Append(I(img)).Append(' ').Append(I(idx));
                sb.Append('\n');
            }
            WriteText(Path.Combine(folder, "points3D.txt"), sb);
        }

        private static void WriteText(string path, StringBuilder sb)
        {
            var bytes = Encoding.UTF8.GetBytes(sb.ToString());
            BinaryIo.WriteAtomically(path, s => s.Write(bytes, 0, bytes.Length));
        }

        /// <summary>Reads a text model from <paramref name="folder"/>; malformed lines throw InvalidDataException naming file and line.</summary>
        public static ColmapTextModel Read(string folder)
        {
            var m = new ColmapTextModel();
            var camPath = Path.Combine(folder, "cameras.txt");
            foreach (var (no, parts) in DataLines(camPath))
            {
                if (parts.Length < 4) throw Bad(camPath, no, "expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]");
                m.Cameras.Add(new ColmapCamera(Int(parts[0], camPath, no), parts[1], Int(parts[2], camPath, no), Int(parts[3], camPath, no),
                    parts.Skip(4).Select(x => Dbl(x, camPath, no)).ToArray()));
            }

            var imgPath = Path.Combine(folder, "images.txt");
            if (!File.Exists(imgPath)) throw new FileNotFoundException($"'{imgPath}' does not exist.", imgPath);
            using (var r = new StreamReader(imgPath))
            {
                int no = 0;
                string? line;
                while ((line = r.ReadLine()) != null)
                {
                    no++;
                    if (line.StartsWith("#", StringComparison.Ordinal) || line.Trim().Length == 0) continue;
                    var parts = Split(line);
                    if (parts.Length < 10) throw Bad(imgPath, no, "expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME");
                    var v = new double[7];
                    for (int i = 0; i < 7; i++) v[i] = Dbl(parts[i + 1], imgPath, no);
                    // The keypoint line always follows (it may be empty).
                    var kp = r.ReadLine();
                    no++;
                    if (kp == null) throw Bad(imgPath, no, $"image {parts[0]} has no keypoint line (the file ends; COLMAP writes an empty line when there are none)");
                    var kparts = Split(kp);
                    if (kparts.Length % 3 != 0) throw Bad(imgPath, no, "keypoints must be (X, Y, POINT3D_ID) triples");
                    var pts = new List<ColmapPoint2D>(kparts.Length / 3);
                    for (int i = 0; i < kparts.Length; i += 3)
                        pts.Add(new ColmapPoint2D(Dbl(kparts[i], imgPath, no), Dbl(kparts[i + 1], imgPath, no), Long(kparts[i + 2], imgPath, no)));
                    m.Images.Add(new ColmapImage(Int(parts[0], imgPath, no - 1), v[0], v[1], v[2], v[3], v[4], v[5], v[6],
                        Int(parts[8], imgPath, no - 1), string.Join(" ", parts.Skip(9)), pts));
                }
            }

            var ptsPath = Path.Combine(folder, "points3D.txt");
            foreach (var (no, parts) in DataLines(ptsPath))
            {
                if (parts.Length < 8 || (parts.Length - 8) % 2 != 0) throw Bad(ptsPath, no, "expected POINT3D_ID X Y Z R G B ERROR TRACK[] pairs");
                var track = new List<(int, int)>();
                for (int i = 8; i < parts.Length; i += 2) track.Add((Int(parts[i], ptsPath, no), Int(parts[i + 1], ptsPath, no)));
                m.Points3D.Add(new ColmapPoint3D(Long(parts[0], ptsPath, no), Dbl(parts[1], ptsPath, no), Dbl(parts[2], ptsPath, no), Dbl(parts[3], ptsPath, no),
                    Byte(parts[4], ptsPath, no), Byte(parts[5], ptsPath, no), Byte(parts[6], ptsPath, no), Dbl(parts[7], ptsPath, no), track));
            }
            return m;
        }

        private static IEnumerable<(int, string[])> DataLines(string path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
            int no = 0;
            foreach (var line in File.ReadLines(path))
            {
                no++;
                if (line.StartsWith("#", StringComparison.Ordinal) || line.Trim().Length == 0) continue;
                yield return (no, Split(line));
            }
        }

        private static string[] Split(string line) => line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        private static InvalidDataException Bad(string path, int line, string why) => new InvalidDataException($"'{path}' line {line}: {why}.");

        private static int Int(string s, string path, int line) =>
            int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw Bad(path, line, $"'{s}' is not an integer");
        private static long Long(string s, string path, int line) =>
            long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw Bad(path, line, $"'{s}' is not an integer");
        private static byte Byte(string s, string path, int line) =>
            byte.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw Bad(path, line, $"'{s}' is not a colour value 0..255");
        private static double Dbl(string s, string path, int line) =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && !double.IsNaN(v) && !double.IsInfinity(v)
                ? v : throw Bad(path, line, $"'{s}' is not a finite number");
    }
}
