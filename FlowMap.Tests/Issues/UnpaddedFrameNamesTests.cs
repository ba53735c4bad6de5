using System.Collections.Generic;
using System.Linq;
using FlowMap.Capture;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: frames named without zero padding (frame0 ... frame11) were processed as 0, 1, 10, 11, 2, ... with no
    /// warning. They are now read in natural (numeric-aware) order, with a note saying so.
    /// </summary>
    public sealed class UnpaddedFrameNamesTests
    {
        [Fact]
        public void Frames_numbered_without_padding_are_read_in_numeric_order_with_a_note()
        {
            using var tmp = new TempDir();
            var dir = IssueInputs.Images(tmp.Sub("in"), 12, 16, 16, i => $"frame{i}.png");
            using var src = new ImageFolderSource(dir);
            var names = new List<string>();
            while (src.TryRead(out var f)) names.Add(f.Name);
            Assert.Equal(Enumerable.Range(0, 12).Select(i => $"frame{i}.png"), names);
            Assert.Contains(src.Warnings, w => w.Contains("without zero padding") && w.Contains("numeric order"));
        }

        [Fact]
        public void Padded_names_keep_their_plain_order_and_get_no_note()
        {
            using var tmp = new TempDir();
            var dir = IssueInputs.Images(tmp.Sub("in"), 12, 16, 16, i => $"{i:D4}.png");
            using var src = new ImageFolderSource(dir);
            var names = new List<string>();
            while (src.TryRead(out var f)) names.Add(f.Name);
            Assert.Equal(Enumerable.Range(0, 12).Select(i => $"{i:D4}.png"), names);
            Assert.Empty(src.Warnings);
        }

        [Theory]
        [InlineData("a2", "a10", -1)]
        [InlineData("a10", "a2", 1)]
        [InlineData("img_002", "img_2", 1)]   // equal numbers: fewer leading zeros first, never equal for distinct names
        [InlineData("x9y", "x9z", -1)]
        [InlineData("f1", "f1", 0)]
        [InlineData("f", "f0", -1)]
        public void The_natural_comparer_orders_digit_runs_as_numbers(string a, string b, int sign)
        {
            Assert.Equal(sign, System.Math.Sign(NaturalNameComparer.Instance.Compare(a, b)));
            Assert.Equal(-sign, System.Math.Sign(NaturalNameComparer.Instance.Compare(b, a)));
        }
    }
}
