using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using FlowMap.Datasets;
using FlowMap.Export;

namespace FlowMap.Evaluation
{
    /// <summary>
    /// The evaluable contents of a folder, whichever of three layouts it has:
    /// a reconstruction output (trajectory.txt, intrinsics.json, depth/&lt;stem&gt;.npy; EVALUATION.md), a synthetic sequence
    /// (the same plus color/, depth/NNNNNN.npy, flow/NNNNNN.flo, occlusion/NNNNNN.png), or an ICL-NUIM folder (see <see cref="IclNuim"/>).
    /// Poses are keyed by frame index (the integer stamp of trajectory.txt).
    /// </summary>
    internal sealed class SequenceData
    {
        private readonly IclNuim? _icl;
        private readonly string[] _stems;

        private SequenceData(string folder, string kind, SortedDictionary<int, CameraPose> poses, Intrinsics? input, Intrinsics? processing, string[] stems, IclNuim? icl)
        {
            Folder = folder; Kind = kind; Poses = poses; Intrinsics = input; ProcessingIntrinsics = processing; _stems = stems; _icl = icl;
        }

        public string Folder { get; }
        /// <summary>"reconstruction", "synthetic" or "icl-nuim".</summary>
        public string Kind { get; }
        /// <summary>Camera-to-world poses by frame index.</summary>
        public SortedDictionary<int, CameraPose> Poses { get; }
        /// <summary>Intrinsics at the input resolution, when the folder states them.</summary>
        public Intrinsics? Intrinsics { get; }
        /// <summary>Intrinsics at the processing resolution (reconstruction outputs), else null.</summary>
        public Intrinsics? ProcessingIntrinsics { get; }

        /// <summary>True when the folder names its frames (color/ images or ICL-NUIM files), so <see cref="Stem"/> is a real name.</summary>
        public bool HasImageNames => _stems.Length > 0;

        /// <summary>File stem of frame <paramref name="index"/>'s image (from color/), or NNNNNN by index.</summary>
        public string Stem(int index) => index >= 0 && index < _stems.Length ? _stems[index] : index.ToString("D6", CultureInfo.InvariantCulture);

        /// <summary>Reads a folder of any of the three layouts; InvalidDataException when it is none of them.</summary>
        public static SequenceData Load(string folder)
        {
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Folder '{folder}' does not exist.");
            if (IclNuim.IsIclNuimFolder(folder) && !File.Exists(Path.Combine(folder, "trajectory.txt")))
            {
                var icl = IclNuim.Open(folder);
                var poses = new SortedDictionary<int, CameraPose>();
                for (int i = 0; i < icl.Count; i++) poses[i] = icl.Poses[i];
                return new SequenceData(folder, "icl-nuim", poses, icl.Intrinsics, null,
                    icl.ColorFiles.Select(Path.GetFileNameWithoutExtension).Select(s => s!).ToArray(), icl);
            }
            var traj = Path.Combine(folder, "trajectory.txt");
            if (!File.Exists(traj))
                throw new InvalidDataException($"'{folder}' is neither a reconstruction or synthetic sequence (no trajectory.txt) nor an ICL-NUIM folder (color/, depth/, *.log).");
            var map = new SortedDictionary<int, CameraPose>();
            foreach (var e in TumTrajectory.Read(traj))
            {
                double r = Math.Round(e.Stamp);
                if (Math.Abs(e.Stamp - r) > 1e-6 || r < 0 || r > int.MaxValue)
                    throw new InvalidDataException($"'{traj}': stamp {e.Stamp} is not a frame index (FlowMap trajectories are stamped with frame indices).");
                if (map.ContainsKey((int)r)) throw new InvalidDataException($"'{traj}': frame {r} appears twice.");
                map[(int)r] = e.Pose;
            }
            Intrinsics? input = null, processing = null;
            var kpath = Path.Combine(folder, "intrinsics.json");
            if (File.Exists(kpath)) { var d = IntrinsicsJson.Read(kpath); input = d.Input; processing = d.Processing; }
            var colorDir = Path.Combine(folder, "color");
            string[] stems = Directory.Exists(colorDir)
                ? Directory.EnumerateFiles(colorDir).Where(p => p.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
                    .Select(Path.GetFileNameWithoutExtension).Select(s => s!).OrderBy(s => s, StringComparer.Ordinal).ToArray()
                : Array.Empty<string>();
            return new SequenceData(folder, Directory.Exists(colorDir) ? "synthetic" : "reconstruction", map, input, processing, stems, null);
        }

        /// <summary>
        /// Z-depth of frame <paramref name="index"/> (metres or scene units; 0 or NaN where unknown), or null when the folder has
        /// none for it. Looks for depth/&lt;stem&gt;.npy with <paramref name="stem"/> (the ground truth's image stem), then the
        /// folder's own stem, then NNNNNN.
        /// </summary>
        public FloatImage? ReadDepth(int index, string? stem = null)
        {
            if (_icl != null) return index >= 0 && index < _icl.Count ? _icl.ReadDepth(index) : null;
            foreach (var s in new[] { stem, Stem(index), index.ToString("D6", CultureInfo.InvariantCulture) })
            {
                if (s == null) continue;
                var p = Path.Combine(Folder, "depth", s + ".npy");
                if (File.Exists(p)) return Npy.ReadFloatImage(p);
            }
            return null;
        }

        /// <summary>Flow from frame <paramref name="index"/> to the next (flow/NNNNNN.flo), or null.</summary>
        public FlowField? ReadFlow(int index)
        {
            var p = Path.Combine(Folder, "flow", index.ToString("D6", CultureInfo.InvariantCulture) + ".flo");
            return File.Exists(p) ? FloFile.Read(p) : null;
        }

        /// <summary>Occlusion mask of the pair (index, index + 1) (occlusion/NNNNNN.png, true = occluded), or null.</summary>
        public bool[]? ReadOcclusion(int index)
        {
            var p = Path.Combine(Folder, "occlusion", index.ToString("D6", CultureInfo.InvariantCulture) + ".png");
            return File.Exists(p) ? PngImage.ReadMask(p, out _, out _) : null;
        }

        /// <summary>Pair indices that have a flow file, in order.</summary>
        public IReadOnlyList<int> FlowPairs()
        {
            var dir = Path.Combine(Folder, "flow");
            if (!Directory.Exists(dir)) return Array.Empty<int>();
            return Directory.EnumerateFiles(dir, "*.flo")
                .Select(p => int.TryParse(Path.GetFileNameWithoutExtension(p), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1)
                .Where(i => i >= 0).OrderBy(i => i).ToList();
        }
    }
}
