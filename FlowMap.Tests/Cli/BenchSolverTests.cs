using Xunit;

namespace FlowMap.Tests.Cli
{
    /// <summary>`flowmap bench solver` argument errors: one line, exit code 2, before any work.</summary>
    public sealed class BenchSolverTests
    {
        [Theory]
        [InlineData("--frames", "1", "--frames must be at least 2.")]
        [InlineData("--steps", "0", "--steps must be at least 1.")]
        [InlineData("--sizes", "12by3", "is not a size")]
        public void Bad_arguments_fail_with_one_line(string option, string value, string message)
        {
            var (code, _, stderr) = CliProcess.Run(new[] { "bench", "solver", option, value });
            Assert.Equal(2, code);
            Assert.Contains(message, stderr);
        }
    }
}
