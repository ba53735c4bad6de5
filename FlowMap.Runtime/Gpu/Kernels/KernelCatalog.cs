using System;
using System.Collections.Generic;

namespace FlowMap.Gpu.Kernels
{
    /// <summary>
    /// Every compute shader with the C# struct its dispatcher pushes. The push-constant test checks each struct's
    /// size and field offsets against the shader's SPIR-V, so the shader stays the one source of truth.
    /// Add a line here with every new kernel.
    /// </summary>
    internal static class KernelCatalog
    {
        public static readonly IReadOnlyList<(string Shader, Type Push)> All = new List<(string, Type)>
        {
            (Luminance.Shader, typeof(Luminance.Push)),
            (GaussianBlur.Shader, typeof(GaussianBlur.Push)),
            (Downsample.Shader, typeof(Downsample.Push)),
            (Gradient.Shader, typeof(Gradient.Push)),
            (Warp.Shader, typeof(Warp.Push)),
            (ReduceSum.Shader, typeof(ReduceSum.Push)),
            (Solve.SolverKernels.DepthForward, typeof(Solve.SolverKernels.GridPush)),
            (Solve.SolverKernels.ProcrustesSums, typeof(Solve.SolverKernels.SumsPush)),
            (Solve.SolverKernels.ReducePartials, typeof(Solve.SolverKernels.ReducePush)),
            (Solve.SolverKernels.ProcrustesSolve, typeof(Solve.SolverKernels.SolvePush)),
            (Solve.SolverKernels.FlowLoss, typeof(Solve.SolverKernels.LossPush)),
            (Solve.SolverKernels.SoftminFocal, typeof(Solve.SolverKernels.SoftminPush)),
            (Solve.SolverKernels.ProcrustesBackward, typeof(Solve.SolverKernels.PairsPush)),
            (Solve.SolverKernels.PointsBackward, typeof(Solve.SolverKernels.PointsPush)),
            (Solve.SolverKernels.DepthBackward, typeof(Solve.SolverKernels.DepthBackwardPush)),
            (Solve.SolverKernels.NodeGrad, typeof(Solve.SolverKernels.NodeGradPush)),
            (Solve.SolverKernels.Adam, typeof(Solve.SolverKernels.AdamPush)),
            (FlowMap.Flow.Kernels.FlowUpsample.Shader, typeof(FlowMap.Flow.Kernels.FlowUpsample.Push)),
            (FlowMap.Flow.Kernels.DisSearch.Shader, typeof(FlowMap.Flow.Kernels.DisSearch.Push)),
            (FlowMap.Flow.Kernels.DisDensify.Shader, typeof(FlowMap.Flow.Kernels.DisDensify.Push)),
            (FlowMap.Flow.Kernels.VarData.Shader, typeof(FlowMap.Flow.Kernels.VarData.Push)),
            (FlowMap.Flow.Kernels.VarSor.Shader, typeof(FlowMap.Flow.Kernels.VarSor.Push)),
            (FlowMap.Flow.Kernels.FlowConfidence.Shader, typeof(FlowMap.Flow.Kernels.FlowConfidence.Push)),
            (FlowMap.Flow.Kernels.FlowPrep.Shader, typeof(FlowMap.Flow.Kernels.FlowPrep.Push)),
            (FlowMap.Flow.Kernels.FlowFinalize.Shader, typeof(FlowMap.Flow.Kernels.FlowFinalize.Push)),
            (FlowMap.Flow.Kernels.RgbHalf.Shader, typeof(FlowMap.Flow.Kernels.RgbHalf.Push)),
            (FlowMap.Flow.Kernels.LucasKanade.Shader, typeof(FlowMap.Flow.Kernels.LucasKanade.Push)),
            (FlowMap.Synthetic.SynthHits.Shader, typeof(FlowMap.Synthetic.SynthHits.Push)),
            (FlowMap.Synthetic.SynthRender.Shader, typeof(FlowMap.Synthetic.SynthRender.Push)),
            (FlowMap.Synthetic.SynthFlow.Shader, typeof(FlowMap.Synthetic.SynthFlow.Push)),
            (FlowMap.Solve.Refine.GpuBundleLinearizer.Shader, typeof(FlowMap.Solve.Refine.GpuBundleLinearizer.Push)),
        };

        /// <summary>
        /// The kernels (shader and work-group size) a reconstruction builds: tracking, the flow of tracking and mapping, and
        /// the window solver. A pipeline builds them when it is created (<see cref="GpuContext.Prebuild"/>), so that no
        /// pipeline is created while frames stream: the drivers of discrete GPUs compile a shader when its pipeline is created
        /// (tens to hundreds of milliseconds each without a pipeline cache). Lavapipe compiles with LLVM at a kernel's first
        /// dispatch instead, which the pipeline's warm-up moves before the stream (<c>ReconstructionPipeline.WarmUp</c>).
        /// Kept complete by FlowMap.Tests/Issues/FirstRunCompiledKernelsWhileStreaming.cs.
        /// </summary>
        public static readonly IReadOnlyList<(string Shader, uint X, uint Y, uint Z)> Reconstruction = new (string, uint, uint, uint)[]
        {
            // Frames and tracking.
            (Luminance.Shader, 16, 16, 1),
            (Downsample.Shader, 16, 16, 1),
            (FlowMap.Flow.Kernels.LucasKanade.Shader, 16, 16, 1),
            // Flow (tracking's dense fallback, the keyframes' and mapping's pairs).
            (FlowMap.Flow.Kernels.RgbHalf.Shader, 16, 16, 1),
            (FlowMap.Flow.Kernels.FlowPrep.Shader, 16, 16, 1),
            (FlowMap.Flow.Kernels.DisSearch.Shader, 8, 8, 1),
            (FlowMap.Flow.Kernels.DisDensify.Shader, 16, 16, 1),
            (FlowMap.Flow.Kernels.VarData.Shader, 16, 16, 1),
            (FlowMap.Flow.Kernels.VarSor.Shader, 16, 16, 1),
            (FlowMap.Flow.Kernels.FlowConfidence.Shader, 16, 16, 1),
            (FlowMap.Flow.Kernels.FlowFinalize.Shader, 16, 16, 1),
            (FlowMap.Flow.Kernels.FlowUpsample.Shader, 16, 16, 1),
            // The window solver's step.
            (Solve.SolverKernels.DepthForward, 16, 16, 1),
            (Solve.SolverKernels.ProcrustesSums, 16, 16, 1),
            (Solve.SolverKernels.ProcrustesSolve, 64, 1, 1),
            (Solve.SolverKernels.FlowLoss, 16, 16, 1),
            (Solve.SolverKernels.SoftminFocal, 1, 1, 1),
            (Solve.SolverKernels.ProcrustesBackward, 64, 1, 1),
            (Solve.SolverKernels.PointsBackward, 16, 16, 1),
            (Solve.SolverKernels.DepthBackward, 16, 16, 1),
            (Solve.SolverKernels.NodeGrad, 64, 1, 1),
            (Solve.SolverKernels.Adam, 64, 1, 1),
            (Solve.SolverKernels.ReducePartials, 256, 1, 1),
        };

        public static string Key((string Shader, uint X, uint Y, uint Z) k) => GpuContext.KernelKey(k.Shader, k.X, k.Y, k.Z);
    }
}
