using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Export;
using FlowMap.Tests.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Evaluation
{
    public sealed class SequenceEvaluationTests
    {
        internal const int W = 24, H = 18, N = 6;
        internal static readonly Intrinsics K = new Intrinsics(W, H, 20, 20, 11.5, 8.5);

        /// <summary>A small folder in the synthetic layout (color/, depth/, trajectory.txt, intrinsics.json, flow/, occlusion/).</summary>
        internal static List<CameraPose> WriteSyntheticTruth(string dir, int seed)
        {
            var r = new Random(seed);
            var poses = TrajectoryMetricsTests.Walk(r, N);
            for (int i = 0; i < N; i++)
            {
                PngImage.WriteRgb(Path.Combine(dir, "color", $"{i:D6}.png"), PngImageTests.RandomImage(r, W, H));
                // Depth constant on 2x2 blocks, so a half-size prediction sampled at the nearest pixel centre is exact.
                var blocks = Rng.Floats(r, (W / 2) * (H / 2), 1, 5);
                Npy.Write(Path.Combine(dir, "depth", $"{i:D6}.npy"),
                    new FloatImage(W, H, Enumerable.Range(0, W * H).Select(k => blocks[(k / W / 2) * (W / 2) + (k % W) / 2]).ToArray()));
                if (i + 1 < N)
                {
                    FloFile.Write(Path.Combine(dir, "flow", $"{i:D6}.flo"), new FlowField(W, H, Rng.Floats(r, 2 * W * H, -3, 3)));
                    PngImage.WriteMask(Path.Combine(dir, "occlusion", $"{i:D6}.png"), Enumerable.Range(0, W * H).Select(k => k % 9 == 0).ToArray(), W, H);
                }
            }
            TumTrajectory.Write(Path.Combine(dir, "trajectory.txt"), poses);
            IntrinsicsJson.Write(Path.Combine(dir, "intrinsics.json"), K);
            return poses;
        }

        [Fact]
        public void Ground_truth_against_itself_reports_zero_error()
        {
            using var tmp = new TempDir();
            Rng.Fresh(out int seed);
            WriteSyntheticTruth(tmp.Path, seed);
            var r = SequenceEvaluation.Evaluate(tmp.Path, tmp.Path);
            Assert.Equal("synthetic", r.GroundTruthKind);
            Assert.Equal(N, r.FramesMatched);
            Assert.True(r.AteMetres < 1e-9, $"ATE {r.AteMetres}");
            Assert.Equal(0, r.RelativeRotationDeg!.Value, 9);
            Assert.Equal(0, r.FocalErrorPercent);
            Assert.Equal(N, r.DepthFrames);
            Assert.Equal(0, r.DepthAbsRelPerFrame!.Value, 9);
            Assert.Equal(0, r.DepthAbsRelGlobal!.Value, 9);
            Assert.Equal(1, r.DepthDelta1Global);
            Assert.Equal(N - 1, r.FlowPairs);
            Assert.Equal(0, r.FlowEpeAll);
            Assert.Empty(r.Notes);
        }

        [Fact]
        public void A_reconstruction_in_another_frame_and_scale_scores_zero_and_scale_drift_shows_in_the_global_depth()
        {
            using var tmp = new TempDir();
            var gtDir = tmp.Sub("gt"); var estDir = tmp.Sub("est");
            Rng.Fresh(out int seed);
            var poses = WriteSyntheticTruth(gtDir, seed);
            var r = new Random(seed + 1);
            // The reconstruction: poses in another frame at scale 0.5, depth at processing size 12x9 in the same scale,
            // image names as stems, intrinsics in the reconstruction form. Frame 3 is missing.
            var est = TrajectoryMetricsTests.Transform(poses, 0.5, TumTrajectoryTests.RandomPose(r), new[] { 1.0, 2, 3 });
            TumTrajectory.Write(Path.Combine(estDir, "trajectory.txt"),
                Enumerable.Range(0, N).Where(i => i != 3).Select(i => new TrajectoryEntry(i, est[i])).ToList());
            IntrinsicsJson.Write(Path.Combine(estDir, "intrinsics.json"), new Intrinsics(W, H, 20.2, 20.2, 11.5, 8.5), K.Resized(12, 9));
            for (int i = 0; i < N; i++)
            {
                var g = Npy.ReadFloatImage(Path.Combine(gtDir, "depth", $"{i:D6}.npy"));
                var small = new FloatImage(12, 9);
                for (int y = 0; y < 9; y++) for (int x = 0; x < 12; x++) small[x, y] = 0.5f * g[2 * x + 1, 2 * y + 1];
                Npy.Write(Path.Combine(estDir, "depth", $"{i:D6}.npy"), small);
            }
            var res = SequenceEvaluation.Evaluate(gtDir, estDir);
            Assert.Equal("reconstruction", res.EstimateKind);
            Assert.Equal(N - 1, res.FramesMatched);
            Assert.Contains(res.Notes, n => n.Contains("1 of 6 ground-truth frames have no estimated pose"));
            Assert.True(res.AteMetres < 1e-9, $"ATE {res.AteMetres}");
            Assert.Equal(2.0, res.Sim3Scale!.Value, 9);
            Assert.Equal(1.0, res.FocalErrorPercent!.Value, 9);
            Assert.Equal(N - 1, res.DepthFrames);
            Assert.Equal(2.0, res.DepthGlobalScale!.Value, 6);
            Assert.Equal(0, res.DepthAbsRelPerFrame!.Value, 6);
            Assert.Equal(0, res.DepthAbsRelGlobal!.Value, 6);

            // Scale drift: frame 4's depth twice as large as the rest. Per-frame scaling hides it, one scale does not.
            var d4 = Npy.ReadFloatImage(Path.Combine(estDir, "depth", "000004.npy"));
            Npy.Write(Path.Combine(estDir, "depth", "000004.npy"), new FloatImage(12, 9, d4.Data.Select(v => 2 * v).ToArray()));
            var drift = SequenceEvaluation.Evaluate(gtDir, estDir);
            Assert.Equal(0, drift.DepthAbsRelPerFrame!.Value, 6);
            // Median of the scales (2, 2, 2, 2, 1) is 2: frame 4 is then off by a factor 2 (AbsRel 1), the mean over 5 frames 0.2.
            Assert.Equal(0.2, drift.DepthAbsRelGlobal!.Value, 6);
        }

        [Fact]
        public void Exact_depth_at_full_size_with_one_frame_off_by_a_known_scale()
        {
            using var tmp = new TempDir();
            var gtDir = tmp.Sub("gt"); var estDir = tmp.Sub("est");
            WriteSyntheticTruth(gtDir, 7);
            File.Copy(Path.Combine(gtDir, "trajectory.txt"), Path.Combine(estDir, "trajectory.txt"));
            // Frames 0..3 at scale 1/2, frames 4 and 5 at scale 1/3: per-frame scales 2,2,2,2,3,3 -> global median 2;
            // frames 4, 5 then have |2/3 - 1| = 1/3 relative error: mean AbsRel = 2/6 * 1/3 = 1/9, delta1 = 4/6.
            for (int i = 0; i < N; i++)
            {
                var g = Npy.ReadFloatImage(Path.Combine(gtDir, "depth", $"{i:D6}.npy"));
                float f = i < 4 ? 0.5f : 1f / 3;
                Npy.Write(Path.Combine(estDir, "depth", $"{i:D6}.npy"), new FloatImage(W, H, g.Data.Select(v => v * f).ToArray()));
            }
            var r = SequenceEvaluation.Evaluate(gtDir, estDir);
            Assert.Equal(0, r.DepthAbsRelPerFrame!.Value, 6);
            Assert.Equal(2.0, r.DepthGlobalScale!.Value, 5);
            Assert.Equal(1.0 / 9, r.DepthAbsRelGlobal!.Value, 5);
            Assert.Equal(4.0 / 6, r.DepthDelta1Global!.Value, 9);
            Assert.Null(r.FocalErrorPercent); // the estimate states no intrinsics
        }

        [Fact]
        public void ICL_NUIM_against_itself_reports_zero_error()
        {
            var icl = Repo.SharedData("icl_nuim_livingroom1");
            if (icl == null) Assert.Skip("../shared/data/icl_nuim_livingroom1 is absent.");
            var r = SequenceEvaluation.Evaluate(icl, icl, depthEvery: 30);
            Assert.Equal("icl-nuim", r.GroundTruthKind);
            Assert.Equal(211, r.FramesMatched);
            Assert.True(r.AteMetres < 1e-9);
            Assert.InRange(r.PathLengthMetres!.Value, 3.0, 4.5);
            Assert.Equal(0, r.FocalErrorPercent);
            Assert.Equal(8, r.DepthFrames);
            Assert.Equal(0, r.DepthAbsRelGlobal!.Value, 9);
        }

        [Fact]
        public void A_folder_that_is_no_sequence_is_a_clear_error()
        {
            using var tmp = new TempDir();
            var e = Assert.Throws<InvalidDataException>(() => SequenceEvaluation.Evaluate(tmp.Path, tmp.Path));
            Assert.Contains("trajectory.txt", e.Message);
        }
    }
}
