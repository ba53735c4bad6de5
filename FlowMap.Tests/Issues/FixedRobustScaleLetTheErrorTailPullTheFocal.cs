using System;
using FlowMap.Datasets;
using FlowMap.Flow;
using FlowMap.Reconstruction;
using FlowMap.Solve;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found on issue 11's last open target (ICL-NUIM offline focal within 1 %): the refinement's focal followed its robust
    /// scale, +0.98 / +1.44 / +2.08 % at a fixed Cauchy scale of 0.5 / 1 / 2 px, and the processing size, +1.02 % at 448x336
    /// (`./flowmap bench reconstruct --sequences icl --modes offline`; `reconstruct --size 448x336`): the same flow errors in
    /// smaller pixels. The flow's errors are heavy-tailed (at the refined solution: lower quartile 0.14 px, median 0.38 px,
    /// upper quartile 1.9 px), and the tail between 0.5 and 2 px, which a 1 px scale still weights at 0.2 to 0.8, pulled the
    /// focal; no synthetic flow error of ours reproduced that pull, so this test reads the sequence where it was found. The
    /// offline refinement now continues at the scale of the flow's own noise (ReconstructionOptions.RefineScaleFromResiduals,
    /// BundleOptions.ScaleFromResiduals): on ICL-NUIM's first 60 frames (12 keyframes) the focal went from +1.01 to +0.45 %,
    /// over all 211 frames from +1.44 to +0.75 %. The pipeline is deterministic, so the verdict is too: the error with the
    /// noise's scale at most two thirds of the error without, and within issue 11's 1 %. Skips visibly without ../shared/data.
    /// </summary>
    public sealed class FixedRobustScaleLetTheErrorTailPullTheFocal : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public FixedRobustScaleLetTheErrorTailPullTheFocal(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        [Fact]
        public void On_ICL_NUIM_the_offline_focal_at_the_flow_noise_scale_is_within_one_percent()
        {
            var dir = Repo.SharedData("icl_nuim_livingroom1");
            if (dir == null) Assert.Skip("../shared/data/icl_nuim_livingroom1 is absent.");
            var icl = IclNuim.Open(dir);
            double FocalError(bool fromNoise)
            {
                var o = new ReconstructionOptions { Mode = ReconstructionMode.Offline, RefineScaleFromResiduals = fromNoise };
                var flow = new VulkanFlowEstimator(Ctx, null, ownsContext: false);
                var mapping = new VulkanFlowEstimator(Ctx, VulkanFlowOptions.Mapping(), ownsContext: false);
                using var pipeline = new ReconstructionPipeline(o, flow, new GpuWindowSolver(Ctx), null, ownsComponents: true, mapping);
                for (int i = 0; i < 60; i++) pipeline.Process(new Frame(i, i / 30.0, icl.ReadColor(i), $"{i:D6}.png"));
                var r = pipeline.Finish();
                return r.Input.Fx / icl.Intrinsics.Fx - 1;
            }
            double fixedScale = FocalError(false), noiseScale = FocalError(true);
            _out.WriteLine($"focal error at 1 px {fixedScale:P2}, at the flow noise's scale {noiseScale:P2}");
            Assert.True(Math.Abs(noiseScale) < 0.01, $"focal error {noiseScale:P2} at the flow noise's scale");
            Assert.True(Math.Abs(noiseScale) <= 2.0 / 3 * Math.Abs(fixedScale), $"focal error {noiseScale:P2} at the flow noise's scale against {fixedScale:P2} at 1 px");
        }
    }
}
