using System.Collections.Generic;
using System.Linq;
using FlowMap.Reconstruction;
using FlowMap.Tests.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found in review: online, the mapper kept the correspondences (up to 4000 matches each) of every keyframe pair it ever
    /// saw for the self-calibration, and looked pairs up in a list: memory and time grew with the session's length (issue 12
    /// asks for memory flat over 10,000 frames). Now it keeps the most recent <see cref="KeyframeSolver.MaxCalibrationPairs"/>
    /// and forgets the pair keys that left the window; and with a given focal it computes no correspondences at all.
    /// </summary>
    public sealed class OnlineSelfCalibrationGrewWithoutBound
    {
        [Fact]
        public void The_calibration_holds_only_the_most_recent_pairs()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 80);
            var flow = new TruthFlow(s);
            var o = new ReconstructionOptions { Refine = false, PairSpan = 3 };
            var mapper = new KeyframeSolver(flow, new TruthSolver(s), o, new StageClock(), null) { MaxCalibrationPairs = 8 };
            // A window of 4 keyframes sliding by one: 3 adjacent + 2 + 1 span pairs, 3 of them new each time.
            for (int first = 0; first < 12; first++)
            {
                mapper.SolveWindow(s.KeyframeWindow(flow, first, 4), null, null, null, 0, 1, default);
                Assert.True(mapper.CalibrationPairs <= 8, $"window {first}: {mapper.CalibrationPairs} correspondence sets held");
            }
            Assert.Equal(6 + 11 * 3, mapper.CalibrationPairsSeen);   // every pair counted once, none twice
            Assert.Equal(8, mapper.CalibrationPairs);
        }

        [Fact]
        public void A_given_focal_needs_no_correspondences()
        {
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 40);
            var flow = new TruthFlow(s);
            var mapper = new KeyframeSolver(flow, new TruthSolver(s), new ReconstructionOptions { Refine = false }, new StageClock(), null);
            for (int first = 0; first < 4; first++) mapper.SolveWindow(s.KeyframeWindow(flow, first, 4), 50, null, null, 0, 1, default);
            Assert.Equal(0, mapper.CalibrationPairsSeen);
            Assert.Equal(0, mapper.CalibrationPairs);
        }
    }
}
