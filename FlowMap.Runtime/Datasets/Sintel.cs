using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Export;

namespace FlowMap.Datasets
{
    /// <summary>One ground-truth flow pair of a Sintel sequence: frame A -> frame B, with the flow and masks when present.</summary>
    /// <param name="Sequence">Sequence name, e.g. "alley_1".</param>
    /// <param name="FrameA">Frame number of A (as in frame_0002.png).</param>
    /// <param name="FlowPath">flow/SEQ/frame_A.flo (flow A -> A+1).</param>
    /// <param name="OcclusionPath">occlusions/SEQ/frame_A.png (255 = occluded in B), or null when absent.</param>
    /// <param name="InvalidPath">invalid/SEQ/frame_A.png (255 = invalid, excluded from every metric), or null when absent.</param>
    internal sealed record SintelPair(string Sequence, int FrameA, string FlowPath, string? OcclusionPath, string? InvalidPath)
    {
        public int FrameB => FrameA + 1;
    }

    /// <summary>
    /// MPI-Sintel training data (Butler et al., ECCV 2012) in its folder layout: <c>clean|final/SEQ/frame_NNNN.png</c>,
    /// <c>flow/SEQ/frame_NNNN.flo</c> (flow from frame NNNN to NNNN+1), <c>occlusions/SEQ/frame_NNNN.png</c> and
    /// <c>invalid/SEQ/frame_NNNN.png</c> (8-bit, 255 = set).
    /// </summary>
    internal sealed class Sintel
    {
        private Sintel(string root) { Root = root; }

        public string Root { get; }

        /// <summary>Opens a Sintel root: a folder holding clean/ or final/, or the full dataset's folder holding training/.</summary>
        public static Sintel Open(string root)
        {
            if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Sintel folder '{root}' does not exist.");
            var training = Path.Combine(root, "training");
            if (!Directory.Exists(Path.Combine(root, "clean")) && !Directory.Exists(Path.Combine(root, "final")) && Directory.Exists(training))
                root = training;
            if (!Directory.Exists(Path.Combine(root, "clean")) && !Directory.Exists(Path.Combine(root, "final")))
                throw new InvalidDataException($"'{root}' has neither clean/ nor final/: not a Sintel folder.");
            return new Sintel(root);
        }

        /// <summary>Render passes present ("clean", "final").</summary>
        public IReadOnlyList<string> Passes => new[] { "clean", "final" }.Where(p => Directory.Exists(Path.Combine(Root, p))).ToList();

        /// <summary>Sequence names (folders of the passes), sorted.</summary>
        public IReadOnlyList<string> Sequences =>
            Passes.SelectMany(p => Directory.EnumerateDirectories(Path.Combine(Root, p)).Select(Path.GetFileName))
                  .Where(n => n != null).Select(n => n!).Distinct().OrderBy(n => n, StringComparer.Ordinal).ToList();

        /// <summary>Frame image paths of a sequence in one pass, in name order.</summary>
        public IReadOnlyList<string> Frames(string pass, string sequence)
        {
            var dir = Path.Combine(Root, pass, sequence);
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Sintel has no '{pass}/{sequence}' ('{dir}').");
            return Directory.EnumerateFiles(dir, "frame_*.png").OrderBy(Path.GetFileName, StringComparer.Ordinal).ToList();
        }

        /// <summary>Path of frame <paramref name="frame"/> (the number in frame_NNNN.png).</summary>
        public string FramePath(string pass, string sequence, int frame) => Path.Combine(Root, pass, sequence, $"frame_{frame:D4}.png");

        public RgbImage ReadFrame(string pass, string sequence, int frame) => PngImage.ReadRgb(FramePath(pass, sequence, frame));

        /// <summary>The pairs of a sequence that have ground-truth flow, in frame order.</summary>
        public IReadOnlyList<SintelPair> Pairs(string sequence)
        {
            var dir = Path.Combine(Root, "flow", sequence);
            if (!Directory.Exists(dir)) return Array.Empty<SintelPair>();
            var result = new List<SintelPair>();
            foreach (var f in Directory.EnumerateFiles(dir, "frame_*.flo").OrderBy(Path.GetFileName, StringComparer.Ordinal))
            {
                var stem = Path.GetFileNameWithoutExtension(f);
                if (!int.TryParse(stem.Substring("frame_".Length), out int a)) continue;
                string? occ = Path.Combine(Root, "occlusions", sequence, stem + ".png");
                string? inv = Path.Combine(Root, "invalid", sequence, stem + ".png");
                result.Add(new SintelPair(sequence, a, f, File.Exists(occ) ? occ : null, File.Exists(inv) ? inv : null));
            }
            return result;
        }

        /// <summary>Ground-truth flow from frame A to A+1.</summary>
        public static FlowField ReadFlow(SintelPair pair) => FloFile.Read(pair.FlowPath);

        /// <summary>Occlusion mask (true = occluded in frame B), or null when the pair has none.</summary>
        public static bool[]? ReadOcclusion(SintelPair pair) => pair.OcclusionPath == null ? null : PngImage.ReadMask(pair.OcclusionPath, out _, out _);

        /// <summary>Invalid-pixel mask (true = exclude), or null when the pair has none.</summary>
        public static bool[]? ReadInvalid(SintelPair pair) => pair.InvalidPath == null ? null : PngImage.ReadMask(pair.InvalidPath, out _, out _);
    }
}
