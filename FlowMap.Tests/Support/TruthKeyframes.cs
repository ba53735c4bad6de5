using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Evaluation;
using FlowMap.Reconstruction;
using FlowMap.Solve.Geometry;
using FlowMap.Synthetic;

namespace FlowMap.Tests.Support
{
    /// <summary>Keyframes of a synthetic sequence as the mapper's solver takes them, with the exact flow between them.</summary>
    internal static class TruthKeyframes
    {
        /// <summary>
        /// The exact-flow estimator of <paramref name="s"/> (every keyframe registered) and the solver's inputs for
        /// <paramref name="keyframes"/> (frame indices), each with the exact flow from the previous one.
        /// </summary>
        public static (TruthFlowEstimator Flow, List<KeyframeSolver.Input> Inputs) Of(SyntheticSequence s, IReadOnlyList<int> keyframes)
        {
            var k = s.Intrinsics;
            var flow = new TruthFlowEstimator((a, b) => TruthFlow.Between(s.Depth(a), s.Pose(a), s.Depth(b), s.Pose(b), k));
            foreach (int i in keyframes) flow.Register(i, s.Frame(i));
            var inputs = keyframes.Select((f, j) => new KeyframeSolver.Input
            {
                FrameIndex = f, Image = s.Frame(f), FromPrevious = j == 0 ? null : flow.Estimate(s.Frame(keyframes[j - 1]), s.Frame(f)),
            }).ToList();
            return (flow, inputs);
        }

        /// <summary>A stand-in for the two-view self-calibration (<see cref="KeyframeSolver.Calibrate"/>) that always returns
        /// an undetermined best guess of <paramref name="focal"/> px.</summary>
        public static Func<IReadOnlyList<Correspondences>, int, int, FocalEstimate> Undetermined(double focal, double relStd, int pairs) =>
            (_, _, _) => new FocalEstimate { Focal = focal, RelStd = relStd, Determined = false, PairsUsed = pairs, Warning = "not determined (test)" };
    }
}
