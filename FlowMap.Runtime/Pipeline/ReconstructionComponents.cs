using System;
using FlowMap.Depth;
using FlowMap.Flow;
using FlowMap.Solve;

namespace FlowMap.Reconstruction
{
    /// <summary>The product's components, assembled: Vulkan flow (or an ONNX flow model), the window solver, an optional ONNX depth prior.</summary>
    public static class ReconstructionComponents
    {
        /// <summary>The GPU solver where it is built and a device is usable, else the CPU reference.</summary>
        public static IWindowSolver CreateSolver()
        {
            try { return WindowSolver.Create(SolverBackend.Gpu); }
            catch (NotSupportedException) { return WindowSolver.Create(SolverBackend.Cpu); }
            catch (InvalidOperationException) { return WindowSolver.Create(SolverBackend.Cpu); }
        }

        /// <summary>
        /// Opens and validates every component before any frame: a bad model file fails here with a message naming it.
        /// </summary>
        /// <param name="options">Pipeline settings.</param>
        /// <param name="depthModelPath">ONNX depth model, or null for depth learned from flow alone.</param>
        /// <param name="depthPreset">Preset of the depth model (Auto: its metadata, else its input shape).</param>
        /// <param name="flowModelPath">ONNX flow model, or null for the Vulkan flow.</param>
        public static ReconstructionPipeline CreatePipeline(ReconstructionOptions options, string? depthModelPath = null,
            DepthModelPreset depthPreset = DepthModelPreset.Auto, string? flowModelPath = null)
        {
            IDepthPrior? prior = null;
            IFlowEstimator? flow = null;
            IWindowSolver? solver = null;
            try
            {
                if (depthModelPath != null) prior = new OnnxDepthPrior(depthModelPath, depthPreset);
                flow = flowModelPath != null ? new OnnxFlowEstimator(flowModelPath) : new VulkanFlowEstimator();
                solver = CreateSolver();
                return new ReconstructionPipeline(options, flow, solver, prior, ownsComponents: true);
            }
            catch
            {
                solver?.Dispose(); flow?.Dispose(); prior?.Dispose();
                throw;
            }
        }
    }
}
