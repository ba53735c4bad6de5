using System;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using FlowMap.Depth;
using FlowMap.Flow;
using FlowMap.Gpu;
using FlowMap.Session;
using FlowMap.Solve;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// The product's components, assembled: the Vulkan flow (or an ONNX flow model) and the GPU window solver on one shared
    /// Vulkan device, and an optional ONNX depth prior. Every component is opened and checked before any frame.
    /// </summary>
    internal static class ReconstructionComponents
    {
        /// <summary>A window solver on its own device: the GPU one where a device is usable, else the CPU reference.</summary>
        public static IWindowSolver CreateSolver()
        {
            try { return WindowSolver.Create(SolverBackend.Gpu); }
            catch (InvalidOperationException) { return WindowSolver.Create(SolverBackend.Cpu); }
        }

        /// <summary>
        /// Opens and validates every component before any frame: a bad model file fails here with a message naming it, a
        /// machine without a Vulkan driver with a <see cref="GpuUnavailableException"/> saying what to install (with an ONNX
        /// flow model the solver then falls back to the CPU reference, as nothing else needs the device).
        /// </summary>
        /// <param name="options">Pipeline settings.</param>
        /// <param name="depthModelPath">ONNX depth model, or null for depth learned from flow alone.</param>
        /// <param name="depthPreset">Preset of the depth model (Auto: its metadata, else its input shape).</param>
        /// <param name="flowModelPath">ONNX flow model, or null for the Vulkan flow.</param>
        /// <param name="deviceName">Part of a Vulkan device name (no match is an error), or null for the best device (or the host's choice).</param>
        /// <param name="validation">Vulkan validation layer on (development and tests).</param>
        public static ReconstructionPipeline CreatePipeline(ReconstructionOptions options, string? depthModelPath = null,
            DepthModelPreset depthPreset = DepthModelPreset.Auto, string? flowModelPath = null, string? deviceName = null, bool validation = false)
        {
            var gpu = GpuContextOptions.Defaults.Clone();
            if (deviceName != null) gpu.DeviceName = deviceName;
            gpu.Validation |= validation;
            return CreatePipeline(options, depthModelPath, depthPreset, flowModelPath, gpu, DepthExecutionProvider.Auto);
        }

        /// <summary>As the public overload, with the GPU options and the depth model's execution provider given.</summary>
        internal static ReconstructionPipeline CreatePipeline(ReconstructionOptions options, string? depthModelPath, DepthModelPreset depthPreset,
            string? flowModelPath, GpuContextOptions gpu, DepthExecutionProvider depthProvider)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            options.Validate();
            IDepthPrior? prior = null;
            IFlowEstimator? flow = null, mappingFlow = null;
            IWindowSolver? solver = null;
            GpuContext? ctx = null;
            try
            {
                // Models first: a bad model is reported without touching the GPU.
                OnnxDepthPrior? onnx = null;
                if (depthModelPath != null) prior = onnx = new OnnxDepthPrior(depthModelPath, depthPreset, depthProvider);
                if (flowModelPath != null) flow = new OnnxFlowEstimator(flowModelPath);
                try { ctx = GpuContext.Create(gpu); }
                catch (GpuUnavailableException) when (flow != null) { ctx = null; }
                // One device for flow and solver. The pipeline disposes flow, then solver, then prior, so the solver owns
                // the device and releases it last.
                flow ??= new VulkanFlowEstimator(ctx!, null, ownsContext: false);
                // A mapping thread computes its keyframe pairs' flow with an estimator of its own (an estimator keeps its
                // GPU workspace between calls); an ONNX flow model's session is shared (its Run is thread-safe).
                if (options.MappingThread && options.Mode == ReconstructionMode.Online)
                    mappingFlow = flowModelPath == null ? new VulkanFlowEstimator(ctx!, null, ownsContext: false) : flow;
                // Without a mapping thread (offline over keyframes, online), the mapper's pairs at full resolution
                // (ReconstructionOptions.PreciseMappingFlow).
                else if (options.PreciseMappingFlow && flowModelPath == null && (options.Mode == ReconstructionMode.Online || options.OfflineKeyframesOnly))
                    mappingFlow = new VulkanFlowEstimator(ctx!, VulkanFlowOptions.Mapping(), ownsContext: false);
                solver = ctx != null ? new GpuWindowSolver(ctx, ownsContext: true) : WindowSolver.Create(SolverBackend.Cpu);
                var pipeline = new ReconstructionPipeline(options, flow, solver, prior, ownsComponents: true, mappingFlow);
                var notes = new ComponentNotes(onnx == null ? "none" : OnnxExecutionProviders.Name(onnx.Provider), onnx?.ProviderWarning);
                if (notes.Warning != null) gpu.Logger.LogWarning("{Warning}", notes.Warning);
                s_notes.Add(pipeline, notes);
                return pipeline;
            }
            catch
            {
                flow?.Dispose();
                if (mappingFlow != null && !ReferenceEquals(mappingFlow, flow)) mappingFlow.Dispose();
                if (solver != null) solver.Dispose(); else ctx?.Dispose();
                prior?.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The live (online) pipeline a <see cref="ReconstructionSession"/> runs, from its options; with
        /// <paramref name="mappingThread"/> its window solves run on a mapping thread (see <see cref="SessionMapsOnItsOwnThread"/>).
        /// </summary>
        public static ReconstructionPipeline CreateLivePipeline(SessionOptions options, bool mappingThread = false)
        {
            var o = LiveOptions(options, mappingThread);
            var gpu = GpuContextOptions.Defaults.Clone();
            if (options.Device != null) gpu.DeviceName = options.Device;
            gpu.Validation |= options.Validation;
            if (!(options.Logger is NullLogger)) gpu.Logger = options.Logger;
            return CreatePipeline(o, options.DepthModelPath, DepthModelPreset.Auto, null, gpu, options.DepthProvider);
        }

        /// <summary>
        /// A session maps on its own thread when it drops frames (live: tracking never waits for mapping). A lossless
        /// session (replay, `record --lossless`) maps at each keyframe's own frame, so the same frames give the same result.
        /// </summary>
        internal static bool SessionMapsOnItsOwnThread(SessionOptions options) => options.DropFrames;

        /// <summary>The reconstruction settings of a live session.</summary>
        internal static ReconstructionOptions LiveOptions(SessionOptions options, bool mappingThread = false)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            options.Validate();
            return new ReconstructionOptions
            {
                Mode = ReconstructionMode.Online,
                MappingThread = mappingThread,
                TrackingScale = options.TrackingScale,
                SparseTracking = options.SparseTracking,
                CullBacklog = options.CullBacklog,
                BootstrapTracking = true,
                // Sessions map on tracking's flow, lossless ones (replay, `record --lossless`) as live ones do.
                PreciseMappingFlow = false,
                FocalPixels = options.FocalPixels,
                ProcessingSize = options.ProcessingWidth > 0 ? (options.ProcessingWidth, options.ProcessingHeight) : ((int, int)?)null,
            };
        }

        /// <summary>What the components say about themselves beyond the pipeline's result: the depth provider and its fallback.</summary>
        internal sealed class ComponentNotes
        {
            public ComponentNotes(string depthProvider, string? warning) { DepthProvider = depthProvider; Warning = warning; }

            /// <summary>"none" without a depth model, else the execution provider it runs on ("cpu", "cuda", ...).</summary>
            public string DepthProvider { get; }

            /// <summary>Why the depth model is not on the provider asked for, or null.</summary>
            public string? Warning { get; }
        }

        private static readonly ConditionalWeakTable<ReconstructionPipeline, ComponentNotes> s_notes = new ConditionalWeakTable<ReconstructionPipeline, ComponentNotes>();

        /// <summary>The notes of a pipeline made here; for one built otherwise: no depth provider known, no warning.</summary>
        internal static ComponentNotes Notes(ReconstructionPipeline pipeline) =>
            s_notes.TryGetValue(pipeline, out var n) ? n : new ComponentNotes("none", null);
    }
}
