using System.Linq;
using FlowMap.Tests.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found with `bench live --sparse-tracking` (ICL-NUIM as a paced 30 fps video; 17-19 frames per second tracked): the
    /// final trajectory ended 14.6 % of the path off where an online reconstruction of the same frames is 0.6 %, and one of
    /// three runs with dense tracking 4.6 %. A log of the mapping showed why: the first window solve (150 steps) ran for
    /// the whole clip, about 30 keyframes were chosen meanwhile, and the backlog bound (4 x WindowKeyframes) finalised the
    /// oldest of them unsolved. Chosen before any solve, they had no warm start: their pose was their predecessor's (the
    /// first keyframe's), and the next window held them frozen as its anchor, chaining every later keyframe from there.
    /// A keyframe without a warm start now always waits for a solve.
    /// Here: the first window solve is held while 60 frames (about 20 keyframes, more than the bound of 16) are pushed;
    /// every final pose must be on the true path (before the fix: frame 9, the first keyframe past the bound, finalised at frame 0's pose).
    /// </summary>
    public sealed class BacklogBeforeTheFirstSolveFinalisedUnposed
    {
        [Fact]
        public void Keyframes_chosen_before_the_first_solve_all_wait_for_a_solve()
        {
            using var run = new MappingThreadTests.HeldSolveRun(100, blockCall: 1);
            run.PushUntilHeld();
            for (int j = 0; j < 60; j++) run.PushAndWait();
            Assert.True(run.Solver.Blocked);
            var keyframes = run.During.Where(u => u.IsKeyframe).Select(u => u.FrameIndex).ToList();
            // 60 frames of 0.625 px flow with a keyframe at 1.66 px: one every 3 frames, more than 4 x WindowKeyframes (16).
            Assert.True(keyframes.Count > 16, $"{keyframes.Count} keyframes chosen during the held first solve");
            run.FinishOnTheTruePath();
        }
    }
}
