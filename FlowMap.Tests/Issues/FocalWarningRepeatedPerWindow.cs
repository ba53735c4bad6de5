using System.Linq;
using FlowMap.Reconstruction;
using FlowMap.Tests.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found in review: online, the focal is re-estimated as keyframe pairs accumulate, and each "not determined" warning
    /// carried that estimate's numbers, so report.json could list one variant per re-estimate; it also quoted the guess in
    /// pixels of the processing size next to "--focal PX (pixels at the input size)". Now only the newest such warning is
    /// kept and it gives the relative uncertainty only (focal_px carries the value in input pixels).
    /// </summary>
    public sealed class FocalWarningRepeatedPerWindow
    {
        [Fact]
        public void An_online_run_on_a_plane_reports_the_focal_warning_once()
        {
            // A fronto-parallel plane translating sideways: flow = f t / Z, the focal is not observable.
            var s = new PlaneScene(64, 48, 50, 4, 0.05, 40);
            var o = new ReconstructionOptions { Mode = ReconstructionMode.Online, ProcessingSize = (64, 48), WindowKeyframes = 4, ActiveKeyframes = 2, Refine = false };
            using var p = new ReconstructionPipeline(o, new TruthFlow(s), new TruthSolver(s));
            for (int i = 0; i < s.Frames; i++) p.Process(s.Frame(i));
            var r = p.Finish();
            var focal = r.Warnings.Where(w => w.StartsWith("The focal length is not determined")).ToList();
            Assert.Single(focal);
            Assert.Contains("--focal", focal[0]);
            Assert.DoesNotContain(" px", focal[0].Replace("--focal PX", ""));
        }
    }
}
