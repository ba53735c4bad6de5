using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Silk.NET.Core;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace FlowMap.Gpu
{
    /// <summary>Options for creating a <see cref="GpuContext"/>.</summary>
    internal sealed class GpuContextOptions
    {
        /// <summary>Enable VK_LAYER_KHRONOS_validation and the debug messenger.</summary>
        public bool Validation { get; set; }

        /// <summary>Throw <see cref="VulkanValidationException"/> from Wait/Dispose when the layer reported errors.</summary>
        public bool FailOnValidationError { get; set; } = true;

        /// <summary>Part of a device name (case-insensitive) to use; no match is an error. Null: the best device.</summary>
        public string? DeviceName { get; set; }

        /// <summary>Instance extensions a client needs (e.g. the window surface extensions from GLFW).</summary>
        public IReadOnlyList<string> InstanceExtensions { get; set; } = Array.Empty<string>();

        /// <summary>Device extensions a client needs (e.g. VK_KHR_swapchain).</summary>
        public IReadOnlyList<string> DeviceExtensions { get; set; } = Array.Empty<string>();

        /// <summary>
        /// Treat device memory as not host-visible: every storage buffer lives in device-local memory behind staging
        /// copies, the path a discrete GPU takes. Lets a host-visible device (lavapipe, integrated GPUs) run and test it.
        /// </summary>
        public bool ForceStaging { get; set; }

        /// <summary>Where the GPU layer logs (validation warnings, kernel profiles at Trace level). Default: nowhere.</summary>
        public ILogger Logger { get; set; } = NullLogger.Instance;

        /// <summary>
        /// The options of contexts the library opens by itself (a flow estimator, solver or synthetic renderer created
        /// without a context). The host sets them once at start-up: the flowmap CLI from its environment variables
        /// (FLOWMAP_DEVICE, FLOWMAP_VALIDATION, FLOWMAP_FORCE_STAGING), the tests likewise. The library reads no
        /// environment variable itself.
        /// </summary>
        public static GpuContextOptions Defaults { get; set; } = new GpuContextOptions();

        /// <summary>A copy (options are mutable; each context gets its own).</summary>
        public GpuContextOptions Clone() => (GpuContextOptions)MemberwiseClone();
    }

    /// <summary>
    /// Owns the Vulkan instance, the chosen physical device, the logical device, its one compute queue, the
    /// command pool and the pipeline cache. Everything else is created from a context and destroyed before it.
    /// Destruction of resources still in use by the GPU is deferred until the submissions that use them finish.
    /// </summary>
    internal sealed unsafe class GpuContext : VulkanDeviceOwner, IDisposable
    {
        public GpuDeviceInfo Info { get; }
        /// <summary>The host's logger (<see cref="GpuContextOptions.Logger"/>).</summary>
        public ILogger Logger { get; } = NullLogger.Instance;
        public bool FailOnValidationError { get; set; }
        public float TimestampPeriodNs { get; }
        public bool TimestampsSupported { get; }
        /// <summary>Every storage buffer takes the staged (device-local) path; see <see cref="GpuContextOptions.ForceStaging"/>.</summary>
        public bool ForceStaging { get; }

        private readonly object _queueLock = new object();

        // Deferred destruction: (submission serial at the time of release, destroy action).
        private readonly List<(long Serial, Action Destroy)> _retired = new List<(long, Action)>();
        private long _submittedSerial;
        private long _completedSerial;
        // Each kernel built once, by the first thread that asks for it; the dictionary's lock is held only to find or add
        // the entry, never while a pipeline is built (see Kernel).
        private readonly Dictionary<string, Lazy<ComputeKernel>> _kernels = new Dictionary<string, Lazy<ComputeKernel>>();
        private int _liveHandles;
        private long _bufferBytes, _peakBufferBytes;
        private bool _disposed;

        /// <summary>Number of native handles created through this context that are not destroyed yet.</summary>
        public int LiveHandles => Volatile.Read(ref _liveHandles);

        /// <summary>Bytes in GPU buffers now / at most since creation (or the last <see cref="ResetPeakBufferBytes"/>).</summary>
        public long BufferBytes => Interlocked.Read(ref _bufferBytes);
        public long PeakBufferBytes => Interlocked.Read(ref _peakBufferBytes);
        public void ResetPeakBufferBytes() => Interlocked.Exchange(ref _peakBufferBytes, BufferBytes);

        internal void TrackHandle(int delta) => Interlocked.Add(ref _liveHandles, delta);

        internal void TrackBufferBytes(long delta)
        {
            long now = Interlocked.Add(ref _bufferBytes, delta);
            long peak;
            while (now > (peak = Interlocked.Read(ref _peakBufferBytes)))
                Interlocked.CompareExchange(ref _peakBufferBytes, now, peak);
        }

        public static GpuContext Create(GpuContextOptions? options = null)
        {
            options ??= GpuContextOptions.Defaults.Clone();
            return new GpuContext(VulkanSetup.LoadApi(), options);
        }

        private GpuContext(Vk vk, GpuContextOptions options) : base(vk)
        {
            FailOnValidationError = options.FailOnValidationError;
            ForceStaging = options.ForceStaging;

            // 1. Instance (with the validation layer and debug messenger when asked), through the shared set-up.
            ValidationEnabled = options.Validation;
            Instance = VulkanSetup.CreateInstance(vk, "FlowMap", options.Validation, options.InstanceExtensions);
            try
            {
                Logger = options.Logger ?? NullLogger.Instance;
                if (options.Validation)
                {
                    var logger = Logger;
                    Messenger = new DebugMessenger(vk, Instance) { OnWarning = m => logger.LogDebug("Vulkan validation warning: {Message}", m) };
                }

                // 2. Physical device: a name filter wins (no match is an error), else discrete, integrated, virtual, CPU;
                //    a device without a compute queue is not usable.
                var devices = VulkanSetup.EnumeratePhysicalDevices(vk, Instance);
                var infos = devices.Select(d => VulkanSetup.Describe(vk, d)).ToList();
                var families = devices.Select(d => VulkanSetup.QueueFamilies(vk, d)).ToList();
                var unusable = families.Select(f => VulkanSetup.FindQueueFamily(f, QueueFlags.ComputeBit) < 0 ? "no compute queue" : null).ToList();
                int chosen = VulkanSetup.ChooseDevice(infos, options.DeviceName, unusable);
                PhysicalDevice = devices[chosen];
                Info = infos[chosen];

                vk.GetPhysicalDeviceMemoryProperties(PhysicalDevice, out var memProps);
                MemoryProperties = memProps;
                vk.GetPhysicalDeviceProperties(PhysicalDevice, out var props);
                TimestampPeriodNs = props.Limits.TimestampPeriod;

                // 3. A queue family with compute (graphics+compute preferred: the viewer presents from the same queue).
                int family = VulkanSetup.FindQueueFamily(families[chosen], QueueFlags.ComputeBit | QueueFlags.GraphicsBit);
                if (family < 0) family = VulkanSetup.FindQueueFamily(families[chosen], QueueFlags.ComputeBit);
                QueueFamily = (uint)family;
                TimestampsSupported = families[chosen][family].TimestampValidBits > 0 && props.Limits.TimestampComputeAndGraphics;

                vk.GetPhysicalDeviceFeatures(PhysicalDevice, out var supported);
                var features = new PhysicalDeviceFeatures
                {
                    ShaderFloat64 = supported.ShaderFloat64,
                    ShaderInt64 = supported.ShaderInt64,
                    LargePoints = supported.LargePoints,
                    FillModeNonSolid = supported.FillModeNonSolid,
                    WideLines = supported.WideLines,
                };
                Device = VulkanSetup.CreateDevice(vk, PhysicalDevice, QueueFamily, features, options.DeviceExtensions);
                vk.GetDeviceQueue(Device, QueueFamily, 0, out var queue);
                Queue = queue;

                CommandPool = VulkanSetup.CreateCommandPool(vk, Device, QueueFamily);
            }
            catch
            {
                DestroyCore();
                throw;
            }
        }

        /// <summary>Validation warnings seen so far (not errors), drained.</summary>
        public List<string> DrainValidationWarnings() => Messenger?.TakeWarnings() ?? new List<string>();

        /// <summary>Throws if the validation layer reported an error since the last call; clears them.</summary>
        public void ThrowIfValidationErrors()
        {
            var errors = TakeValidationErrors();
            if (errors.Count == 0) return;
            var sb = new StringBuilder();
            foreach (var e in errors) sb.AppendLine(e);
            throw new VulkanValidationException(sb.ToString());
        }

        internal void CheckValidation()
        {
            if (FailOnValidationError) ThrowIfValidationErrors();
        }

        // ---- kernels ----

        /// <summary>
        /// A compute pipeline for an embedded shader, built once per context and specialization. A pipeline is built outside
        /// the context's lock: a driver may compile the shader there (tens to hundreds of milliseconds), and a live session's
        /// tracking thread, asking for kernels it already has, must not wait behind the mapping thread building its own
        /// (FlowMap.Tests/Issues/KernelLookupWaitedForAnotherThreadsBuild.cs).
        /// Threads asking for the same kernel at once wait for the one build; a build that fails is not kept (the next asks again).
        /// </summary>
        internal ComputeKernel Kernel(string shaderName, uint localX = 16, uint localY = 16, uint localZ = 1)
        {
            string key = KernelKey(shaderName, localX, localY, localZ);
            Lazy<ComputeKernel> entry;
            lock (_kernels)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(GpuContext));
                if (_kernels.TryGetValue(key, out var found)) entry = found;
                else _kernels[key] = entry = new Lazy<ComputeKernel>(() =>
                    {
                        KernelBuilding?.Invoke(key);
                        return new ComputeKernel(this, shaderName, localX, localY, localZ);
                    }, LazyThreadSafetyMode.ExecutionAndPublication);
            }
            try { return entry.Value; }
            catch
            {
                lock (_kernels)
                    if (_kernels.TryGetValue(key, out var current) && ReferenceEquals(current, entry)) _kernels.Remove(key);
                throw;
            }
        }

        internal static string KernelKey(string shaderName, uint localX, uint localY, uint localZ) => $"{shaderName}/{localX}x{localY}x{localZ}";

        /// <summary>
        /// Builds the given kernels now (those not built yet), on up to <see cref="Environment.ProcessorCount"/> threads, so
        /// that none is built while frames stream (<see cref="Kernels.KernelCatalog.Reconstruction"/>).
        /// </summary>
        internal void Prebuild(IEnumerable<(string Shader, uint X, uint Y, uint Z)> kernels)
        {
            var list = kernels.ToList();
            System.Threading.Tasks.Parallel.ForEach(list, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) },
                k => Kernel(k.Shader, k.X, k.Y, k.Z));
        }

        /// <summary>The keys ("shader/XxYxZ") of the kernels this context has built, in order.</summary>
        internal IReadOnlyList<string> KernelKeys
        {
            get { lock (_kernels) return _kernels.Where(kv => kv.Value.IsValueCreated).Select(kv => kv.Key).ToList(); }
        }

        /// <summary>The keys of the kernels this context has built and some batch has dispatched.</summary>
        internal IReadOnlyList<string> DispatchedKernelKeys
        {
            get { lock (_kernels) return _kernels.Where(kv => kv.Value.IsValueCreated && kv.Value.Value.Dispatched).Select(kv => kv.Key).ToList(); }
        }

        /// <summary>Tests: called with the kernel's key on the building thread before a pipeline is built.</summary>
        internal Action<string>? KernelBuilding { get; set; }

        // ---- submission ----

        /// <summary>
        /// Marks the GPU work recorded on the calling thread until the scope is disposed as background work (a live session's
        /// mapping): its batches are submitted in chunks of about <paramref name="chunkMilliseconds"/> each, waited for one
        /// by one, so that another thread's batch (tracking) waits behind at most one chunk on the device's queue instead of
        /// a whole solve. The chunk's dispatch count follows the measured time per dispatch (short chunks on a slow device
        /// such as lavapipe, long ones on a GPU). Results do not change: chunks run in order with a barrier between them.
        /// </summary>
        public static IDisposable Background(double chunkMilliseconds = 15) => new BackgroundScope(chunkMilliseconds);

        /// <summary>The calling thread's background scope, or null.</summary>
        internal static BackgroundScope? CurrentBackground => t_background;

        [ThreadStatic] private static BackgroundScope? t_background;

        /// <summary>See <see cref="Background"/>: the chunk budget and the running estimate of milliseconds per dispatch.</summary>
        internal sealed class BackgroundScope : IDisposable
        {
            private readonly BackgroundScope? _outer;
            private double _msPerDispatch = double.NaN;

            public BackgroundScope(double chunkMilliseconds)
            {
                if (!(chunkMilliseconds > 0)) throw new ArgumentOutOfRangeException(nameof(chunkMilliseconds));
                ChunkMilliseconds = chunkMilliseconds;
                _outer = t_background;
                t_background = this;
            }

            public double ChunkMilliseconds { get; }

            /// <summary>Chunks submitted so far (tests, benchmarks).</summary>
            public int Chunks { get; private set; }

            /// <summary>Dispatches per chunk: 4 until a chunk was timed, then the budget over the time per dispatch (1 to 4096).</summary>
            public int ChunkDispatches => double.IsNaN(_msPerDispatch) ? 4 : (int)Math.Clamp(ChunkMilliseconds / Math.Max(_msPerDispatch, 1e-4), 1, 4096);

            /// <summary>A chunk of <paramref name="dispatches"/> commands took <paramref name="ms"/> from submit to fence.</summary>
            public void Observe(int dispatches, double ms)
            {
                Chunks++;
                if (dispatches <= 0) return;
                double per = ms / dispatches;
                _msPerDispatch = double.IsNaN(_msPerDispatch) ? per : 0.7 * _msPerDispatch + 0.3 * per;
            }

            public void Dispose() { if (t_background == this) t_background = _outer; }
        }

        /// <summary>Starts recording a batch of dispatches; one submit, barriers only where buffers are shared.</summary>
        public CommandBatch BeginBatch(string label = "batch", bool timestamps = false) { var b = new CommandBatch(this, label); return timestamps ? b.WithTimestamps() : b; }

        internal long Submit(SubmitInfo* submit, Fence fence)
        {
            lock (_queueLock)
            {
                Vk.QueueSubmit(Queue, 1, submit, fence).Check("vkQueueSubmit");
                return ++_submittedSerial;
            }
        }

        internal void MarkCompleted(long serial)
        {
            List<Action>? run = null;
            lock (_retired)
            {
                if (serial > _completedSerial) _completedSerial = serial;
                for (int i = _retired.Count - 1; i >= 0; i--)
                {
                    if (_retired[i].Serial <= _completedSerial)
                    {
                        (run ??= new List<Action>()).Add(_retired[i].Destroy);
                        _retired.RemoveAt(i);
                    }
                }
            }
            if (run != null)
                foreach (var a in run) a();
        }

        /// <summary>
        /// Destroys a resource once every submission made so far has completed (now, if none is pending).
        /// </summary>
        internal void Retire(Action destroy)
        {
            bool now;
            lock (_retired)
            {
                long serial;
                lock (_queueLock) serial = _submittedSerial;
                now = serial <= _completedSerial;
                if (!now) _retired.Add((serial, destroy));
            }
            if (now) destroy();
        }

        /// <summary>Waits for the whole device to go idle and runs every deferred destruction.</summary>
        public void WaitIdle()
        {
            lock (_queueLock)
                Vk.DeviceWaitIdle(Device).Check("vkDeviceWaitIdle");
            MarkCompleted(long.MaxValue - 1);
            lock (_retired) _completedSerial = _submittedSerial;
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (Device.Handle != IntPtr.Zero)
            {
                WaitIdle();
                lock (_kernels)
                {
                    foreach (var k in _kernels.Values.Reverse()) if (k.IsValueCreated) k.Value.Dispose();
                    _kernels.Clear();
                }
            }
            DestroyCore();
            if (FailOnValidationError) ThrowIfValidationErrors();
        }

        private void DestroyCore()
        {
            DestroyVulkan();
        }

        /// <summary>Lists the Vulkan devices on this machine without creating a device (for `flowmap doctor`).</summary>
        public static IReadOnlyList<GpuDeviceInfo> EnumerateDevices()
        {
            var vk = VulkanSetup.LoadApi();
            var instance = VulkanSetup.CreateInstance(vk, "FlowMap", validation: false, Array.Empty<string>());
            try
            {
                return VulkanSetup.EnumeratePhysicalDevices(vk, instance).Select(d => VulkanSetup.Describe(vk, d)).ToList();
            }
            finally
            {
                vk.DestroyInstance(instance, null);
            }
        }
    }
}
