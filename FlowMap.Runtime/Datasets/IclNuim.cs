using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using FlowMap.Export;

namespace FlowMap.Datasets
{
    /// <summary>
    /// An ICL-NUIM sequence in the Open3D/Redwood layout (Handa et al., ICRA 2014; augmented by Choi, Zhou, Koltun, CVPR 2015):
    /// <c>color/*.jpg|png</c> (8-bit RGB), <c>depth/*.png</c> (16-bit z-depth in millimetres, 0 = invalid), and a <c>.log</c>
    /// trajectory of camera-to-world poses (metres, OpenCV camera axes, frame 0 the identity). Frames are in file-name order.
    /// The intrinsics are those stated in the folder's SOURCE.txt (fx = fy = 525, cx = 319.5, cy = 239.5 at 640x480 for
    /// livingroom1), used as written when SOURCE.txt is absent.
    /// </summary>
    internal sealed class IclNuim
    {
        /// <summary>Depth PNG units per metre (millimetres).</summary>
        public const double DepthUnitsPerMetre = 1000.0;
        /// <summary>The trajectory used as ground truth (see SOURCE.txt).</summary>
        public const string DefaultTrajectory = "trajectory_open3d_reconstruction.log";

        private IclNuim(string folder, List<string> color, List<string> depth, List<CameraPose> poses, Intrinsics k)
        {
            Folder = folder; ColorFiles = color; DepthFiles = depth; Poses = poses; Intrinsics = k;
        }

        public string Folder { get; }
        /// <summary>Colour images in name order (full paths).</summary>
        public IReadOnlyList<string> ColorFiles { get; }
        /// <summary>Depth images in name order (full paths), one per colour image.</summary>
        public IReadOnlyList<string> DepthFiles { get; }
        /// <summary>Camera-to-world ground-truth poses, one per frame (metres).</summary>
        public IReadOnlyList<CameraPose> Poses { get; }
        /// <summary>Pinhole intrinsics at the image resolution (pixel-centre principal point).</summary>
        public Intrinsics Intrinsics { get; }
        public int Count => ColorFiles.Count;

        /// <summary>True when the folder looks like an ICL-NUIM sequence (color/, depth/ and a .log trajectory).</summary>
        public static bool IsIclNuimFolder(string folder) =>
            Directory.Exists(Path.Combine(folder, "color")) && Directory.Exists(Path.Combine(folder, "depth")) &&
            Directory.EnumerateFiles(folder, "*.log").Any();

        /// <summary>
        /// Opens a sequence. Throws InvalidDataException when the numbers of colour images, depth images and poses differ.
        /// </summary>
        public static IclNuim Open(string folder, string? trajectoryFile = null)
        {
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"ICL-NUIM folder '{folder}' does not exist.");
            var color = ListImages(Path.Combine(folder, "color"), "*.jpg", "*.png");
            var depth = ListImages(Path.Combine(folder, "depth"), "*.png");
            var logPath = Path.Combine(folder, trajectoryFile ?? DefaultTrajectory);
            if (trajectoryFile == null && !File.Exists(logPath))
                logPath = Directory.EnumerateFiles(folder, "*.log").OrderBy(p => p, StringComparer.Ordinal).FirstOrDefault() ?? logPath;
            var poses = Open3DLog.Read(logPath);
            if (color.Count == 0) throw new InvalidDataException($"'{folder}' has no colour images in color/.");
            if (color.Count != depth.Count || color.Count != poses.Count)
                throw new InvalidDataException($"'{folder}': {color.Count} colour images, {depth.Count} depth images and {poses.Count} poses in {Path.GetFileName(logPath)} should be equal.");
            var k = ReadIntrinsics(Path.Combine(folder, "SOURCE.txt")) ?? new Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5);
            return new IclNuim(folder, color, depth, poses, k);
        }

        /// <summary>
        /// Parses "fx = fy = F, cx = X, cy = Y" (or "fx = F, fy = G, ...") and the "WxH" image size from a SOURCE.txt; null when
        /// the file or the statement is absent.
        /// </summary>
        public static Intrinsics? ReadIntrinsics(string sourceTxt)
        {
            if (!File.Exists(sourceTxt)) return null;
            var text = File.ReadAllText(sourceTxt);
            double? Num(string pattern)
            {
                var m = Regex.Match(text, pattern);
                return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : (double?)null;
            }
            const string n = @"([0-9]+(?:\.[0-9]+)?)";
            double? fx = Num(@"fx\s*=\s*(?:fy\s*=\s*)?" + n), fy = Num(@"fy\s*=\s*" + n), cx = Num(@"cx\s*=\s*" + n), cy = Num(@"cy\s*=\s*" + n);
            var size = Regex.Match(text, @"\b([0-9]{2,5})x([0-9]{2,5})\b");
            if (fx == null || cx == null || cy == null || !size.Success) return null;
            return new Intrinsics(int.Parse(size.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(size.Groups[2].Value, CultureInfo.InvariantCulture),
                                  fx.Value, fy ?? fx.Value, cx.Value, cy.Value);
        }

        /// <summary>Colour image of frame <paramref name="index"/>.</summary>
        public RgbImage ReadColor(int index) => PngImage.ReadRgb(ColorFiles[Check(index)]);

        /// <summary>Z-depth of frame <paramref name="index"/> in metres, float[H, W]; 0 where the dataset marks no depth.</summary>
        public FloatImage ReadDepth(int index) => ReadDepthPng(DepthFiles[Check(index)]);

        /// <summary>A 16-bit millimetre depth PNG as metres (0 stays 0 = invalid).</summary>
        public static FloatImage ReadDepthPng(string path)
        {
            var mm = PngImage.ReadGray16(path, out int w, out int h);
            var d = new float[mm.Length];
            for (int i = 0; i < d.Length; i++) d[i] = (float)(mm[i] / DepthUnitsPerMetre);
            return new FloatImage(w, h, d);
        }

        private int Check(int index)
        {
            if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), $"Frame {index} is outside 0..{Count - 1}.");
            return index;
        }

        private static List<string> ListImages(string dir, params string[] patterns)
        {
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"'{dir}' does not exist.");
            return patterns.SelectMany(p => Directory.EnumerateFiles(dir, p)).Distinct().OrderBy(Path.GetFileName, StringComparer.Ordinal).ToList();
        }
    }
}
