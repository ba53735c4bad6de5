using System.IO;
using System.Linq;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: a session cut inside its first frame (`head -c 1000 a.fmsession`) crashed `replay`, `replay --out` and
    /// `reconstruct` with "No frames were processed". Now each is a one-line error saying where the session was cut, and
    /// no output folder is left.
    /// </summary>
    public sealed class SessionCutInFirstFrameTests
    {
        [Fact]
        public void Replay_and_reconstruct_of_a_session_cut_in_its_first_frame_are_one_line_errors()
        {
            using var tmp = new TempDir();
            var full = IssueInputs.Session(tmp.File("a.fmsession"), 3, 64, 48);
            var cut = tmp.File("cut.fmsession");
            File.WriteAllBytes(cut, File.ReadAllBytes(full).Take(1000).ToArray());

            IssueInputs.OneLineError(CliProcess.Run(new[] { "replay", cut }), 2, "session cut at byte");
            IssueInputs.OneLineError(CliProcess.Run(new[] { "replay", cut, "--out", tmp.File("r") }), 2, "gave no readable frame");
            IssueInputs.NoOutput(tmp.File("r"));
            IssueInputs.OneLineError(CliProcess.Run(new[] { "reconstruct", cut, "--out", tmp.File("o") }), 2, "gave no readable frame");
            IssueInputs.NoOutput(tmp.File("o"));
        }
    }
}
