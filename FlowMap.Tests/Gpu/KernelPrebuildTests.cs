using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Core;
using FlowMap.Depth;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;
using FlowMap.Reconstruction;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Gpu
{
    /// <summary>
    /// <see cref="KernelCatalog.Reconstruction"/> lists every kernel a reconstruction builds, so that a pipeline builds them all when it is
    /// created (<see cref="GpuContext.Prebuild"/>) and none while frames stream. Each mode runs on a context of its own
    /// (the test run's shared one holds every test's kernels) and may build nothing the catalog does not list.
    /// </summary>
    [Collection("cli-heavy")]
    public sealed class KernelPrebuildTests : GpuTest
    {
        public KernelPrebuildTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }
        private readonly ITestOutputHelper _out;

        public static IEnumerable<object[]> Modes => new[]
        {
            new object[] { "live session (mapping thread, sparse tracking)" },
            new object[] { "online" },
            new object[] { "offline" },
        };

        private static ReconstructionOptions Options(string mode) => mode switch
        {
            "online" => new ReconstructionOptions { Mode = ReconstructionMode.Online, ProcessingSize = (96, 72) },
            "offline" => new ReconstructionOptions { Mode = ReconstructionMode.Offline, ProcessingSize = (96, 72) },
            _ => ReconstructionComponents.LiveOptions(new FlowMap.Session.SessionOptions { ProcessingWidth = 96, ProcessingHeight = 72 }, mappingThread: true),
        };

        [Theory]
        [MemberData(nameof(Modes))]
        public void A_reconstruction_builds_no_kernel_the_catalog_does_not_list(string mode)
        {
            _ = Ctx; // skips visibly without a Vulkan device (fails when FLOWMAP_REQUIRE_GPU=1)
            const int n = 14;
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 5),
                new SyntheticSequenceOptions { Path = "walk", Frames = n, Width = 96, Height = 72, Seed = 5 });
            var gpu = new GpuContextOptions { Validation = true, FailOnValidationError = true };
            GpuContext ctx;
            using (var pipeline = ReconstructionComponents.CreatePipeline(Options(mode), null, DepthModelPreset.Auto, null, gpu, DepthExecutionProvider.Auto))
            {
                ctx = pipeline.Gpu!;
                var prebuilt = ctx.KernelKeys.ToList();
                for (int i = 0; i < n; i++) pipeline.Process(new Frame(i, i / 30.0, seq.Frame(i), $"{i:D6}.png"));
                pipeline.Finish();
                var all = ctx.KernelKeys.ToList();
                _out.WriteLine(string.Join("\n", all));
                Assert.Equal(KernelCatalog.Reconstruction.Select(KernelCatalog.Key).OrderBy(k => k, StringComparer.Ordinal), prebuilt.OrderBy(k => k, StringComparer.Ordinal));
                Assert.Empty(all.Except(prebuilt));
            }
        }
    }
}
