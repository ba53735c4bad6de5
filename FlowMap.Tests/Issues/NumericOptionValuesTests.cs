using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: `reconstruct --focal Infinity` died with an unhandled ArgumentException, `--size 100000x100000` with an
    /// OverflowException in RgbImage, and `--focal abc` printed the .NET type name System.Nullable`1[System.Double].
    /// Every such value is now a one-line usage error (exit 2) in plain words, before any work.
    /// </summary>
    public sealed class NumericOptionValuesTests
    {
        [Theory]
        [InlineData("reconstruct", "--focal", "Infinity", "--focal must be a positive number")]
        [InlineData("reconstruct", "--focal", "NaN", "--focal must be a positive number")]
        [InlineData("reconstruct", "--focal", "-5", "--focal must be a positive number")]
        [InlineData("reconstruct", "--focal", "abc", "as a number")]
        [InlineData("reconstruct", "--size", "100000x100000", "from 16 to 4096")]
        [InlineData("reconstruct", "--size", "0x0", "from 16 to 4096")]
        [InlineData("reconstruct", "--max-frames", "1e9", "as a whole number")]
        [InlineData("replay", "--focal", "Infinity", "Focal")]
        [InlineData("synth", "--size", "1x1", "each side from 8 to 8192")]
        [InlineData("synth", "--motion", "NaN", "--motion must be a finite number")]
        [InlineData("synth", "--focal", "Infinity", "--focal must be a positive number")]
        public void Bad_numbers_are_one_line_usage_errors(string command, string option, string value, string message)
        {
            using var tmp = new TempDir();
            var input = IssueInputs.Images(tmp.Sub("in"), 2, 32, 24);
            var args = command switch
            {
                "reconstruct" => new[] { "reconstruct", input, "--out", tmp.File("o"), option, value },
                "replay" => new[] { "replay", IssueInputs.Session(tmp.File("s.fmsession"), 2, 32, 24), option, value },
                _ => new[] { "synth", "--frames", "2", "--out", tmp.File("o"), option, value },
            };
            IssueInputs.OneLineError(CliProcess.Run(args), 2, message);
            IssueInputs.NoOutput(tmp.File("o"));
        }
    }
}
