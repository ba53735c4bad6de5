using System.IO;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: `reconstruct` on a folder whose images all fail to decode died with "No frames were processed"
    /// (an unhandled InvalidOperationException) and never showed why each file failed. Now a one-line error lists the
    /// first reasons per file, and nothing is written.
    /// </summary>
    public sealed class UndecodableFolderTests
    {
        [Fact]
        public void A_folder_of_undecodable_images_names_the_files_and_their_reasons()
        {
            using var tmp = new TempDir();
            var input = tmp.Sub("in");
            for (int i = 0; i < 5; i++) File.WriteAllText(Path.Combine(input, $"f{i}.png"), "not an image");
            var outDir = tmp.File("out");
            var r = CliProcess.Run(new[] { "reconstruct", input, "--out", outDir });
            IssueInputs.OneLineError(r, 2, "gave no readable frame");
            Assert.Contains("f0.png", r.Stderr);
            Assert.Contains("(and 2 more)", r.Stderr);
            IssueInputs.NoOutput(outDir);
        }
    }
}
