using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Serialization;

namespace FlowMap.Evaluation
{
    /// <summary>Everything <see cref="SequenceEvaluation.Evaluate"/> measures; null where the inputs do not allow a metric.</summary>
    internal sealed record SequenceEvaluationResult
    {
        [JsonPropertyName("gt_kind")] public string GroundTruthKind { get; init; } = "";
        [JsonPropertyName("est_kind")] public string EstimateKind { get; init; } = "";
        [JsonPropertyName("frames_gt")] public int FramesGroundTruth { get; init; }
        [JsonPropertyName("frames_est")] public int FramesEstimated { get; init; }
        [JsonPropertyName("frames_matched")] public int FramesMatched { get; init; }
        /// <summary>ATE RMSE after Sim(3) alignment, ground-truth units (metres).</summary>
        [JsonPropertyName("ate_m")] public double? AteMetres { get; init; }
        [JsonPropertyName("ate_percent")] public double? AtePercent { get; init; }
        [JsonPropertyName("path_length_m")] public double? PathLengthMetres { get; init; }
        [JsonPropertyName("rel_rot_deg")] public double? RelativeRotationDeg { get; init; }
        /// <summary>Scale of the Sim(3) alignment (ground-truth units per estimated unit).</summary>
        [JsonPropertyName("sim3_scale")] public double? Sim3Scale { get; init; }
        [JsonPropertyName("focal_gt_px")] public double? FocalGroundTruth { get; init; }
        [JsonPropertyName("focal_est_px")] public double? FocalEstimated { get; init; }
        [JsonPropertyName("focal_error_percent")] public double? FocalErrorPercent { get; init; }
        /// <summary>Radial distortion k1 of the truth (SIMPLE_RADIAL, <see cref="Intrinsics.K1"/>); null unless either side has a non-zero k1.</summary>
        [JsonPropertyName("k1_gt")] public double? K1GroundTruth { get; init; }
        [JsonPropertyName("k1_est")] public double? K1Estimated { get; init; }
        /// <summary>k1 estimated - k1 true (dimensionless; k1 does not depend on the resolution).</summary>
        [JsonPropertyName("k1_error")] public double? K1Error { get; init; }
        [JsonPropertyName("depth_frames")] public int DepthFrames { get; init; }
        /// <summary>Mean over frames of AbsRel after per-frame median scaling.</summary>
        [JsonPropertyName("depth_absrel_frame")] public double? DepthAbsRelPerFrame { get; init; }
        [JsonPropertyName("depth_delta1_frame")] public double? DepthDelta1PerFrame { get; init; }
        /// <summary>Mean over frames of AbsRel with one scale for the sequence (the median of the per-frame scales).</summary>
        [JsonPropertyName("depth_absrel_global")] public double? DepthAbsRelGlobal { get; init; }
        [JsonPropertyName("depth_delta1_global")] public double? DepthDelta1Global { get; init; }
        [JsonPropertyName("depth_global_scale")] public double? DepthGlobalScale { get; init; }
        /// <summary>Mean share of valid ground-truth pixels where the estimate had a depth.</summary>
        [JsonPropertyName("depth_coverage")] public double? DepthCoverage { get; init; }
        [JsonPropertyName("flow_pairs")] public int FlowPairs { get; init; }
        [JsonPropertyName("flow_epe_all")] public double? FlowEpeAll { get; init; }
        [JsonPropertyName("flow_epe_noc")] public double? FlowEpeNoc { get; init; }
        [JsonPropertyName("notes")] public List<string> Notes { get; init; } = new List<string>();
    }

