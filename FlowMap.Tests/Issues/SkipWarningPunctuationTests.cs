using System.IO;
using FlowMap.Capture;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>Issue 13: skip warnings ended in ".," (the reader's sentence, then ", skipped"). They read as one clause now.</summary>
    public sealed class SkipWarningPunctuationTests
    {
        [Fact]
        public void Skip_warnings_have_no_period_before_the_comma()
        {
            using var tmp = new TempDir();
            var dir = IssueInputs.Images(tmp.Sub("in"), 3, 24, 16);
            File.WriteAllBytes(Path.Combine(dir, "000001.png"), File.ReadAllBytes(Path.Combine(dir, "000001.png"))[..40]);   // truncated
            File.WriteAllText(Path.Combine(dir, "000002.png"), "text");                                                    // not an image
            using var src = new ImageFolderSource(dir);
            while (src.TryRead(out _)) { }
            Assert.Equal(2, src.Warnings.Count);
            Assert.All(src.Warnings, w => { Assert.DoesNotContain(".,", w); Assert.EndsWith(", skipped", w); });
        }
    }
}
