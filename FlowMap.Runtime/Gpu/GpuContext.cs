using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
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

        /// <summary>Substring of a device name to prefer (case-insensitive). Defaults to $FLOWMAP_DEVICE.</summary>
        public string? DeviceName { get; set; } = Environment.GetEnvironmentVariable("FLOWMAP_DEVICE");

        /// <summary>Instance extensions a client needs (e.g. the window surface extensions from GLFW).</summary>
        public IReadOnlyList<string> InstanceExtensions { get; set; } = Array.Empty<string>();

        /// <summary>Device extensions a client needs (e.g. VK_KHR_swapchain).</summary>
        public IReadOnlyList<string> DeviceExtensions { get; set; } = Array.Empty<string>();

        /// <summary>
        /// Treat device memory as not host-visible: every storage buffer lives in device-local memory behind staging
        /// copies, the path a discrete GPU takes. Lets a host-visible device (lavapipe, integrated GPUs) run and test it.
        /// </summary>
        public bool ForceStaging { get; set; }

        public static GpuContextOptions FromEnvironment() => new GpuContextOptions
        {
            Validation = Environment.GetEnvironmentVariable("FLOWMAP_VALIDATION") == "1",
            ForceStaging = Environment.GetEnvironmentVariable("FLOWMAP_FORCE_STAGING") == "1",
        };
    }

    /// <summary>
    /// Owns the Vulkan instance, the chosen physical device, the logical device, its one compute queue, the
    /// command pool and the pipeline cache. Everything else is created from a context and destroyed before it.
    /// Destruction of resources still in use by the GPU is deferred until the submissions that use them finish.
    /// </summary>
    internal sealed unsafe class GpuContext : IDisposable
    {
        internal const string ValidationLayer = "VK_LAYER_KHRONOS_validation";

        public Vk Vk { get; }
        public Instance Instance { get; }
        public PhysicalDevice PhysicalDevice { get; }
        public Device Device { get; }
        public Queue Queue { get; }
        public uint QueueFamily { get; }
        public GpuDeviceInfo Info { get; }
        public bool ValidationEnabled { get; }
        public bool FailOnValidationError { get; set; }
        public PhysicalDeviceMemoryProperties MemoryProperties { get; }
        public float TimestampPeriodNs { get; }
        public bool TimestampsSupported { get; }
        /// <summary>Every storage buffer takes the staged (device-local) path; see <see cref="GpuContextOptions.ForceStaging"/>.</summary>
        public bool ForceStaging { get; }

        internal CommandPool CommandPool { get; }
        private readonly object _queueLock = new object();
        private readonly ConcurrentQueue<string> _validationErrors = new ConcurrentQueue<string>();
        private readonly ConcurrentQueue<string> _validationWarnings = new ConcurrentQueue<string>();
        private DebugUtilsMessengerEXT _messenger;
        private PfnDebugUtilsMessengerCallbackEXT _callbackPfn;
        private static readonly DebugUtilsMessengerCallbackFunctionEXT s_callback = OnDebugMessage;
        private static readonly ConcurrentDictionary<IntPtr, GpuContext> s_contexts = new ConcurrentDictionary<IntPtr, GpuContext>();
        private readonly GCHandle _selfHandle;

        // Deferred destruction: (submission serial at the time of release, destroy action).
        private readonly List<(long Serial, Action Destroy)> _retired = new List<(long, Action)>();
        private long _submittedSerial;
        private long _completedSerial;
        private readonly Dictionary<string, ComputeKernel> _kernels = new Dictionary<string, ComputeKernel>();
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
            options ??= GpuContextOptions.FromEnvironment();
            Vk vk;
            try
            {
                vk = Vk.GetApi();
            }
            catch (Exception e)
            {
                throw new GpuUnavailableException(
                    "No Vulkan loader (libvulkan.so.1) was found. Install a Vulkan driver: on Debian/Ubuntu " +
                    "`apt-get install libvulkan1 mesa-vulkan-drivers` (lavapipe runs on the CPU when there is no GPU).", e);
            }
            return new GpuContext(vk, options);
        }

        private GpuContext(Vk vk, GpuContextOptions options)
        {
            Vk = vk;
            _selfHandle = GCHandle.Alloc(this, GCHandleType.Weak);
            FailOnValidationError = options.FailOnValidationError;
            ForceStaging = options.ForceStaging;

            // 1. Instance (with the validation layer and debug messenger when asked and available).
            var layers = new List<string>();
            var extensions = new List<string>(options.InstanceExtensions);
            if (options.Validation)
            {
                if (!InstanceLayerNames(vk).Contains(ValidationLayer))
                    throw new GpuUnavailableException(
                        "Validation was requested but VK_LAYER_KHRONOS_validation is not installed: apt-get install vulkan-validationlayers");
                layers.Add(ValidationLayer);
                extensions.Add("VK_EXT_debug_utils");
            }
            ValidationEnabled = options.Validation;
            Instance = CreateInstance(vk, layers, extensions);
            try
            {
                if (options.Validation)
                    _messenger = CreateMessenger();

                // 2. Physical device: discrete, then integrated, then virtual, then CPU; a name filter wins.
                var devices = EnumeratePhysicalDevices(vk, Instance);
                if (devices.Count == 0)
                    throw new GpuUnavailableException(
                        "The Vulkan loader found no device. Install a driver: `apt-get install mesa-vulkan-drivers` " +
                        "(lavapipe, a CPU device) or your GPU vendor's driver.");
                var infos = devices.Select(d => Describe(vk, d)).ToList();
                int chosen = ChooseDevice(infos, options.DeviceName);
                PhysicalDevice = devices[chosen];
                Info = infos[chosen];

                vk.GetPhysicalDeviceMemoryProperties(PhysicalDevice, out var memProps);
                MemoryProperties = memProps;
                vk.GetPhysicalDeviceProperties(PhysicalDevice, out var props);
                TimestampPeriodNs = props.Limits.TimestampPeriod;

                // 3. A queue family with compute; the logical device.
                uint familyCount = 0;
                vk.GetPhysicalDeviceQueueFamilyProperties(PhysicalDevice, &familyCount, null);
                var families = new QueueFamilyProperties[familyCount];
                fixed (QueueFamilyProperties* pf = families)
                    vk.GetPhysicalDeviceQueueFamilyProperties(PhysicalDevice, &familyCount, pf);
                int family = -1;
                for (int i = 0; i < families.Length; i++)
                {
                    // Prefer graphics+compute (the viewer presents from the same queue).
                    if ((families[i].QueueFlags & (QueueFlags.ComputeBit | QueueFlags.GraphicsBit)) == (QueueFlags.ComputeBit | QueueFlags.GraphicsBit)) { family = i; break; }
                }
                if (family < 0)
                    for (int i = 0; i < families.Length; i++)
                        if ((families[i].QueueFlags & QueueFlags.ComputeBit) != 0) { family = i; break; }
                if (family < 0)
                    throw new GpuUnavailableException($"Vulkan device '{Info.Name}' has no compute queue.");
                QueueFamily = (uint)family;
                TimestampsSupported = families[family].TimestampValidBits > 0 && props.Limits.TimestampComputeAndGraphics;

                Device = CreateDevice(options.DeviceExtensions);
                vk.GetDeviceQueue(Device, QueueFamily, 0, out var queue);
                Queue = queue;

                var poolInfo = new CommandPoolCreateInfo
                {
                    SType = StructureType.CommandPoolCreateInfo,
                    QueueFamilyIndex = QueueFamily,
                    Flags = CommandPoolCreateFlags.ResetCommandBufferBit,
                };
                CommandPool pool;
                vk.CreateCommandPool(Device, &poolInfo, null, &pool).Check("vkCreateCommandPool");
                CommandPool = pool;
            }
            catch
            {
                DestroyCore();
                throw;
            }
        }

        private static Instance CreateInstance(Vk vk, List<string> layers, List<string> extensions)
        {
            var appName = (byte*)SilkMarshal.StringToPtr("FlowMap");
            var ppLayers = (byte**)SilkMarshal.StringArrayToPtr(layers);
            var ppExt = (byte**)SilkMarshal.StringArrayToPtr(extensions);
            try
            {
                var app = new ApplicationInfo
                {
                    SType = StructureType.ApplicationInfo,
                    PApplicationName = appName,
                    ApplicationVersion = Vk.MakeVersion(0, 1, 0),
                    PEngineName = appName,
                    EngineVersion = Vk.MakeVersion(0, 1, 0),
                    ApiVersion = Vk.Version12,
                };
                var info = new InstanceCreateInfo
                {
                    SType = StructureType.InstanceCreateInfo,
                    PApplicationInfo = &app,
                    EnabledLayerCount = (uint)layers.Count,
                    PpEnabledLayerNames = ppLayers,
                    EnabledExtensionCount = (uint)extensions.Count,
                    PpEnabledExtensionNames = ppExt,
                };
                Instance instance;
                var r = vk.CreateInstance(&info, null, &instance);
                if (r == Result.ErrorIncompatibleDriver || r == Result.ErrorInitializationFailed)
                    throw new GpuUnavailableException(
                        $"vkCreateInstance failed with {r}: no usable Vulkan driver. Install one: `apt-get install mesa-vulkan-drivers` " +
                        "(lavapipe, a CPU device) or your GPU vendor's driver.");
                r.Check("vkCreateInstance");
                return instance;
            }
            finally
            {
                SilkMarshal.Free((nint)appName);
                SilkMarshal.Free((nint)ppLayers);
                SilkMarshal.Free((nint)ppExt);
            }
        }

        internal static HashSet<string> InstanceLayerNames(Vk vk)
        {
            uint count = 0;
            vk.EnumerateInstanceLayerProperties(&count, null).Check("vkEnumerateInstanceLayerProperties");
            var props = new LayerProperties[count];
            fixed (LayerProperties* p = props)
                vk.EnumerateInstanceLayerProperties(&count, p).Check("vkEnumerateInstanceLayerProperties");
            var names = new HashSet<string>();
            for (int i = 0; i < props.Length; i++)
                fixed (byte* n = props[i].LayerName)
                    names.Add(SilkMarshal.PtrToString((nint)n) ?? "");
            return names;
        }

        private static List<PhysicalDevice> EnumeratePhysicalDevices(Vk vk, Instance instance)
        {
            uint count = 0;
            vk.EnumeratePhysicalDevices(instance, &count, null).Check("vkEnumeratePhysicalDevices");
            var devices = new PhysicalDevice[count];
            if (count > 0)
                fixed (PhysicalDevice* p = devices)
                    vk.EnumeratePhysicalDevices(instance, &count, p).Check("vkEnumeratePhysicalDevices");
            return devices.ToList();
        }

        internal static GpuDeviceInfo Describe(Vk vk, PhysicalDevice device)
        {
            vk.GetPhysicalDeviceProperties(device, out var p);
            vk.GetPhysicalDeviceMemoryProperties(device, out var mem);
            string name = SilkMarshal.PtrToString((nint)p.DeviceName) ?? "?";
            long heapBytes = 0;
            for (int i = 0; i < mem.MemoryHeapCount; i++)
                if ((mem.MemoryHeaps[i].Flags & MemoryHeapFlags.DeviceLocalBit) != 0)
                    heapBytes = Math.Max(heapBytes, (long)mem.MemoryHeaps[i].Size);
            bool hostVisibleDeviceLocal = false;
            for (int i = 0; i < mem.MemoryTypeCount; i++)
            {
                var f = mem.MemoryTypes[i].PropertyFlags;
                if ((f & MemoryPropertyFlags.DeviceLocalBit) != 0 && (f & MemoryPropertyFlags.HostVisibleBit) != 0)
                    hostVisibleDeviceLocal = true;
            }
            var sub = new PhysicalDeviceSubgroupProperties { SType = StructureType.PhysicalDeviceSubgroupProperties };
            var p2 = new PhysicalDeviceProperties2 { SType = StructureType.PhysicalDeviceProperties2, PNext = &sub };
            vk.GetPhysicalDeviceProperties2(device, &p2);
            var l = p.Limits;
            return new GpuDeviceInfo(
                name,
                p.DeviceType switch
                {
                    PhysicalDeviceType.DiscreteGpu => GpuDeviceKind.DiscreteGpu,
                    PhysicalDeviceType.IntegratedGpu => GpuDeviceKind.IntegratedGpu,
                    PhysicalDeviceType.VirtualGpu => GpuDeviceKind.VirtualGpu,
                    PhysicalDeviceType.Cpu => GpuDeviceKind.Cpu,
                    _ => GpuDeviceKind.Other,
                },
                $"{p.ApiVersion >> 22}.{(p.ApiVersion >> 12) & 0x3ff}.{p.ApiVersion & 0xfff}",
                l.MaxComputeWorkGroupInvocations,
                l.MaxComputeSharedMemorySize,
                l.MaxPushConstantsSize,
                l.MaxStorageBufferRange,
                sub.SubgroupSize,
                heapBytes,
                hostVisibleDeviceLocal,
                l.TimestampComputeAndGraphics);
        }

        /// <summary>Ranks devices: a name match first, then discrete, integrated, virtual, CPU.</summary>
        internal static int ChooseDevice(IReadOnlyList<GpuDeviceInfo> devices, string? nameFilter)
        {
            if (!string.IsNullOrWhiteSpace(nameFilter))
            {
                for (int i = 0; i < devices.Count; i++)
                    if (devices[i].Name.IndexOf(nameFilter, StringComparison.OrdinalIgnoreCase) >= 0)
                        return i;
                throw new GpuUnavailableException(
                    $"No Vulkan device matches FLOWMAP_DEVICE='{nameFilter}'. Devices found: {string.Join(", ", devices.Select(d => d.Name))}.");
            }
            int Rank(GpuDeviceKind k) => k switch
            {
                GpuDeviceKind.DiscreteGpu => 0,
                GpuDeviceKind.IntegratedGpu => 1,
                GpuDeviceKind.VirtualGpu => 2,
                GpuDeviceKind.Cpu => 3,
                _ => 4,
            };
            int best = 0;
            for (int i = 1; i < devices.Count; i++)
                if (Rank(devices[i].Kind) < Rank(devices[best].Kind)) best = i;
            return best;
        }

        private Device CreateDevice(IReadOnlyList<string> deviceExtensions)
        {
            float priority = 1f;
            var queueInfo = new DeviceQueueCreateInfo
            {
                SType = StructureType.DeviceQueueCreateInfo,
                QueueFamilyIndex = QueueFamily,
                QueueCount = 1,
                PQueuePriorities = &priority,
            };
            Vk.GetPhysicalDeviceFeatures(PhysicalDevice, out var supported);
            var features = new PhysicalDeviceFeatures
            {
                ShaderFloat64 = supported.ShaderFloat64,
                ShaderInt64 = supported.ShaderInt64,
                LargePoints = supported.LargePoints,
                FillModeNonSolid = supported.FillModeNonSolid,
                WideLines = supported.WideLines,
            };
            var ppExt = (byte**)SilkMarshal.StringArrayToPtr(deviceExtensions.ToArray());
            try
            {
                var info = new DeviceCreateInfo
                {
                    SType = StructureType.DeviceCreateInfo,
                    QueueCreateInfoCount = 1,
                    PQueueCreateInfos = &queueInfo,
                    PEnabledFeatures = &features,
                    EnabledExtensionCount = (uint)deviceExtensions.Count,
                    PpEnabledExtensionNames = ppExt,
                };
                Device device;
                Vk.CreateDevice(PhysicalDevice, &info, null, &device).Check("vkCreateDevice");
                return device;
            }
            finally
            {
                SilkMarshal.Free((nint)ppExt);
            }
        }

        private DebugUtilsMessengerEXT CreateMessenger()
        {
            var create = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerCreateInfoEXT*, AllocationCallbacks*, DebugUtilsMessengerEXT*, Result>)
                (IntPtr)Vk.GetInstanceProcAddr(Instance, "vkCreateDebugUtilsMessengerEXT");
            if (create == null)
                throw new VulkanException("vkGetInstanceProcAddr(vkCreateDebugUtilsMessengerEXT) returned null");
            s_contexts[GCHandle.ToIntPtr(_selfHandle)] = this;
            _callbackPfn = new PfnDebugUtilsMessengerCallbackEXT(s_callback);
            var info = new DebugUtilsMessengerCreateInfoEXT
            {
                SType = StructureType.DebugUtilsMessengerCreateInfoExt,
                MessageSeverity = DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt | DebugUtilsMessageSeverityFlagsEXT.WarningBitExt,
                MessageType = DebugUtilsMessageTypeFlagsEXT.GeneralBitExt | DebugUtilsMessageTypeFlagsEXT.ValidationBitExt |
                              DebugUtilsMessageTypeFlagsEXT.PerformanceBitExt,
                PfnUserCallback = _callbackPfn,
                PUserData = (void*)GCHandle.ToIntPtr(_selfHandle),
            };
            DebugUtilsMessengerEXT messenger;
            create(Instance, &info, null, &messenger).Check("vkCreateDebugUtilsMessengerEXT");
            return messenger;
        }

        private static uint OnDebugMessage(DebugUtilsMessageSeverityFlagsEXT severity, DebugUtilsMessageTypeFlagsEXT types,
            DebugUtilsMessengerCallbackDataEXT* data, void* user)
        {
            string text = SilkMarshal.PtrToString((nint)data->PMessage) ?? "";
            if (s_contexts.TryGetValue((IntPtr)user, out var ctx))
            {
                if ((severity & DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt) != 0)
                    ctx._validationErrors.Enqueue(text);
                else if ((types & DebugUtilsMessageTypeFlagsEXT.ValidationBitExt) != 0)
                    ctx._validationWarnings.Enqueue(text);
            }
            return 0;
        }

        /// <summary>Validation warnings seen so far (not errors), drained.</summary>
        public List<string> DrainValidationWarnings()
        {
            var list = new List<string>();
            while (_validationWarnings.TryDequeue(out var w)) list.Add(w);
            return list;
        }

        /// <summary>Throws if the validation layer reported an error since the last call; clears them.</summary>
        public void ThrowIfValidationErrors()
        {
            if (_validationErrors.IsEmpty) return;
            var sb = new StringBuilder();
            while (_validationErrors.TryDequeue(out var e)) sb.AppendLine(e);
            throw new VulkanValidationException(sb.ToString());
        }

        internal void CheckValidation()
        {
            if (FailOnValidationError) ThrowIfValidationErrors();
        }

        // ---- memory ----

        /// <summary>Finds a memory type among <paramref name="typeBits"/> with all <paramref name="required"/> flags.</summary>
        internal int FindMemoryType(uint typeBits, MemoryPropertyFlags required)
        {
            var mp = MemoryProperties;
            for (int i = 0; i < mp.MemoryTypeCount; i++)
                if ((typeBits & (1u << i)) != 0 && (mp.MemoryTypes[i].PropertyFlags & required) == required)
                    return i;
            return -1;
        }

        // ---- kernels ----

        /// <summary>A compute pipeline for an embedded shader, built once per context and specialization.</summary>
        internal ComputeKernel Kernel(string shaderName, uint localX = 16, uint localY = 16, uint localZ = 1)
        {
            string key = $"{shaderName}/{localX}x{localY}x{localZ}";
            lock (_kernels)
            {
                if (!_kernels.TryGetValue(key, out var k))
                {
                    k = new ComputeKernel(this, shaderName, localX, localY, localZ);
                    _kernels[key] = k;
                }
                return k;
            }
        }

        // ---- submission ----

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
                    foreach (var k in _kernels.Values.Reverse()) k.Dispose();
                    _kernels.Clear();
                }
            }
            DestroyCore();
            if (FailOnValidationError) ThrowIfValidationErrors();
        }

        private void DestroyCore()
        {
            if (CommandPool.Handle != 0) Vk.DestroyCommandPool(Device, CommandPool, null);
            if (Device.Handle != IntPtr.Zero) Vk.DestroyDevice(Device, null);
            if (_messenger.Handle != 0)
            {
                var destroy = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerEXT, AllocationCallbacks*, void>)
                    (IntPtr)Vk.GetInstanceProcAddr(Instance, "vkDestroyDebugUtilsMessengerEXT");
                if (destroy != null) destroy(Instance, _messenger, null);
            }
            if (Instance.Handle != IntPtr.Zero) Vk.DestroyInstance(Instance, null);
            s_contexts.TryRemove(GCHandle.ToIntPtr(_selfHandle), out _);
            if (_selfHandle.IsAllocated) _selfHandle.Free();
        }

        /// <summary>Lists the Vulkan devices on this machine without creating a device (for `flowmap doctor`).</summary>
        public static IReadOnlyList<GpuDeviceInfo> EnumerateDevices()
        {
            Vk vk;
            try { vk = Vk.GetApi(); }
            catch (Exception e)
            {
                throw new GpuUnavailableException("No Vulkan loader (libvulkan.so.1). apt-get install libvulkan1 mesa-vulkan-drivers", e);
            }
            var instance = CreateInstance(vk, new List<string>(), new List<string>());
            try
            {
                return EnumeratePhysicalDevices(vk, instance).Select(d => Describe(vk, d)).ToList();
            }
            finally
            {
                vk.DestroyInstance(instance, null);
            }
        }
    }
}
