using System.IO;
using FlowMap.Capture;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found trying bad inputs (issue 13): an image folder holding a symbolic link to a missing file was skipped with
    /// "Could not find file the file" (the runtime's message with the path cut out), because File.Exists is true for such
    /// a link and the read failed afterwards. Now the frame is skipped with "does not exist (a link to a missing file?)".
    /// </summary>
    public sealed class DanglingLinkInImageFolder
    {
        [Fact]
        public void A_link_to_a_missing_file_is_skipped_with_a_clear_reason()
        {
            using var tmp = new TempDir();
            var dir = IssueInputs.Images(tmp.Sub("in"), 3, 17, 9);
            var link = Path.Combine(dir, "000001b.png");
            File.CreateSymbolicLink(link, Path.Combine(tmp.Path, "gone.png"));
            using var source = new ImageFolderSource(dir);
            int n = 0;
            while (source.TryRead(out _)) n++;
            Assert.Equal(3, n);
            var warning = Assert.Single(source.Warnings, w => w.Contains("000001b.png"));
            Assert.Contains("does not exist (a link to a missing file?)", warning);
            Assert.DoesNotContain("the file", warning);
        }
    }
}
