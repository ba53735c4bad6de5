using System.IO;
using System.Linq;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: `reconstruct --out` wrote into any existing folder (run into a synthetic sequence it silently replaced
    /// the ground-truth trajectory, intrinsics and depth; a shorter re-run left the old run's extra depth files), died
    /// on an --out naming a file or a path under /proc, and `record --out` naming a folder died. Now: a non-empty --out
    /// is refused unless --overwrite, --overwrite replaces only the same command's earlier output (marker file), the
    /// replacement holds only the new run's files, and every refusal is one line with nothing written.
    /// </summary>
    public sealed class OutputFolderRulesTests
    {
        [Fact]
        public void Reconstruct_never_writes_into_a_folder_it_did_not_write_and_replaces_its_own_only_with_overwrite()
        {
            using var tmp = new TempDir();
            var input = IssueInputs.Images(tmp.Sub("in"), 3, 32, 24);

            // A folder of the user's (e.g. a synthetic sequence's truth): refused, with and without --overwrite, untouched.
            var mine = tmp.Sub("mine");
            File.WriteAllText(Path.Combine(mine, "trajectory.txt"), "truth");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "reconstruct", input, "--out", mine }), 2, "exists and is not empty");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "reconstruct", input, "--out", mine, "--overwrite" }), 2, "was not written by flowmap");
            Assert.Equal("truth", File.ReadAllText(Path.Combine(mine, "trajectory.txt")));
            Assert.Single(Directory.GetFileSystemEntries(mine));

            // A file, and a place that cannot be written: one line, nothing left.
            File.WriteAllText(tmp.File("afile"), "x");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "reconstruct", input, "--out", tmp.File("afile") }), 2, "is a file");
            Assert.Equal("x", File.ReadAllText(tmp.File("afile")));
            IssueInputs.OneLineError(CliProcess.Run(new[] { "reconstruct", input, "--out", "/proc/flowmap-test-out" }), 4, "cannot write the output folder");

            // Our own earlier output: refused without --overwrite, replaced whole with it (no stale file of the first run).
            var outDir = tmp.File("out");
            var first = CliProcess.Run(new[] { "reconstruct", input, "--out", outDir, "--json" }, timeoutMs: 600_000);
            Assert.True(first.ExitCode == 0, first.Stderr);
            Assert.True(File.Exists(Path.Combine(outDir, ".flowmap-output")));
            File.WriteAllText(Path.Combine(outDir, "depth", "stale.npy"), "old");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "reconstruct", input, "--out", outDir }), 2, "add --overwrite");
            Assert.True(File.Exists(Path.Combine(outDir, "depth", "stale.npy")));
            var again = CliProcess.Run(new[] { "reconstruct", input, "--out", outDir, "--overwrite", "--json" }, timeoutMs: 600_000);
            Assert.True(again.ExitCode == 0, again.Stderr);
            Assert.False(File.Exists(Path.Combine(outDir, "depth", "stale.npy")));
            Assert.Equal(3, Directory.GetFiles(Path.Combine(outDir, "depth")).Length);
            Assert.Empty(Directory.EnumerateDirectories(tmp.Path).Where(d => Path.GetFileName(d).StartsWith(".out.", System.StringComparison.Ordinal)));

            // Another command's output is not replaced by --overwrite either.
            IssueInputs.OneLineError(CliProcess.Run(new[] { "synth", "--frames", "2", "--size", "32x24", "--out", outDir, "--overwrite" }), 2, "not a `synth` one");
            Assert.True(File.Exists(Path.Combine(outDir, "report.json")));
        }

        [Fact]
        public void Record_to_an_existing_folder_is_a_one_line_error()
        {
            using var tmp = new TempDir();
            var input = IssueInputs.Images(tmp.Sub("in"), 2, 32, 24);
            var folder = tmp.Sub("sessions");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "record", input, "--no-pace", "--no-reconstruct", "--out", folder }), 2, "is a folder");
            Assert.Empty(Directory.GetFileSystemEntries(folder));
            IssueInputs.OneLineError(CliProcess.Run(new[] { "record", input, "--no-pace", "--no-reconstruct", "--out", tmp.File("no", "such", "s.fmsession") }), 2, "does not exist");
        }
    }
}