    /// <summary>
    /// Compares an estimate folder (a reconstruction output, or any folder <see cref="SequenceData"/> reads) with ground truth
    /// (a synthetic sequence or an ICL-NUIM folder), frame by frame on the frame indices both have.
    /// </summary>
    internal static class SequenceEvaluation
    {
        /// <param name="groundTruthFolder">Synthetic sequence or ICL-NUIM folder.</param>
        /// <param name="estimateFolder">Reconstruction output (trajectory.txt, intrinsics.json, depth/).</param>
        /// <param name="depthEvery">Evaluate depth on every n-th matched frame (1: all).</param>
        public static SequenceEvaluationResult Evaluate(string groundTruthFolder, string estimateFolder, int depthEvery = 1)
        {
            if (depthEvery < 1) throw new ArgumentOutOfRangeException(nameof(depthEvery));
            var gt = SequenceData.Load(groundTruthFolder);
            var est = SequenceData.Load(estimateFolder);
            var notes = new List<string>();
            CheckSameSequence(gt, est, notes);
            var matched = gt.Poses.Keys.Where(est.Poses.ContainsKey).ToList();
            int missing = gt.Poses.Count - matched.Count;
            if (missing > 0) notes.Add($"{missing} of {gt.Poses.Count} ground-truth frames have no estimated pose");
            int extra = est.Poses.Keys.Count(k => !gt.Poses.ContainsKey(k));
            if (extra > 0) notes.Add($"warning: the estimate has {extra} frames the truth lacks (from frame {est.Poses.Keys.First(k => !gt.Poses.ContainsKey(k))}; ignored): " +
                                     "is it a reconstruction of this sequence?");

            var r = new SequenceEvaluationResult
            {
                GroundTruthKind = gt.Kind, EstimateKind = est.Kind, FramesGroundTruth = gt.Poses.Count, FramesEstimated = est.Poses.Count,
                FramesMatched = matched.Count, Notes = notes,
            };

            if (matched.Count >= 2)
            {
                var acc = TrajectoryMetrics.Evaluate(matched.Select(i => est.Poses[i]).ToList(), matched.Select(i => gt.Poses[i]).ToList());
                r = r with
                {
                    AteMetres = acc.AteRmse, AtePercent = double.IsNaN(acc.AtePercent) ? null : acc.AtePercent, PathLengthMetres = acc.PathLength,
                    RelativeRotationDeg = acc.RelativeRotationDeg, Sim3Scale = acc.Alignment.Scale,
                };
                if (matched.Count < 3) notes.Add("fewer than 3 matched frames: the Sim(3) alignment is underdetermined");
            }
            else notes.Add("fewer than 2 matched frames: no pose metrics");

            if (gt.Intrinsics != null && est.Intrinsics != null)
            {
                var e = est.Intrinsics.Width == gt.Intrinsics.Width ? est.Intrinsics : est.Intrinsics.Resized(gt.Intrinsics.Width, gt.Intrinsics.Height);
                r = r with
                {
                    FocalGroundTruth = (gt.Intrinsics.Fx + gt.Intrinsics.Fy) / 2, FocalEstimated = (e.Fx + e.Fy) / 2,
                    FocalErrorPercent = TrajectoryMetrics.FocalErrorPercent(est.Intrinsics, gt.Intrinsics),
                };
                if (gt.Intrinsics.K1 != 0 || est.Intrinsics.K1 != 0)
                    r = r with { K1GroundTruth = gt.Intrinsics.K1, K1Estimated = est.Intrinsics.K1, K1Error = est.Intrinsics.K1 - gt.Intrinsics.K1 };
                if (est.Intrinsics.Width != gt.Intrinsics.Width || est.Intrinsics.Height != gt.Intrinsics.Height)
                    notes.Add($"estimated intrinsics are for {est.Intrinsics.Width}x{est.Intrinsics.Height}, rescaled to {gt.Intrinsics.Width}x{gt.Intrinsics.Height}");
            }
            else notes.Add("no intrinsics on " + (gt.Intrinsics == null ? "the ground-truth" : "the estimate") + " side: no focal error");

            r = EvaluateDepth(gt, est, matched, depthEvery, r, notes);
            r = EvaluateFlow(gt, est, r, notes);
            return r;
        }

        /// <summary>
        /// Refuses (InvalidDataException naming both folders) a truth and an estimate that cannot describe the same sequence:
        /// an empty trajectory on either side, no frame index in common, image sizes that differ (the estimate's input
        /// size against the truth's), or image names (the estimate's colmap/images.txt) none of which the truth has.
        /// Partial differences become notes.
        /// </summary>
        internal static void CheckSameSequence(SequenceData gt, SequenceData est, List<string> notes)
        {
            string both = $"(truth '{gt.Folder}', estimate '{est.Folder}')";
            if (gt.Poses.Count == 0) throw new InvalidDataException($"The ground truth '{gt.Folder}' has an empty trajectory: nothing to compare.");
            if (est.Poses.Count == 0) throw new InvalidDataException($"The estimate '{est.Folder}' has an empty trajectory: nothing to compare.");
            if (gt.Intrinsics != null && est.Intrinsics != null &&
                (gt.Intrinsics.Width * est.Intrinsics.Height != gt.Intrinsics.Height * est.Intrinsics.Width ||
                 est.ProcessingIntrinsics != null && (est.Intrinsics.Width != gt.Intrinsics.Width || est.Intrinsics.Height != gt.Intrinsics.Height)))
                throw new InvalidDataException($"The estimate was made from {est.Intrinsics.Width}x{est.Intrinsics.Height} images, the truth's are " +
                                               $"{gt.Intrinsics.Width}x{gt.Intrinsics.Height}: not the same sequence {both}.");
            if (!gt.Poses.Keys.Any(est.Poses.ContainsKey))
                throw new InvalidDataException($"No frame index in common (truth {gt.Poses.Keys.First()}..{gt.Poses.Keys.Last()}, estimate " +
                                               $"{est.Poses.Keys.First()}..{est.Poses.Keys.Last()}): not the same sequence {both}.");
            var names = ImageNames(est.Folder);
            var stems = new HashSet<string>(gt.Poses.Keys.Select(gt.Stem), StringComparer.Ordinal);
            if (names.Count > 0 && gt.HasImageNames)
            {
                int known = names.Count(n => stems.Contains(Path.GetFileNameWithoutExtension(n)));
                if (known == 0)
                    throw new InvalidDataException($"None of the estimate's {names.Count} image names (e.g. {names[0]}) is a frame of the truth (e.g. {gt.Stem(gt.Poses.Keys.First())}): " +
                                                   $"not the same sequence {both}.");
                if (known < names.Count) notes.Add($"warning: {names.Count - known} of the estimate's {names.Count} image names are not frames of the truth");
            }
        }

