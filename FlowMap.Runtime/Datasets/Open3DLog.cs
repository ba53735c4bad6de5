using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace FlowMap.Datasets
{
    /// <summary>
    /// Open3D / Redwood trajectory <c>.log</c> files: per frame a line of three integers ("i i i+1" for a trajectory), then the
    /// 4x4 camera-to-world matrix in four lines (metres). See Open3D's <c>io/file_format/FileLOG.cpp</c> and the Redwood
    /// "trajectory file format" note.
    /// </summary>
    internal static class Open3DLog
    {
        /// <summary>
        /// Reads the poses in file order. Throws InvalidDataException naming the file and line for a malformed block, a last
        /// row other than (0 0 0 1), or a rotation that is not orthonormal (tolerance 1e-3).
        /// </summary>
        public static List<CameraPose> Read(string path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
            var poses = new List<CameraPose>();
            var lines = new List<(int No, string[] Parts)>();
            int no = 0;
            foreach (var raw in File.ReadLines(path))
            {
                no++;
                var parts = raw.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length > 0) lines.Add((no, parts));
            }
            if (lines.Count % 5 != 0)
                throw new InvalidDataException($"'{path}': {lines.Count} non-empty lines is not a whole number of 5-line pose blocks (the file may be truncated).");
            for (int b = 0; b < lines.Count; b += 5)
            {
                if (lines[b].Parts.Length != 3) throw new InvalidDataException($"'{path}' line {lines[b].No}: expected the 3-integer block header.");
                var m = new double[16];
                for (int r = 0; r < 4; r++)
                {
                    var (ln, parts) = lines[b + 1 + r];
                    if (parts.Length != 4) throw new InvalidDataException($"'{path}' line {ln}: expected 4 numbers of a matrix row, got {parts.Length}.");
                    for (int c = 0; c < 4; c++)
                        if (!double.TryParse(parts[c], NumberStyles.Float, CultureInfo.InvariantCulture, out m[4 * r + c]) || double.IsNaN(m[4 * r + c]) || double.IsInfinity(m[4 * r + c]))
                            throw new InvalidDataException($"'{path}' line {ln}: '{parts[c]}' is not a finite number.");
                }
                int headerLine = lines[b].No;
                if (Math.Abs(m[12]) > 1e-6 || Math.Abs(m[13]) > 1e-6 || Math.Abs(m[14]) > 1e-6 || Math.Abs(m[15] - 1) > 1e-6)
                    throw new InvalidDataException($"'{path}' pose at line {headerLine}: the last matrix row is not (0 0 0 1).");
                var rot = new[] { m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10] };
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                    {
                        double dot = rot[i] * rot[j] + rot[3 + i] * rot[3 + j] + rot[6 + i] * rot[6 + j];
                        if (Math.Abs(dot - (i == j ? 1 : 0)) > 1e-3)
                            throw new InvalidDataException($"'{path}' pose at line {headerLine}: the rotation is not orthonormal.");
                    }
                poses.Add(new CameraPose(rot, new[] { m[3], m[7], m[11] }));
            }
            return poses;
        }

        /// <summary>Writes camera-to-world poses as a trajectory log ("i i i+1" headers).</summary>
        public static void Write(string path, IReadOnlyList<CameraPose> cameraToWorld)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < cameraToWorld.Count; i++)
            {
                var p = cameraToWorld[i];
                sb.Append(i).Append(' ').Append(i).Append(' ').Append(i + 1).Append('\n');
                for (int r = 0; r < 3; r++)
                    sb.Append(F(p.R(r, 0))).Append(' ').Append(F(p.R(r, 1))).Append(' ').Append(F(p.R(r, 2))).Append(' ').Append(F(p.T(r))).Append('\n');
                sb.Append("0 0 0 1\n");
            }
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            File.WriteAllText(path, sb.ToString());
        }

        private static string F(double v) => (v == 0 ? 0.0 : v).ToString("R", CultureInfo.InvariantCulture);
    }
}
