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

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found running issue 12's paced benchmark (`./flowmap bench live --long-frames 0`) as a machine's first run, Mesa's
    /// shader cache empty: lavapipe compiles each kernel with LLVM at its first dispatch, and those came in the middle of the
    /// stream (the first window solve 2.7-3.4 s against 1.1 s warm, 133-144 of 211 frames processed against 187-195, the
    /// final poses up to +34 % against `reconstruct --mode online` on the same frames). A pipeline now builds every kernel
    /// of <see cref="KernelCatalog.Reconstruction"/> when it is created (<see cref="GpuContext.Prebuild"/>: where discrete
    /// GPUs' drivers compile) and dispatches them once on a small synthetic pair (where lavapipe compiles). Each mode runs
    /// on a context of its own (the test run's shared one holds every test's kernels): after creation the catalog is built,
    /// and the frames then build no kernel and dispatch none for the first time. With an ONNX flow model the warm-up had been
    /// skipped whole, so the solver's and the point tracker's kernels still compiled at the first frames and the first solve
    /// (found closing issue 12); it now warms them with the pair's known flow.
    /// </summary>
    [Collection("cli-heavy")]
    public sealed class FirstRunCompiledKernelsWhileStreaming : GpuTest
    {
        public FirstRunCompiledKernelsWhileStreaming(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }
        private readonly ITestOutputHelper _out;

        public static IEnumerable<object[]> Modes => new[]
        {
            new object[] { "live session (mapping thread, sparse tracking)" },
            new object[] { "online" },
            new object[] { "offline" },
            new object[] { "live session with an ONNX flow model" },
        };

        private static ReconstructionOptions Options(string mode) => mode switch
        {
            "online" => new ReconstructionOptions { Mode = ReconstructionMode.Online, ProcessingSize = (96, 72) },
            "offline" => new ReconstructionOptions { Mode = ReconstructionMode.Offline, ProcessingSize = (96, 72) },
            _ => ReconstructionComponents.LiveOptions(new FlowMap.Session.SessionOptions { ProcessingWidth = 96, ProcessingHeight = 72 }, mappingThread: true),
        };

        /// <summary>The kernels of the Vulkan flow estimator (not the point tracker's).</summary>
        private static readonly HashSet<string> VulkanFlowKernels = new HashSet<string>
        {
            FlowMap.Flow.Kernels.RgbHalf.Shader, FlowMap.Flow.Kernels.FlowPrep.Shader, FlowMap.Flow.Kernels.DisSearch.Shader,
            FlowMap.Flow.Kernels.DisDensify.Shader, FlowMap.Flow.Kernels.VarData.Shader, FlowMap.Flow.Kernels.VarSor.Shader,
            FlowMap.Flow.Kernels.FlowConfidence.Shader, FlowMap.Flow.Kernels.FlowFinalize.Shader, FlowMap.Flow.Kernels.FlowUpsample.Shader,
        };

        [Theory]
        [MemberData(nameof(Modes))]
        public void Frames_build_and_dispatch_no_kernel_for_the_first_time(string mode) => Run(mode, 5);

        internal void Run(string mode, int seed)
        {
            _ = Ctx; // skips visibly without a Vulkan device (fails when FLOWMAP_REQUIRE_GPU=1)
            const int n = 14;
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", seed),
                new SyntheticSequenceOptions { Path = "walk", Frames = n, Width = 96, Height = 72, Seed = seed });
            var gpu = new GpuContextOptions { Validation = true, FailOnValidationError = true };
            bool onnxFlow = mode.Contains("ONNX", StringComparison.Ordinal);
            using var pipeline = ReconstructionComponents.CreatePipeline(Options(mode), null, DepthModelPreset.Auto,
                onnxFlow ? TestModels.Path("flow_dynamic.onnx") : null, gpu, DepthExecutionProvider.Auto);
            var ctx = pipeline.Gpu!;
            var built = ctx.KernelKeys.ToList();
            var dispatched = ctx.DispatchedKernelKeys.ToList();
            for (int i = 0; i < n; i++) pipeline.Process(new Frame(i, i / 30.0, seq.Frame(i), $"{i:D6}.png"));
            pipeline.Finish();
            _out.WriteLine("built at creation: " + string.Join(", ", built));
            _out.WriteLine("dispatched at creation: " + string.Join(", ", dispatched));
            Assert.Equal(KernelCatalog.Reconstruction.Select(KernelCatalog.Key).OrderBy(k => k, StringComparer.Ordinal), built.OrderBy(k => k, StringComparer.Ordinal));
            // Every kernel of the catalog the mode can use was dispatched before the first frame (the point tracker's only
            // where frames are tracked by points), whichever paths the frames then take.
            // With a flow model, no Vulkan flow kernel (the model estimates every flow; the point tracker's kernels stay).
            var usable = KernelCatalog.Reconstruction.Where(k => Options(mode).SparseTracking || k.Shader != FlowMap.Flow.Kernels.LucasKanade.Shader)
                .Where(k => !onnxFlow || !VulkanFlowKernels.Contains(k.Shader));
            Assert.Empty(usable.Select(KernelCatalog.Key).Except(dispatched));
            Assert.Empty(ctx.KernelKeys.Except(built));
            Assert.Empty(ctx.DispatchedKernelKeys.Except(dispatched));
        }
    }
}
