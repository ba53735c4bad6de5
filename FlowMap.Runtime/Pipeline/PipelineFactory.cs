using System;
using FlowMap.Depth;
using FlowMap.Flow;
using FlowMap.Gpu;
using FlowMap.Session;
using FlowMap.Solve;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// Builds the product's pipeline: one Vulkan device shared by the Vulkan optical flow and the GPU window solver,
    /// and the ONNX depth prior when a model is given (checked here, before any frame).
    /// </summary>
    public static class PipelineFactory
    {
        /// <param name="options">Mode, processing size, focal, solver and fusion settings.</param>
        /// <param name="depthModelPath">An ONNX monocular depth model, or null to learn depth from flow alone.</param>
        /// <param name="deviceName">Part of a Vulkan device name, or null for the best device ($FLOWMAP_DEVICE).</param>
        /// <param name="validation">Vulkan validation layer on (development and tests).</param>
        /// <exception cref="GpuUnavailableException">No usable Vulkan device; the message says what to install.</exception>
        public static ReconstructionPipeline Create(ReconstructionOptions options, string? depthModelPath = null, string? deviceName = null, bool validation = false)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            options.Validate();
            // The model first: a bad model is reported without touching the GPU.
            IDepthPrior? prior = depthModelPath == null ? null : new OnnxDepthPrior(depthModelPath);
            GpuContext? ctx = null;
            IFlowEstimator? flow = null;
            try
            {
                var gpu = GpuContextOptions.FromEnvironment();
                if (deviceName != null) gpu.DeviceName = deviceName;
                gpu.Validation = validation || Environment.GetEnvironmentVariable("FLOWMAP_VALIDATION") == "1";
                ctx = GpuContext.Create(gpu);
                // The pipeline disposes flow, then solver, then prior: the solver owns the shared device so it goes last.
                flow = new VulkanFlowEstimator(ctx, null, ownsContext: false);
                var solver = new OwningSolver(WindowSolver.Create(SolverBackend.Cpu), ctx);
                return new ReconstructionPipeline(options, flow, solver, prior, ownsComponents: true);
            }
            catch
            {
                flow?.Dispose();
                ctx?.Dispose();
                prior?.Dispose();
                throw;
            }
        }

        /// <summary>A solver that also disposes the device the pipeline's GPU stages share (disposed after the flow).</summary>
        private sealed class OwningSolver : IWindowSolver
        {
            private readonly IWindowSolver _inner;
            private readonly GpuContext _ctx;
            public OwningSolver(IWindowSolver inner, GpuContext ctx) { _inner = inner; _ctx = ctx; }
            public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, System.Threading.CancellationToken token = default) =>
                _inner.Solve(window, options, warmStart, token);
            public void Dispose() { _inner.Dispose(); _ctx.Dispose(); }
        }

        /// <summary>The live (online) pipeline a <see cref="ReconstructionSession"/> runs, from its options.</summary>
        public static ReconstructionPipeline CreateLive(SessionOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            options.Validate();
            var o = new ReconstructionOptions
            {
                Mode = ReconstructionMode.Online,
                FixedFocalInputPixels = options.FocalPixels,
                ProcessingSize = options.ProcessingWidth > 0 ? (options.ProcessingWidth, options.ProcessingHeight) : ((int, int)?)null,
            };
            return Create(o, options.DepthModelPath, options.Device, options.Validation);
        }
    }
}
