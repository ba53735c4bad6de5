using System;
using System.Collections.Generic;

namespace FlowMap.Solve.Refine
{
    /// <summary>
    /// Inverse depth for the refinement's unconfirmed cells from their confirmed neighbours, the background preferred: the
    /// occlusion rule of semi-global matching's disparity interpolation (Hirschmueller, PAMI 2008: an occluded pixel takes
    /// the background among the nearest valid values along 8 directions, the second lowest disparity rather than the lowest,
    /// which may be an outlier). A cell the flow of no pair confirms is mostly one that the other keyframes do not see:
    /// background next to a foreground edge, disoccluded as the camera moves. Its flow follows the occluder, so the descent's
    /// smooth depth there (what such cells kept) carries the foreground's depth well into the background: on the synthetic
    /// orbit 5.7-7.4 % of a frame's pixels (three frames), up to 32 px from the edge, at a confidence of 0.08-0.12 against
    /// 0.42-0.45 on average.
    /// Where all 8 values agree (an unconfirmed cell inside one surface) the rule takes one of them, as the median would.
    /// </summary>
    internal static class BackgroundFill
    {
        private static readonly int[] s_dx = { 1, -1, 0, 0, 1, 1, -1, -1 };
        private static readonly int[] s_dy = { 0, 0, 1, -1, 1, -1, 1, -1 };

        /// <summary>
        /// Replaces, in place, the inverse depth of every cell whose confidence is below <paramref name="minConfidence"/> by the
        /// second smallest (the second farthest) of the nearest confirmed cells along the 8 grid directions (the smallest when
        /// only one is found); a cell with none keeps its value. Confidences are not changed. Returns the cells replaced.
        /// </summary>
        /// <param name="inverseDepth">double[gh * gw], row-major; positive where known.</param>
        /// <param name="confidence">float[gh * gw] in [0, 1].</param>
        public static int Fill(double[] inverseDepth, float[] confidence, int gw, int gh, float minConfidence)
        {
            if (inverseDepth == null) throw new ArgumentNullException(nameof(inverseDepth));
            if (confidence == null) throw new ArgumentNullException(nameof(confidence));
            if (gw < 1 || gh < 1 || inverseDepth.Length != gw * gh || confidence.Length != gw * gh)
                throw new ArgumentException($"{inverseDepth.Length} cells and {confidence.Length} confidences for a {gw}x{gh} grid.");
            bool Confirmed(int c) => confidence[c] >= minConfidence && inverseDepth[c] > 0 && !double.IsInfinity(inverseDepth[c]);
            var filled = (double[])inverseDepth.Clone();
            var found = new List<double>(8);
            int replaced = 0;
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                {
                    int c = gy * gw + gx;
                    if (confidence[c] >= minConfidence) continue;
                    found.Clear();
                    for (int d = 0; d < 8; d++)
                        for (int x = gx + s_dx[d], y = gy + s_dy[d]; x >= 0 && y >= 0 && x < gw && y < gh; x += s_dx[d], y += s_dy[d])
                            if (Confirmed(y * gw + x)) { found.Add(inverseDepth[y * gw + x]); break; }
                    if (found.Count == 0) continue;
                    found.Sort();
                    filled[c] = found[Math.Min(1, found.Count - 1)];
                    replaced++;
                }
            Array.Copy(filled, inverseDepth, filled.Length);
            return replaced;
        }
    }
}
