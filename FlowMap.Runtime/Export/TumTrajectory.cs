using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace FlowMap.Export
{
    /// <summary>One trajectory line: a frame index or a timestamp in seconds, and the camera-to-world pose.</summary>
    internal sealed record TrajectoryEntry(double Stamp, CameraPose Pose);

    /// <summary>
    /// TUM RGB-D trajectory files (Sturm et al., TUM RGB-D benchmark file formats): one line per frame
    /// <c>stamp tx ty tz qx qy qz qw</c>, camera-to-world (the translation is the camera centre in world coordinates),
    /// quaternion scalar-last. FlowMap writes the frame index as the stamp and uses OpenCV camera axes.
    /// Lines starting with '#' and blank lines are comments.
    /// </summary>
    internal static class TumTrajectory
    {
        /// <summary>Writes poses, one line each; the stamp is the index 0, 1, ... .</summary>
        public static void Write(string path, IReadOnlyList<CameraPose> cameraToWorld)
        {
            if (cameraToWorld == null) throw new ArgumentNullException(nameof(cameraToWorld));
            var entries = new List<TrajectoryEntry>(cameraToWorld.Count);
            for (int i = 0; i < cameraToWorld.Count; i++) entries.Add(new TrajectoryEntry(i, cameraToWorld[i]));
            Write(path, entries);
        }

        /// <summary>Writes entries; integral stamps are written as integers, others with full precision.</summary>
        public static void Write(string path, IReadOnlyList<TrajectoryEntry> entries)
        {
            if (entries == null) throw new ArgumentNullException(nameof(entries));
            var sb = new StringBuilder();
            foreach (var e in entries)
            {
                var p = e.Pose;
                var (qx, qy, qz, qw) = p.Quaternion;
                sb.Append(FormatStamp(e.Stamp));
                foreach (var v in new[] { p.T(0), p.T(1), p.T(2), qx, qy, qz, qw })
                {
                    if (double.IsNaN(v) || double.IsInfinity(v)) throw new ArgumentException($"Pose at stamp {e.Stamp} is not finite.");
                    sb.Append(' ').Append((v == 0 ? 0.0 : v).ToString("R", CultureInfo.InvariantCulture));
                }
                sb.Append('\n');
            }
            var bytes = Encoding.ASCII.GetBytes(sb.ToString());
            BinaryIo.WriteAtomically(path, s => s.Write(bytes, 0, bytes.Length));
        }

        private static string FormatStamp(double stamp) =>
            stamp == Math.Floor(stamp) && Math.Abs(stamp) < 1e15
                ? ((long)stamp).ToString(CultureInfo.InvariantCulture)
                : stamp.ToString("R", CultureInfo.InvariantCulture);

        /// <summary>
        /// Reads a TUM trajectory. Throws InvalidDataException naming the file and line for a line that does not hold
        /// eight finite numbers or whose quaternion is not (close to) unit length (0.9..1.1; it is normalised).
        /// </summary>
        public static List<TrajectoryEntry> Read(string path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
            var result = new List<TrajectoryEntry>();
            int lineNo = 0;
            foreach (var raw in File.ReadLines(path))
            {
                lineNo++;
                var line = raw.Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                var parts = line.Split(new[] { ' ', '\t', ',' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 8)
                    throw new InvalidDataException($"'{path}' line {lineNo}: expected 8 values 'stamp tx ty tz qx qy qz qw', got {parts.Length}.");
                var v = new double[8];
                for (int i = 0; i < 8; i++)
                    if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || double.IsNaN(v[i]) || double.IsInfinity(v[i]))
                        throw new InvalidDataException($"'{path}' line {lineNo}: '{parts[i]}' is not a finite number.");
                double qn = Math.Sqrt(v[4] * v[4] + v[5] * v[5] + v[6] * v[6] + v[7] * v[7]);
                if (qn < 0.9 || qn > 1.1)
                    throw new InvalidDataException($"'{path}' line {lineNo}: quaternion length {qn:G4} is not 1.");
                result.Add(new TrajectoryEntry(v[0], CameraPose.FromQuaternion(v[4], v[5], v[6], v[7], v[1], v[2], v[3])));
            }
            return result;
        }

        /// <summary>Reads only the poses, in file order.</summary>
        public static List<CameraPose> ReadPoses(string path) => Read(path).ConvertAll(e => e.Pose);
    }
}
