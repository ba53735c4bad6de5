using System.IO;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Export;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Evaluation;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: `eval` accepted the truth of a different scene, size and frame count and printed plausible metrics;
    /// swapped or identical --gt/--est passed; an empty trajectory exited 0. Now each is refused with a message, and
    /// estimate frames the truth lacks are a warning.
    /// </summary>
    public sealed class EvalSameSequenceTests
    {
        /// <summary>A reconstruction-shaped copy of the truth in <paramref name="est"/> (no color/), <paramref name="frames"/> poses.</summary>
        private static void WriteEstimate(string gt, string est, int frames, Intrinsics? k = null)
        {
            Directory.CreateDirectory(est);
            var entries = TumTrajectory.Read(Path.Combine(gt, "trajectory.txt"));
            var poses = Enumerable.Range(0, frames).Select(i => new TrajectoryEntry(i, entries[i % entries.Count].Pose)).ToList();
            TumTrajectory.Write(Path.Combine(est, "trajectory.txt"), poses);
            var kk = k ?? SequenceEvaluationTests.K;
            IntrinsicsJson.Write(Path.Combine(est, "intrinsics.json"), kk, kk);
        }

        [Fact]
        public void Identical_swapped_empty_and_mismatched_inputs_are_refused()
        {
            using var tmp = new TempDir();
            var gt = tmp.Sub("gt");
            SequenceEvaluationTests.WriteSyntheticTruth(gt, 5);
            var est = tmp.File("est");
            WriteEstimate(gt, est, SequenceEvaluationTests.N);
            Assert.Equal(0, CliProcess.Run(new[] { "eval", "--gt", gt, "--est", est, "--json" }).ExitCode);

            IssueInputs.OneLineError(CliProcess.Run(new[] { "eval", "--gt", gt, "--est", gt }), 2, "same folder");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "eval", "--gt", est, "--est", gt }), 2, "swapped?");
            var other = tmp.Sub("gt2");
            SequenceEvaluationTests.WriteSyntheticTruth(other, 6);
            IssueInputs.OneLineError(CliProcess.Run(new[] { "eval", "--gt", gt, "--est", other }), 2, "is ground truth");

            // A different image size: refused.
            var big = tmp.File("big");
            var k = SequenceEvaluationTests.K;
            WriteEstimate(gt, big, SequenceEvaluationTests.N, new Intrinsics(k.Width * 2, k.Height * 2, k.Fx * 2, k.Fy * 2, k.Cx * 2 + 0.5, k.Cy * 2 + 0.5));
            IssueInputs.OneLineError(CliProcess.Run(new[] { "eval", "--gt", gt, "--est", big }), 2, "not the same sequence");

            // An empty trajectory: refused.
            var empty = tmp.File("empty");
            WriteEstimate(gt, empty, 0);
            IssueInputs.OneLineError(CliProcess.Run(new[] { "eval", "--gt", gt, "--est", empty }), 2, "empty trajectory");
        }

        [Fact]
        public void Image_names_the_truth_lacks_are_refused_and_extra_frames_are_a_warning()
        {
            using var tmp = new TempDir();
            var gt = tmp.Sub("gt");
            SequenceEvaluationTests.WriteSyntheticTruth(gt, 5);
            int n = SequenceEvaluationTests.N;

            var longer = tmp.File("longer");
            WriteEstimate(gt, longer, n + 3);
            var r = SequenceEvaluation.Evaluate(gt, longer);
            Assert.Equal(n, r.FramesMatched);
            Assert.Contains(r.Notes, x => x.StartsWith("warning: the estimate has 3 frames the truth lacks"));

            var renamed = tmp.File("renamed");
            WriteEstimate(gt, renamed, n);
            var model = ColmapTextModel.FromReconstruction(SequenceEvaluationTests.K, Enumerable.Range(0, n).Select(i => $"other_{i}.jpg").ToList(),
                TumTrajectory.ReadPoses(Path.Combine(renamed, "trajectory.txt")), PointCloud.Empty, 1);
            model.Write(Path.Combine(renamed, "colmap"));
            var e = Assert.Throws<InvalidDataException>(() => SequenceEvaluation.Evaluate(gt, renamed));
            Assert.Contains("None of the estimate's", e.Message);
        }
    }
}
