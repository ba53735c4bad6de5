using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Export;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// Writes a reconstruction in the folder layout of EVALUATION.md: depth/&lt;stem&gt;.npy and confidence/&lt;stem&gt;.npy as
    /// frames are finalised (so memory stays bounded), then colmap/, trajectory.txt, intrinsics.json, points.ply and
    /// report.json at the end.
    /// </summary>
    internal sealed class ReconstructionOutput
    {
        private readonly string _dir;
        private readonly HashSet<string> _stems = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Creates <paramref name="directory"/> (and depth/, confidence/) if needed.</summary>
        public ReconstructionOutput(string directory)
        {
            if (string.IsNullOrWhiteSpace(directory)) throw new ArgumentException("No output folder given.");
            _dir = directory;
            Directory.CreateDirectory(Path.Combine(_dir, "depth"));
            Directory.CreateDirectory(Path.Combine(_dir, "confidence"));
        }

        /// <summary>The output folder.</summary>
        public string Folder => _dir;

        /// <summary>File stem for a frame: its name without extension ("000012" for "000012.png"), made unique if repeated.</summary>
        public string StemOf(FrameEstimate f)
        {
            var stem = Path.GetFileNameWithoutExtension(f.Name);
            if (string.IsNullOrEmpty(stem)) stem = f.Index.ToString("D6");
            if (!_stems.Add(stem)) { stem = $"{stem}_{f.Index:D6}"; _stems.Add(stem); }
            return stem;
        }

        /// <summary>Writes one frame's depth and confidence (float32 H x W at the processing size).</summary>
        public void WriteFrame(FrameEstimate f)
        {
            var stem = StemOf(f);
            Npy.Write(Path.Combine(_dir, "depth", stem + ".npy"), f.Depth);
            Npy.Write(Path.Combine(_dir, "confidence", stem + ".npy"), f.Confidence);
        }

        /// <summary>Writes everything that needs the whole run.</summary>
        /// <param name="r">The finished reconstruction.</param>
        /// <param name="framesIn">Frames read from the input.</param>
        /// <param name="wallSeconds">Wall time of the whole run (reading and writing included).</param>
        /// <param name="extraStageMs">Stages measured outside the pipeline (e.g. "read", "write"), median ms per frame.</param>
        /// <param name="extraWarnings">Warnings from the input (skipped or damaged frames).</param>
        public void WriteSummary(ReconstructionResult r, int framesIn, double wallSeconds, IReadOnlyDictionary<string, double>? extraStageMs = null,
            IEnumerable<string>? extraWarnings = null)
        {
            var names = r.Poses.Select(p => p.Name).ToList();
            var poses = r.Poses.Select(p => p.Pose).ToList();
            // Image names in COLMAP are the input file names; COLMAP keeps them unique, so repeated names get the index.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < names.Count; i++) if (!seen.Add(names[i])) { names[i] = $"{r.Poses[i].Index:D6}_{names[i]}"; seen.Add(names[i]); }
            ColmapTextModel.FromReconstruction(r.Input, names, poses, r.Points, Math.Max(1, r.Points.Count / 200_000)).Write(Path.Combine(_dir, "colmap"));
            TumTrajectory.Write(Path.Combine(_dir, "trajectory.txt"), r.Poses.Select(p => new TrajectoryEntry(p.Index, p.Pose)).ToList());
            IntrinsicsJson.Write(Path.Combine(_dir, "intrinsics.json"), r.Input, r.Processing);
            PlyFile.Write(Path.Combine(_dir, "points.ply"), r.Points);

            var stages = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var kv in r.StageMedianMilliseconds) stages[kv.Key] = Math.Round(kv.Value, 3);
            if (extraStageMs != null) foreach (var kv in extraStageMs) stages[kv.Key] = Math.Round(kv.Value, 3);
            var warnings = r.Warnings.ToList();
            if (extraWarnings != null) warnings.AddRange(extraWarnings);
            long peak;
            using (var proc = System.Diagnostics.Process.GetCurrentProcess()) peak = proc.PeakWorkingSet64;
            var extra = new Dictionary<string, JsonElement>
            {
                ["keyframes"] = JsonSerializer.SerializeToElement(r.Keyframes),
                ["points"] = JsonSerializer.SerializeToElement(r.Points.Count),
                ["focal_processing_px"] = JsonSerializer.SerializeToElement(Math.Round(r.Processing.Fx, 4)),
                ["k1"] = JsonSerializer.SerializeToElement(r.Input.K1),
                ["components"] = JsonSerializer.SerializeToElement(r.Components),
                ["depth_provider"] = JsonSerializer.SerializeToElement(r.Components.TryGetValue("depth_provider", out var provider) ? provider : "none"),
                ["stage_total_ms"] = JsonSerializer.SerializeToElement(r.StageTotalMilliseconds.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 1))),
            };
            ReportJson.Write(Path.Combine(_dir, "report.json"), new ReconstructionReport
            {
                FramesIn = framesIn,
                FramesOut = r.Poses.Count,
                Mode = r.Mode == ReconstructionMode.Offline ? "offline" : "online",
                ProcessingSize = new[] { r.Processing.Width, r.Processing.Height },
                WallSeconds = Math.Round(wallSeconds, 3),
                Fps = wallSeconds > 0 ? Math.Round(r.Poses.Count / wallSeconds, 3) : 0,
                StageMs = stages,
                PeakMemoryMb = Math.Round(peak / (1024.0 * 1024.0), 1),
                Warnings = warnings,
                FocalPx = Math.Round(r.Input.Fx, 4),
                FocalRelStd = r.FocalRelStd is double rs ? Math.Round(rs, 5) : (double?)null,
                Extra = extra,
            });
        }
    }
}