        /// <summary>Image names of a reconstruction's colmap/images.txt (empty when it has none or it does not parse).</summary>
        private static List<string> ImageNames(string folder)
        {
            var path = Path.Combine(folder, "colmap", "images.txt");
            var names = new List<string>();
            if (!File.Exists(path)) return names;
            bool header = true;
            foreach (var raw in File.ReadLines(path))
            {
                var line = raw.Trim();
                if (line.StartsWith("#", StringComparison.Ordinal)) continue;
                // IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME, then a line of 2D points (possibly empty).
                if (!header) { header = true; continue; }
                if (line.Length == 0) continue;
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 10) names.Add(parts[9]);
                header = false;
            }
            return names;
        }

        private static SequenceEvaluationResult EvaluateDepth(SequenceData gt, SequenceData est, List<int> frames, int every, SequenceEvaluationResult r, List<string> notes)
        {
            // Pass 1: per-frame median scaling; remember each frame's scale.
            var scales = new List<double>();
            var used = new List<int>();
            double absRel = 0, delta = 0, coverage = 0;
            int withoutEstimate = 0;
            for (int k = 0; k < frames.Count; k += every)
            {
                int i = frames[k];
                var p = est.ReadDepth(i, gt.Stem(i));
                if (p == null) { withoutEstimate++; continue; }
                var g = gt.ReadDepth(i);
                if (g == null) continue;
                var a = DepthFlowMetrics.DepthMedianScaled(p, g);
                if (a.Pixels == 0) { notes.Add($"frame {i}: no pixel with both depths"); continue; }
                absRel += a.AbsRel; delta += a.Delta1; coverage += a.Coverage;
                scales.Add(a.Scale); used.Add(i);
            }
            if (withoutEstimate > 0 && used.Count > 0) notes.Add($"{withoutEstimate} evaluated frames have no estimated depth");
            if (used.Count == 0)
            {
                notes.Add("no depth pairs to compare");
                return r;
            }
            double global = DepthFlowMetrics.Median(new List<double>(scales));
            // Pass 2: one scale for the whole sequence.
            double gAbs = 0, gDelta = 0;
            foreach (int i in used)
            {
                var a = DepthFlowMetrics.Depth(est.ReadDepth(i, gt.Stem(i))!, gt.ReadDepth(i)!, global);
                gAbs += a.AbsRel; gDelta += a.Delta1;
            }
            int n = used.Count;
            return r with
            {
                DepthFrames = n, DepthAbsRelPerFrame = absRel / n, DepthDelta1PerFrame = delta / n, DepthCoverage = coverage / n,
                DepthAbsRelGlobal = gAbs / n, DepthDelta1Global = gDelta / n, DepthGlobalScale = global,
            };
        }

        private static SequenceEvaluationResult EvaluateFlow(SequenceData gt, SequenceData est, SequenceEvaluationResult r, List<string> notes)
        {
            var estPairs = new HashSet<int>(est.FlowPairs());
            var pairs = gt.FlowPairs().Where(estPairs.Contains).ToList();
            if (pairs.Count == 0) return r;
            double all = 0, noc = 0;
            foreach (var i in pairs)
            {
                var a = DepthFlowMetrics.Flow(est.ReadFlow(i)!, gt.ReadFlow(i)!, gt.ReadOcclusion(i));
                all += a.EpeAll; noc += a.EpeNoc;
            }
            return r with { FlowPairs = pairs.Count, FlowEpeAll = all / pairs.Count, FlowEpeNoc = noc / pairs.Count };
        }
    }
}
