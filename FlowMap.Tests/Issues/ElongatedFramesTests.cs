using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Issue 13: 4000x100 frames shifted 8-40 px per frame gave one keyframe, identity poses, no points and no warning.
    /// Why: the default processing size keeps the area of 320x240 (1753x44 here); the flow pyramid stops when its short
    /// side drops under 24 px, so its coarsest level is the full 1753x44 image and the +-3 px integer search there finds
    /// about 4 px of motion: every frame looks static and no keyframe is added. The run now warns (report.json and the
    /// summary) when the flow's reach is under 2 % of the long side, naming the reach and what to do.
    /// </summary>
    public sealed class ElongatedFramesTests
    {
        [Theory]
        [InlineData(1753, 44, true)]     // 4000x100 at the default processing size: reach 4 px of 1753
        [InlineData(4000, 100, true)]    // the same at full size: coarsest level 2, reach 16 px of 4000
        [InlineData(320, 240, false)]    // the default: reach 32 px (10 %)
        [InlineData(160, 120, false)]
        [InlineData(64, 48, false)]
        [InlineData(16, 16, false)]
        [InlineData(44, 1753, true)]     // portrait the same
        public void Elongated_processing_sizes_get_a_warning(int w, int h, bool warned)
        {
            var msg = Reconstructor.ElongatedWarning(w, h, 1, 10);
            Assert.Equal(warned, msg != null);
            if (msg != null) Assert.Contains("1 keyframe for 10 frames", msg);
        }
    }
}
