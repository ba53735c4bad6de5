using System.IO;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: `flow --pairs LIST` errors about a pair's images did not say which line of LIST they came from. Every
    /// error about a pair now starts "LIST:N:", missing images are found before any work, and nothing is written.
    /// </summary>
    public sealed class PairsListLineNumbersTests
    {
        [Fact]
        public void Errors_name_the_line_of_the_list()
        {
            using var tmp = new TempDir();
            var dir = IssueInputs.Images(tmp.Sub("img"), 2, 32, 24);
            IssueInputs.Images(tmp.Sub("small"), 1, 16, 16);
            var list = tmp.File("pairs.txt");
            var a = Path.Combine(dir, "000000.png");
            var b = Path.Combine(dir, "000001.png");

            File.WriteAllText(list, $"# pairs\n{a} {b}\n\n{a} {tmp.File("nope.png")}\n");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "flow", "--pairs", list, "--out-dir", tmp.File("o") }), 2, $"{list}:4: image");
            IssueInputs.NoOutput(tmp.File("o"));

            File.WriteAllText(list, $"{a} {b}\n{a}\n");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "flow", "--pairs", list, "--out-dir", tmp.File("o") }), 2, $"{list}:2: expected");

            File.WriteAllText(list, $"{a} {b}\n{a} {Path.Combine(tmp.Path, "small", "000000.png")}\n");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "flow", "--pairs", list, "--out-dir", tmp.File("o") }), 2, $"{list}:2: ");
            IssueInputs.NoOutput(tmp.File("o"));
        }
    }
}
