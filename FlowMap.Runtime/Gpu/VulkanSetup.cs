using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace FlowMap.Gpu
{
    /// <summary>
    /// The one Vulkan set-up of the project, shared by the compute context (<see cref="GpuContext"/>) and the viewer's
    /// graphics device (FlowMap.Viewer's RenderDevice, through InternalsVisibleTo): the loader, instance creation (with
    /// the validation layer on request and VK_KHR_portability_enumeration where the loader offers it, as MoltenVK on
    /// macOS and iOS needs), device description, ranking and selection by name, logical device creation (with
    /// VK_KHR_portability_subset where the device has it) and memory-type lookup. Results are checked by
    /// <see cref="VkCheck.Check"/>; failures throw <see cref="GpuUnavailableException"/> saying what to install, or
    /// <see cref="VulkanException"/> naming the call.
    /// </summary>
    internal static unsafe class VulkanSetup
    {
        internal const string ValidationLayer = "VK_LAYER_KHRONOS_validation";
        internal const string DebugUtilsExtension = "VK_EXT_debug_utils";
        internal const string PortabilityEnumerationExtension = "VK_KHR_portability_enumeration";
        internal const string PortabilitySubsetExtension = "VK_KHR_portability_subset";

        private const string InstallDriver = "Install one: `apt-get install mesa-vulkan-drivers` (lavapipe, a CPU device) or your GPU vendor's driver.";

        /// <summary>The Vulkan loader's entry points, or <see cref="GpuUnavailableException"/> saying what to install.</summary>
        public static Vk LoadApi()
        {
            try
            {
                return Vk.GetApi();
            }
            catch (Exception e)
            {
                throw new GpuUnavailableException(
                    "No Vulkan loader (libvulkan.so.1, vulkan-1.dll, libvulkan.dylib / MoltenVK) was found. Install a Vulkan driver: on " +
                    "Debian/Ubuntu `apt-get install libvulkan1 mesa-vulkan-drivers` (lavapipe runs on the CPU when there is no GPU).", e);
            }
        }

        /// <summary>Names of the instance layers the loader offers.</summary>
        public static HashSet<string> InstanceLayerNames(Vk vk)
        {
            uint count = 0;
            vk.EnumerateInstanceLayerProperties(&count, null).Check("vkEnumerateInstanceLayerProperties");
            var props = new LayerProperties[count];
            if (count > 0)
                fixed (LayerProperties* p = props)
                    vk.EnumerateInstanceLayerProperties(&count, p).Check("vkEnumerateInstanceLayerProperties");
            var names = new HashSet<string>();
            for (int i = 0; i < (int)count; i++)
                fixed (byte* n = props[i].LayerName)
                    names.Add(SilkMarshal.PtrToString((nint)n) ?? "");
            return names;
        }

        /// <summary>Names of the instance extensions the loader and its drivers offer.</summary>
        public static HashSet<string> InstanceExtensionNames(Vk vk)
        {
            uint count = 0;
            vk.EnumerateInstanceExtensionProperties((byte*)null, &count, null).Check("vkEnumerateInstanceExtensionProperties");
            var props = new ExtensionProperties[count];
            if (count > 0)
                fixed (ExtensionProperties* p = props)
                    vk.EnumerateInstanceExtensionProperties((byte*)null, &count, p).Check("vkEnumerateInstanceExtensionProperties");
            return ExtensionNames(props, count);
        }

        /// <summary>Names of the extensions a physical device offers.</summary>
        public static HashSet<string> DeviceExtensionNames(Vk vk, PhysicalDevice device)
        {
            uint count = 0;
            vk.EnumerateDeviceExtensionProperties(device, (byte*)null, &count, null).Check("vkEnumerateDeviceExtensionProperties");
            var props = new ExtensionProperties[count];
            if (count > 0)
                fixed (ExtensionProperties* p = props)
                    vk.EnumerateDeviceExtensionProperties(device, (byte*)null, &count, p).Check("vkEnumerateDeviceExtensionProperties");
            return ExtensionNames(props, count);
        }

        private static HashSet<string> ExtensionNames(ExtensionProperties[] props, uint count)
        {
            var names = new HashSet<string>();
            for (int i = 0; i < (int)count; i++)
                fixed (byte* n = props[i].ExtensionName)
                    names.Add(SilkMarshal.PtrToString((nint)n) ?? "");
            return names;
        }

        /// <summary>
        /// Creates an instance (Vulkan 1.2) with <paramref name="extensions"/>; with <paramref name="validation"/> also the
        /// validation layer and VK_EXT_debug_utils (for <see cref="DebugMessenger"/>). Where the loader offers
        /// VK_KHR_portability_enumeration it is enabled with its flag, so portability drivers (MoltenVK) are listed.
        /// </summary>
        public static Instance CreateInstance(Vk vk, string applicationName, bool validation, IEnumerable<string> extensions)
        {
            var layers = new List<string>();
            var ext = new List<string>(extensions);
            if (validation)
            {
                if (!InstanceLayerNames(vk).Contains(ValidationLayer))
                    throw new GpuUnavailableException(
                        "Validation was requested but VK_LAYER_KHRONOS_validation is not installed: apt-get install vulkan-validationlayers " +
                        "(or the Vulkan SDK).");
                layers.Add(ValidationLayer);
                ext.Add(DebugUtilsExtension);
            }
            var flags = (InstanceCreateFlags)0;
            if (InstanceExtensionNames(vk).Contains(PortabilityEnumerationExtension))
            {
                ext.Add(PortabilityEnumerationExtension);
                flags |= InstanceCreateFlags.EnumeratePortabilityBitKhr;
            }
            ext = ext.Distinct().ToList();
            var appName = (byte*)SilkMarshal.StringToPtr(applicationName);
            var ppLayers = (byte**)SilkMarshal.StringArrayToPtr(layers);
            var ppExt = (byte**)SilkMarshal.StringArrayToPtr(ext);
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
                    Flags = flags,
                    PApplicationInfo = &app,
                    EnabledLayerCount = (uint)layers.Count,
                    PpEnabledLayerNames = ppLayers,
                    EnabledExtensionCount = (uint)ext.Count,
                    PpEnabledExtensionNames = ppExt,
                };
                Instance instance;
                var r = vk.CreateInstance(&info, null, &instance);
                if (r == Result.ErrorIncompatibleDriver || r == Result.ErrorInitializationFailed)
                    throw new GpuUnavailableException($"vkCreateInstance failed with {r}: no usable Vulkan driver. " + InstallDriver);
                if (r == Result.ErrorExtensionNotPresent)
                    throw new GpuUnavailableException($"The Vulkan instance lacks an extension FlowMap asked for ({string.Join(", ", ext)}).");
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

        /// <summary>The instance's physical devices, in the loader's order.</summary>
        public static List<PhysicalDevice> EnumeratePhysicalDevices(Vk vk, Instance instance)
        {
            uint count = 0;
            vk.EnumeratePhysicalDevices(instance, &count, null).Check("vkEnumeratePhysicalDevices");
            var devices = new PhysicalDevice[count];
            if (count > 0)
                fixed (PhysicalDevice* p = devices)
                    vk.EnumeratePhysicalDevices(instance, &count, p).Check("vkEnumeratePhysicalDevices");
            if (count == 0)
                throw new GpuUnavailableException("The Vulkan loader found no device. " + InstallDriver);
            return devices.Take((int)count).ToList();
        }

        /// <summary>A device's queue families.</summary>
        public static QueueFamilyProperties[] QueueFamilies(Vk vk, PhysicalDevice device)
        {
            uint count = 0;
            vk.GetPhysicalDeviceQueueFamilyProperties(device, &count, null);
            var families = new QueueFamilyProperties[count];
            if (count > 0)
                fixed (QueueFamilyProperties* p = families)
                    vk.GetPhysicalDeviceQueueFamilyProperties(device, &count, p);
            return families;
        }

        /// <summary>The first queue family with all of <paramref name="flags"/>, or -1.</summary>
        public static int FindQueueFamily(QueueFamilyProperties[] families, QueueFlags flags)
        {
            for (int i = 0; i < families.Length; i++)
                if ((families[i].QueueFlags & flags) == flags) return i;
            return -1;
        }

        /// <summary>What a device offers, as far as FlowMap cares.</summary>
        public static GpuDeviceInfo Describe(Vk vk, PhysicalDevice device)
        {
            vk.GetPhysicalDeviceProperties(device, out var p);
            vk.GetPhysicalDeviceMemoryProperties(device, out var mem);
            string name = SilkMarshal.PtrToString((nint)p.DeviceName) ?? "?";
            long heapBytes = 0;
            for (int i = 0; i < mem.MemoryHeapCount; i++)
                if ((mem.MemoryHeaps[i].Flags & MemoryHeapFlags.DeviceLocalBit) != 0)
                    heapBytes = Math.Max(heapBytes, (long)mem.MemoryHeaps[i].Size);
            bool hostVisibleDeviceLocal = FindMemoryType(mem, uint.MaxValue, MemoryPropertyFlags.DeviceLocalBit | MemoryPropertyFlags.HostVisibleBit) >= 0;
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

        private static int Rank(GpuDeviceKind k) => k switch
        {
            GpuDeviceKind.DiscreteGpu => 0,
            GpuDeviceKind.IntegratedGpu => 1,
            GpuDeviceKind.VirtualGpu => 2,
            GpuDeviceKind.Cpu => 3,
            _ => 4,
        };

        /// <summary>
        /// Picks a device, the same way for every client. With a <paramref name="nameFilter"/> the first usable device whose
        /// name contains it (case-insensitive) is taken, and no match is an error naming the devices found (never a silent
        /// fall-back to another device). Without one: discrete, then integrated, virtual, CPU, among the usable devices.
        /// </summary>
        /// <param name="devices">The devices, as <see cref="Describe"/> gives them.</param>
        /// <param name="nameFilter">Part of a device name, or null/blank for the best device.</param>
        /// <param name="unusable">Per device: null when the client can use it, else why not (e.g. "no graphics queue").</param>
        public static int ChooseDevice(IReadOnlyList<GpuDeviceInfo> devices, string? nameFilter, IReadOnlyList<string?>? unusable = null)
        {
            if (devices.Count == 0) throw new GpuUnavailableException("The Vulkan loader found no device. " + InstallDriver);
            string? Why(int i) => unusable != null && i < unusable.Count ? unusable[i] : null;
            string Found() => string.Join(", ", devices.Select((d, i) => Why(i) is string w ? $"{d.Name} ({w})" : d.Name));
            if (!string.IsNullOrWhiteSpace(nameFilter))
            {
                int firstMatch = -1;
                for (int i = 0; i < devices.Count; i++)
                {
                    if (devices[i].Name.IndexOf(nameFilter!.Trim(), StringComparison.OrdinalIgnoreCase) < 0) continue;
                    if (Why(i) == null) return i;
                    if (firstMatch < 0) firstMatch = i;
                }
                if (firstMatch >= 0)
                    throw new GpuUnavailableException(
                        $"The Vulkan device named '{nameFilter}' cannot be used: {devices[firstMatch].Name}: {Why(firstMatch)}.");
                throw new GpuUnavailableException(
                    $"No Vulkan device matches the device name '{nameFilter}' (FLOWMAP_DEVICE for the flowmap command). Devices found: {Found()}.");
            }
            int best = -1;
            for (int i = 0; i < devices.Count; i++)
                if (Why(i) == null && (best < 0 || Rank(devices[i].Kind) < Rank(devices[best].Kind))) best = i;
            if (best < 0) throw new GpuUnavailableException($"No Vulkan device can be used: {Found()}.");
            return best;
        }

        /// <summary>
        /// Creates the logical device with one queue of <paramref name="queueFamily"/>, <paramref name="features"/> and
        /// <paramref name="extensions"/>, plus VK_KHR_portability_subset where the device offers it (the specification
        /// requires enabling it then).
        /// </summary>
        public static Device CreateDevice(Vk vk, PhysicalDevice physicalDevice, uint queueFamily, PhysicalDeviceFeatures features, IEnumerable<string> extensions)
        {
            var ext = new List<string>(extensions);
            var offered = DeviceExtensionNames(vk, physicalDevice);
            var missing = ext.Where(e => !offered.Contains(e)).ToList();
            if (missing.Count > 0)
                throw new GpuUnavailableException($"The Vulkan device lacks the extension(s) {string.Join(", ", missing)}.");
            if (offered.Contains(PortabilitySubsetExtension) && !ext.Contains(PortabilitySubsetExtension))
                ext.Add(PortabilitySubsetExtension);
            float priority = 1f;
            var queueInfo = new DeviceQueueCreateInfo
            {
                SType = StructureType.DeviceQueueCreateInfo,
                QueueFamilyIndex = queueFamily,
                QueueCount = 1,
                PQueuePriorities = &priority,
            };
            var ppExt = (byte**)SilkMarshal.StringArrayToPtr(ext);
            try
            {
                var info = new DeviceCreateInfo
                {
                    SType = StructureType.DeviceCreateInfo,
                    QueueCreateInfoCount = 1,
                    PQueueCreateInfos = &queueInfo,
                    PEnabledFeatures = &features,
                    EnabledExtensionCount = (uint)ext.Count,
                    PpEnabledExtensionNames = ppExt,
                };
                Device device;
                vk.CreateDevice(physicalDevice, &info, null, &device).Check("vkCreateDevice");
                return device;
            }
            finally
            {
                SilkMarshal.Free((nint)ppExt);
            }
        }

        /// <summary>A command pool on <paramref name="queueFamily"/> whose buffers can be reset one by one.</summary>
        public static CommandPool CreateCommandPool(Vk vk, Device device, uint queueFamily)
        {
            var info = new CommandPoolCreateInfo
            {
                SType = StructureType.CommandPoolCreateInfo,
                QueueFamilyIndex = queueFamily,
                Flags = CommandPoolCreateFlags.ResetCommandBufferBit,
            };
            CommandPool pool;
            vk.CreateCommandPool(device, &info, null, &pool).Check("vkCreateCommandPool");
            return pool;
        }

        /// <summary>Destroys what a set-up created, in reverse order; null handles (a set-up that failed half-way) are skipped.</summary>
        public static void Destroy(Vk vk, Instance instance, Device device, CommandPool pool, DebugMessenger? messenger)
        {
            if (pool.Handle != 0) vk.DestroyCommandPool(device, pool, null);
            if (device.Handle != IntPtr.Zero) vk.DestroyDevice(device, null);
            messenger?.Dispose();
            if (instance.Handle != IntPtr.Zero) vk.DestroyInstance(instance, null);
        }

        /// <summary>Index of a memory type allowed by <paramref name="typeBits"/> with all of <paramref name="required"/>, or -1.</summary>
        public static int FindMemoryType(in PhysicalDeviceMemoryProperties memory, uint typeBits, MemoryPropertyFlags required)
        {
            for (int i = 0; i < memory.MemoryTypeCount; i++)
                if ((typeBits & (1u << i)) != 0 && (memory.MemoryTypes[i].PropertyFlags & required) == required)
                    return i;
            return -1;
        }

        /// <summary>An instance-level entry point, or <see cref="VulkanException"/> when the loader does not have it.</summary>
        public static IntPtr InstanceProc(Vk vk, Instance instance, string name)
        {
            var p = (IntPtr)vk.GetInstanceProcAddr(instance, name);
            if (p == IntPtr.Zero) throw new VulkanException($"vkGetInstanceProcAddr({name}) returned null");
            return p;
        }

        /// <summary>A device-level entry point, or <see cref="VulkanException"/> when the driver does not have it.</summary>
        public static IntPtr DeviceProc(Vk vk, Device device, string name)
        {
            var p = (IntPtr)vk.GetDeviceProcAddr(device, name);
            if (p == IntPtr.Zero) throw new VulkanException($"vkGetDeviceProcAddr({name}) returned null");
            return p;
        }
    }

    /// <summary>
    /// What both Vulkan clients own (the compute context and the viewer's graphics device): the instance, the chosen
    /// physical device, the logical device with its one queue and command pool, and the validation messenger. Created
    /// through <see cref="VulkanSetup"/> by the derived class's constructor; destroyed in reverse order by
    /// <see cref="DestroyVulkan"/>.
    /// </summary>
    internal abstract class VulkanDeviceOwner
    {
        protected VulkanDeviceOwner(Vk vk) { Vk = vk; }

        public Vk Vk { get; }
        public Instance Instance { get; protected set; }
        public PhysicalDevice PhysicalDevice { get; protected set; }
        public Device Device { get; protected set; }
        public Queue Queue { get; protected set; }
        public uint QueueFamily { get; protected set; }
        public CommandPool CommandPool { get; protected set; }
        public PhysicalDeviceMemoryProperties MemoryProperties { get; protected set; }
        public bool ValidationEnabled { get; protected set; }

        /// <summary>The validation layer's messenger, or null when validation is off.</summary>
        protected DebugMessenger? Messenger { get; set; }

        /// <summary>Index of a memory type allowed by <paramref name="typeBits"/> with all of <paramref name="flags"/>, or -1.</summary>
        public int FindMemoryType(uint typeBits, MemoryPropertyFlags flags) => VulkanSetup.FindMemoryType(MemoryProperties, typeBits, flags);

        /// <summary>Validation errors reported since the last call (empty without validation), removed.</summary>
        protected List<string> TakeValidationErrors() => Messenger?.TakeErrors() ?? new List<string>();

        /// <summary>Destroys the command pool, device, messenger and instance (whatever exists).</summary>
        protected void DestroyVulkan()
        {
            VulkanSetup.Destroy(Vk, Instance, Device, CommandPool, Messenger);
            Messenger = null;
            CommandPool = default;
            Device = default;
            Instance = default;
        }
    }

    /// <summary>
    /// The validation layer's debug messenger (VK_EXT_debug_utils): collects errors and validation warnings for its owner
    /// to check after each piece of work (tests fail on any error). Destroy it before its instance.
    /// </summary>
    internal sealed unsafe class DebugMessenger : IDisposable
    {
        private const int MaxWarnings = 1000;
        private static readonly DebugUtilsMessengerCallbackFunctionEXT s_callback = OnMessage;
        private static readonly ConcurrentDictionary<IntPtr, DebugMessenger> s_live = new ConcurrentDictionary<IntPtr, DebugMessenger>();
        private readonly Vk _vk;
        private readonly Instance _instance;
        private readonly GCHandle _self;
        private PfnDebugUtilsMessengerCallbackEXT _pfn;
        private DebugUtilsMessengerEXT _messenger;
        private readonly ConcurrentQueue<string> _errors = new ConcurrentQueue<string>();
        private readonly ConcurrentQueue<string> _warnings = new ConcurrentQueue<string>();

        /// <summary>Called on the driver's thread with each warning that is not an error (optional; e.g. a logger).</summary>
        public Action<string>? OnWarning { get; set; }

        public DebugMessenger(Vk vk, Instance instance)
        {
            _vk = vk;
            _instance = instance;
            _self = GCHandle.Alloc(this, GCHandleType.Weak);
            s_live[GCHandle.ToIntPtr(_self)] = this;
            try
            {
                var create = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerCreateInfoEXT*, AllocationCallbacks*, DebugUtilsMessengerEXT*, Result>)
                    VulkanSetup.InstanceProc(vk, instance, "vkCreateDebugUtilsMessengerEXT");
                _pfn = new PfnDebugUtilsMessengerCallbackEXT(s_callback);
                var info = new DebugUtilsMessengerCreateInfoEXT
                {
                    SType = StructureType.DebugUtilsMessengerCreateInfoExt,
                    MessageSeverity = DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt | DebugUtilsMessageSeverityFlagsEXT.WarningBitExt,
                    MessageType = DebugUtilsMessageTypeFlagsEXT.GeneralBitExt | DebugUtilsMessageTypeFlagsEXT.ValidationBitExt |
                                  DebugUtilsMessageTypeFlagsEXT.PerformanceBitExt,
                    PfnUserCallback = _pfn,
                    PUserData = (void*)GCHandle.ToIntPtr(_self),
                };
                DebugUtilsMessengerEXT messenger;
                create(instance, &info, null, &messenger).Check("vkCreateDebugUtilsMessengerEXT");
                _messenger = messenger;
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        private static uint OnMessage(DebugUtilsMessageSeverityFlagsEXT severity, DebugUtilsMessageTypeFlagsEXT types,
            DebugUtilsMessengerCallbackDataEXT* data, void* user)
        {
            string text = SilkMarshal.PtrToString((nint)data->PMessage) ?? "";
            if (!s_live.TryGetValue((IntPtr)user, out var m)) return 0;
            if ((severity & DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt) != 0)
            {
                m._errors.Enqueue(text);
                return 0;
            }
            if ((types & DebugUtilsMessageTypeFlagsEXT.ValidationBitExt) != 0)
            {
                m._warnings.Enqueue(text);
                while (m._warnings.Count > MaxWarnings && m._warnings.TryDequeue(out _)) { } // an owner that never drains stays bounded
            }
            m.OnWarning?.Invoke(text);
            return 0;
        }

        /// <summary>True when errors are waiting to be taken.</summary>
        public bool HasErrors => !_errors.IsEmpty;

        /// <summary>The errors reported since the last call (in order), removed.</summary>
        public List<string> TakeErrors() => Drain(_errors);

        /// <summary>The validation warnings reported since the last call, removed.</summary>
        public List<string> TakeWarnings() => Drain(_warnings);

        private static List<string> Drain(ConcurrentQueue<string> q)
        {
            var list = new List<string>();
            while (q.TryDequeue(out var s)) list.Add(s);
            return list;
        }

        public void Dispose()
        {
            if (_messenger.Handle != 0)
            {
                var destroy = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerEXT, AllocationCallbacks*, void>)
                    (IntPtr)_vk.GetInstanceProcAddr(_instance, "vkDestroyDebugUtilsMessengerEXT");
                if (destroy != null) destroy(_instance, _messenger, null);
                _messenger = default;
            }
            if (_self.IsAllocated)
            {
                s_live.TryRemove(GCHandle.ToIntPtr(_self), out _);
                _self.Free();
            }
        }
    }
}
