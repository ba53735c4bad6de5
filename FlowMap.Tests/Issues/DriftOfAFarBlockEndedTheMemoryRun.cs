using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using FlowMap.Viewer.Cli;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// `bench live`'s 10,000-frame run ended in an internal error after six minutes, its figures lost: the drift of a block
    /// of 1,000 frames came out non-finite, and System.Text.Json refuses to write infinity or NaN. A pose can be finite and
    /// still far enough out (a diverged camera) that its squared distance overflows. Such a block now has no figure (null);
    /// a block whose centres all lie at one point (no spread to scale) keeps a finite one.
    /// </summary>
    public sealed class DriftOfAFarBlockEndedTheMemoryRun
    {
        [Fact]
        public void A_block_with_a_far_camera_has_no_figure_and_the_result_is_written()
        {
            const int clip = 20, frames = 2500;
            var truth = Enumerable.Range(0, clip).Select(i => new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { 0.1 * i, 0.03 * i * i, 0.0 })).ToList();
            var shown = new int[frames];
            for (int i = 0; i < frames; i++) { int k = i % (2 * clip - 2); shown[i] = k < clip ? k : 2 * clip - 2 - k; }
            var still = new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { 1.0, 2.0, 3.0 });
            var far = new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { 1e200, 2.0, 3.0 });
            // Block 0 follows the truth; block 1 sits at one point; block 2 has one camera far out.
            var poses = Enumerable.Range(0, frames).ToDictionary(i => i, i => i < 1000 ? truth[shown[i]] : i < 2000 ? still : i == 2100 ? far : truth[shown[i]]);
            foreach (bool own in new[] { false, true })
            {
                var d = BenchLive.Drift(poses, shown, truth, ownAlignment: own)!;
                Assert.Equal(3, d.Count);
                Assert.True(d[0]!.GetValue<double>() <= 1e-6);
                Assert.True(double.IsFinite(d[1]!.GetValue<double>()));
                // With the first block's alignment the far camera's squared distance overflows: no figure. Aligned by itself the
                // block fits no useful similarity (its spread overflows too), but whatever comes out is finite or null.
                if (!own) Assert.True(d[2] == null, d.ToJsonString());
                else Assert.True(d[2] == null || double.IsFinite(d[2]!.GetValue<double>()), d.ToJsonString());
                Assert.StartsWith("{\"drift\":[", new JsonObject { ["drift"] = d.DeepClone() }.ToJsonString());
            }
        }
    }
}
