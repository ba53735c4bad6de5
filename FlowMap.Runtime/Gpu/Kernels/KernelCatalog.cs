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
    }
}
