using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found reviewing stop 25: `bench reconstruct --online-solver-pixels 0` (and the older `--keyframe-steps 0`) ran the
    /// first sequence's set-up and then died with "internal error (ArgumentException) ... a bug; please report it", the
    /// pipeline's own option check. A tuning value the pipeline refuses is now a one-line usage error (exit 2) before any
    /// sequence runs.
    /// </summary>
    public sealed class BenchTuningValuesWereInternalErrors
    {
        [Theory]
        [InlineData("--online-solver-pixels", "0", "Solver pixel budgets must be at least 64")]
        [InlineData("--keyframe-steps", "0", "Step counts must be positive")]
        [InlineData("--offline-steps", "-3", "Step counts must be positive")]
        public void Refused_tuning_values_are_one_line_usage_errors(string option, string value, string message)
        {
            IssueInputs.OneLineError(CliProcess.Run(new[] { "bench", "reconstruct", "--sequences", "walk", option, value }), 2, "Invalid tuning option: " + message);
        }
    }
}
