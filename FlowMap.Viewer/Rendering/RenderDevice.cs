using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Silk.NET.Core;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>A Vulkan call failed: names the call and its result.</summary>
    public sealed class RenderException : Exception
    {
        public RenderException(string message, Exception? inner = null) : base(message, inner) { }
    }

    internal static class VkResultCheck
    {
        /// <summary>Checks a VkResult in every build; throws naming the call.</summary>
        public static void Check(this Result result, string call)
        {
            if (result != Result.Success) throw new RenderException($"{call} failed: {result}");
        }
    }

    /// <summary>Options for <see cref="RenderDevice.Create"/>.</summary>
    internal sealed class RenderDeviceOptions
    {
        /// <summary>VK_LAYER_KHRONOS_validation with a messenger that records errors (see <see cref="RenderDevice.ValidationErrors"/>).</summary>
        public bool Validation { get; set; } = Environment.GetEnvironmentVariable("FLOWMAP_VALIDATION") == "1";

        /// <summary>Instance extensions for a window surface (from glfwGetRequiredInstanceExtensions); empty when headless.</summary>
        public IReadOnlyList<string> SurfaceExtensions { get; set; } = Array.Empty<string>();

        /// <summary>Substring of the device name to prefer; defaults to $FLOWMAP_DEVICE.</summary>
        public string? DeviceName { get; set; } = Environment.GetEnvironmentVariable("FLOWMAP_DEVICE");
    }

    /// <summary>
    /// The viewer's own Vulkan instance and device: one graphics queue (which also presents when a window exists),
    /// a command pool, and the KHR surface/swapchain entry points loaded through vkGetInstanceProcAddr and
    /// vkGetDeviceProcAddr (Silk.NET.Vulkan has the structs but not the KHR wrapper classes here). Independent of the
    /// Runtime's compute context: the viewer is a client of the Runtime's public API only.
    /// </summary>
    internal sealed unsafe class RenderDevice : IDisposable
    {
        public Vk Vk { get; }
        public Instance Instance { get; }
        public PhysicalDevice PhysicalDevice { get; }
        public Device Device { get; }
        public Queue Queue { get; }
        public uint QueueFamily { get; }
        public CommandPool CommandPool { get; }
        public string DeviceName { get; }
        public PhysicalDeviceType DeviceType { get; }
        public bool HasSwapchain { get; }
        public bool LargePoints { get; }
        public float MaxPointSize { get; }
        public PhysicalDeviceMemoryProperties MemoryProperties { get; }
        public bool ValidationEnabled { get; }

        // KHR / EXT entry points (null when the extension is not enabled).
        internal readonly delegate* unmanaged[Cdecl]<Instance, SurfaceKHR, AllocationCallbacks*, void> DestroySurface;
        internal readonly delegate* unmanaged[Cdecl]<PhysicalDevice, uint, SurfaceKHR, Bool32*, Result> GetSurfaceSupport;
        internal readonly delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, SurfaceCapabilitiesKHR*, Result> GetSurfaceCapabilities;
        internal readonly delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, uint*, SurfaceFormatKHR*, Result> GetSurfaceFormats;
        internal readonly delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, uint*, PresentModeKHR*, Result> GetSurfacePresentModes;
        internal readonly delegate* unmanaged[Cdecl]<Device, SwapchainCreateInfoKHR*, AllocationCallbacks*, SwapchainKHR*, Result> CreateSwapchain;
        internal readonly delegate* unmanaged[Cdecl]<Device, SwapchainKHR, AllocationCallbacks*, void> DestroySwapchain;
        internal readonly delegate* unmanaged[Cdecl]<Device, SwapchainKHR, uint*, Image*, Result> GetSwapchainImages;
        internal readonly delegate* unmanaged[Cdecl]<Device, SwapchainKHR, ulong, Silk.NET.Vulkan.Semaphore, Fence, uint*, Result> AcquireNextImage;
        internal readonly delegate* unmanaged[Cdecl]<Queue, PresentInfoKHR*, Result> QueuePresent;

        private DebugUtilsMessengerEXT _messenger;
        private readonly GCHandle _self;
        private readonly ConcurrentQueue<string> _errors = new ConcurrentQueue<string>();
        private static readonly ConcurrentDictionary<IntPtr, RenderDevice> s_devices = new ConcurrentDictionary<IntPtr, RenderDevice>();
        private bool _disposed;

        /// <summary>Validation errors reported since creation (or the last <see cref="TakeValidationErrors"/>).</summary>
        public IReadOnlyList<string> ValidationErrors => _errors.ToArray();

        public List<string> TakeValidationErrors()
        {
            var list = new List<string>();
            while (_errors.TryDequeue(out var e)) list.Add(e);
            return list;
        }

        public static RenderDevice Create(RenderDeviceOptions? options = null)
        {
            options ??= new RenderDeviceOptions();
            Vk vk;
            try { vk = Vk.GetApi(); }
            catch (Exception e)
            {
                throw new RenderException("No Vulkan loader (libvulkan.so.1): apt-get install libvulkan1 mesa-vulkan-drivers " +
                                          "(lavapipe renders on the CPU when there is no GPU).", e);
            }
            return new RenderDevice(vk, options);
        }

        private RenderDevice(Vk vk, RenderDeviceOptions options)
        {
            Vk = vk;
            _self = GCHandle.Alloc(this, GCHandleType.Weak);
            bool window = options.SurfaceExtensions.Count > 0;

            // 1. Instance.
            var layers = new List<string>();
            var extensions = new List<string>(options.SurfaceExtensions);
            if (options.Validation)
            {
                if (!InstanceLayers(vk).Contains("VK_LAYER_KHRONOS_validation"))
                    throw new RenderException("Validation was requested but VK_LAYER_KHRONOS_validation is not installed: apt-get install vulkan-validationlayers");
                layers.Add("VK_LAYER_KHRONOS_validation");
                extensions.Add("VK_EXT_debug_utils");
            }
            ValidationEnabled = options.Validation;
            var appName = (byte*)SilkMarshal.StringToPtr("FlowMap viewer");
            var ppLayers = (byte**)SilkMarshal.StringArrayToPtr(layers);
            var ppExt = (byte**)SilkMarshal.StringArrayToPtr(extensions);
            try
            {
                var app = new ApplicationInfo
                {
                    SType = StructureType.ApplicationInfo, PApplicationName = appName, PEngineName = appName,
                    ApplicationVersion = 1, EngineVersion = 1, ApiVersion = Vk.Version12,
                };
                var ci = new InstanceCreateInfo
                {
                    SType = StructureType.InstanceCreateInfo, PApplicationInfo = &app,
                    EnabledLayerCount = (uint)layers.Count, PpEnabledLayerNames = ppLayers,
                    EnabledExtensionCount = (uint)extensions.Count, PpEnabledExtensionNames = ppExt,
                };
                Instance inst;
                var r = vk.CreateInstance(&ci, null, &inst);
                if (r == Result.ErrorExtensionNotPresent)
                    throw new RenderException($"The Vulkan instance lacks an extension the viewer needs ({string.Join(", ", extensions)}).");
                if (r == Result.ErrorIncompatibleDriver)
                    throw new RenderException("No Vulkan driver: apt-get install mesa-vulkan-drivers (lavapipe) or your GPU vendor's driver.");
                r.Check("vkCreateInstance");
                Instance = inst;
            }
            finally
            {
                SilkMarshal.Free((nint)appName);
                SilkMarshal.Free((nint)ppLayers);
                SilkMarshal.Free((nint)ppExt);
            }

            try
            {
                if (options.Validation) _messenger = CreateMessenger();
                if (window)
                {
                    DestroySurface = (delegate* unmanaged[Cdecl]<Instance, SurfaceKHR, AllocationCallbacks*, void>)InstanceProc("vkDestroySurfaceKHR");
                    GetSurfaceSupport = (delegate* unmanaged[Cdecl]<PhysicalDevice, uint, SurfaceKHR, Bool32*, Result>)InstanceProc("vkGetPhysicalDeviceSurfaceSupportKHR");
                    GetSurfaceCapabilities = (delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, SurfaceCapabilitiesKHR*, Result>)InstanceProc("vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
                    GetSurfaceFormats = (delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, uint*, SurfaceFormatKHR*, Result>)InstanceProc("vkGetPhysicalDeviceSurfaceFormatsKHR");
                    GetSurfacePresentModes = (delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, uint*, PresentModeKHR*, Result>)InstanceProc("vkGetPhysicalDeviceSurfacePresentModesKHR");
                }

                // 2. A physical device with a graphics queue (and VK_KHR_swapchain for a window): discrete first.
                uint count = 0;
                vk.EnumeratePhysicalDevices(Instance, &count, null).Check("vkEnumeratePhysicalDevices");
                var devices = new PhysicalDevice[count];
                fixed (PhysicalDevice* pd = devices) vk.EnumeratePhysicalDevices(Instance, &count, pd).Check("vkEnumeratePhysicalDevices");
                if (count == 0)
                    throw new RenderException("The Vulkan loader found no device: apt-get install mesa-vulkan-drivers (lavapipe, a CPU device) or your GPU vendor's driver.");
                var candidates = new List<(PhysicalDevice Dev, string Name, PhysicalDeviceType Type, int Family)>();
                var rejected = new List<string>();
                foreach (var d in devices)
                {
                    vk.GetPhysicalDeviceProperties(d, out var p);
                    string name = SilkMarshal.PtrToString((nint)p.DeviceName) ?? "?";
                    int family = GraphicsFamily(vk, d);
                    if (family < 0) { rejected.Add($"{name}: no graphics queue"); continue; }
                    if (window && !DeviceExtensions(vk, d).Contains("VK_KHR_swapchain")) { rejected.Add($"{name}: no VK_KHR_swapchain"); continue; }
                    candidates.Add((d, name, p.DeviceType, family));
                }
                if (candidates.Count == 0)
                    throw new RenderException("No Vulkan device can draw: " + string.Join("; ", rejected) +
                                              ". The viewer needs a device with a graphics queue (mesa-vulkan-drivers' lavapipe has one).");
                int Rank(PhysicalDeviceType t) => t switch
                {
                    PhysicalDeviceType.DiscreteGpu => 0, PhysicalDeviceType.IntegratedGpu => 1,
                    PhysicalDeviceType.VirtualGpu => 2, PhysicalDeviceType.Cpu => 3, _ => 4,
                };
                var ordered = candidates.OrderBy(c => Rank(c.Type)).ToList();
                var chosen = ordered[0];
                if (!string.IsNullOrEmpty(options.DeviceName))
                {
                    var byName = ordered.FirstOrDefault(c => c.Name.IndexOf(options.DeviceName, StringComparison.OrdinalIgnoreCase) >= 0);
                    if (byName.Name != null) chosen = byName;
                }
                PhysicalDevice = chosen.Dev;
                DeviceName = chosen.Name;
                DeviceType = chosen.Type;
                QueueFamily = (uint)chosen.Family;
                vk.GetPhysicalDeviceMemoryProperties(PhysicalDevice, out var mem);
                MemoryProperties = mem;
                vk.GetPhysicalDeviceFeatures(PhysicalDevice, out var features);
                vk.GetPhysicalDeviceProperties(PhysicalDevice, out var props);
                LargePoints = features.LargePoints;
                MaxPointSize = LargePoints ? props.Limits.PointSizeRange[1] : 1f;

                // 3. Logical device and queue.
                float priority = 1f;
                var qci = new DeviceQueueCreateInfo
                {
                    SType = StructureType.DeviceQueueCreateInfo, QueueFamilyIndex = QueueFamily, QueueCount = 1, PQueuePriorities = &priority,
                };
                var enabled = new PhysicalDeviceFeatures { LargePoints = features.LargePoints };
                var devExt = new List<string>();
                if (window) devExt.Add("VK_KHR_swapchain");
                HasSwapchain = window;
                var ppDevExt = (byte**)SilkMarshal.StringArrayToPtr(devExt);
                try
                {
                    var dci = new DeviceCreateInfo
                    {
                        SType = StructureType.DeviceCreateInfo, QueueCreateInfoCount = 1, PQueueCreateInfos = &qci,
                        PEnabledFeatures = &enabled, EnabledExtensionCount = (uint)devExt.Count, PpEnabledExtensionNames = ppDevExt,
                    };
                    Device dev;
                    vk.CreateDevice(PhysicalDevice, &dci, null, &dev).Check("vkCreateDevice");
                    Device = dev;
                }
                finally { SilkMarshal.Free((nint)ppDevExt); }
                vk.GetDeviceQueue(Device, QueueFamily, 0, out var queue);
                Queue = queue;
                if (window)
                {
                    CreateSwapchain = (delegate* unmanaged[Cdecl]<Device, SwapchainCreateInfoKHR*, AllocationCallbacks*, SwapchainKHR*, Result>)DeviceProc("vkCreateSwapchainKHR");
                    DestroySwapchain = (delegate* unmanaged[Cdecl]<Device, SwapchainKHR, AllocationCallbacks*, void>)DeviceProc("vkDestroySwapchainKHR");
                    GetSwapchainImages = (delegate* unmanaged[Cdecl]<Device, SwapchainKHR, uint*, Image*, Result>)DeviceProc("vkGetSwapchainImagesKHR");
                    AcquireNextImage = (delegate* unmanaged[Cdecl]<Device, SwapchainKHR, ulong, Silk.NET.Vulkan.Semaphore, Fence, uint*, Result>)DeviceProc("vkAcquireNextImageKHR");
                    QueuePresent = (delegate* unmanaged[Cdecl]<Queue, PresentInfoKHR*, Result>)DeviceProc("vkQueuePresentKHR");
                }

                var pci = new CommandPoolCreateInfo
                {
                    SType = StructureType.CommandPoolCreateInfo, QueueFamilyIndex = QueueFamily, Flags = CommandPoolCreateFlags.ResetCommandBufferBit,
                };
                CommandPool pool;
                vk.CreateCommandPool(Device, &pci, null, &pool).Check("vkCreateCommandPool");
                CommandPool = pool;
            }
            catch
            {
                DestroyAll();
                throw;
            }
        }

        /// <summary>True when device-local memory is also host-visible (lavapipe, integrated GPUs, ReBAR): no staging needed.</summary>
        public bool UnifiedMemory => FindMemoryType(uint.MaxValue, MemoryPropertyFlags.DeviceLocalBit | MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit) >= 0;

        /// <summary>Index of a memory type allowed by <paramref name="typeBits"/> with all of <paramref name="flags"/>, or -1.</summary>
        public int FindMemoryType(uint typeBits, MemoryPropertyFlags flags)
        {
            var mp = MemoryProperties;
            for (int i = 0; i < mp.MemoryTypeCount; i++)
                if ((typeBits & (1u << i)) != 0 && (mp.MemoryTypes[i].PropertyFlags & flags) == flags) return i;
            return -1;
        }

        /// <summary>Records commands into a one-time command buffer, submits it and waits (uploads, read-backs).</summary>
        public void Immediate(Action<CommandBuffer> record)
        {
            var ai = new CommandBufferAllocateInfo
            {
                SType = StructureType.CommandBufferAllocateInfo, CommandPool = CommandPool, Level = CommandBufferLevel.Primary, CommandBufferCount = 1,
            };
            CommandBuffer cb;
            Vk.AllocateCommandBuffers(Device, &ai, &cb).Check("vkAllocateCommandBuffers");
            var fci = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
            Fence fence;
            Vk.CreateFence(Device, &fci, null, &fence).Check("vkCreateFence");
            try
            {
                var bi = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
                Vk.BeginCommandBuffer(cb, &bi).Check("vkBeginCommandBuffer");
                record(cb);
                Vk.EndCommandBuffer(cb).Check("vkEndCommandBuffer");
                var si = new SubmitInfo { SType = StructureType.SubmitInfo, CommandBufferCount = 1, PCommandBuffers = &cb };
                Vk.QueueSubmit(Queue, 1, &si, fence).Check("vkQueueSubmit");
                Vk.WaitForFences(Device, 1, &fence, true, ulong.MaxValue).Check("vkWaitForFences");
            }
            finally
            {
                Vk.DestroyFence(Device, fence, null);
                Vk.FreeCommandBuffers(Device, CommandPool, 1, &cb);
            }
        }

        public ShaderModule LoadShader(string name)
        {
            var code = ViewerShaders.Load(name);
            fixed (byte* p = code)
            {
                var ci = new ShaderModuleCreateInfo { SType = StructureType.ShaderModuleCreateInfo, CodeSize = (nuint)code.Length, PCode = (uint*)p };
                ShaderModule m;
                Vk.CreateShaderModule(Device, &ci, null, &m).Check("vkCreateShaderModule(" + name + ")");
                return m;
            }
        }

        public void WaitIdle() => Vk.DeviceWaitIdle(Device).Check("vkDeviceWaitIdle");

        /// <summary>Throws when the validation layer reported errors since the last call.</summary>
        public void ThrowIfValidationErrors()
        {
            var errors = TakeValidationErrors();
            if (errors.Count > 0)
                throw new RenderException($"Vulkan validation reported {errors.Count} error(s):\n" + string.Join("\n", errors.Take(10)));
        }

        private IntPtr InstanceProc(string name)
        {
            var p = (IntPtr)Vk.GetInstanceProcAddr(Instance, name);
            if (p == IntPtr.Zero) throw new RenderException($"vkGetInstanceProcAddr({name}) returned null");
            return p;
        }

        private IntPtr DeviceProc(string name)
        {
            var p = (IntPtr)Vk.GetDeviceProcAddr(Device, name);
            if (p == IntPtr.Zero) throw new RenderException($"vkGetDeviceProcAddr({name}) returned null");
            return p;
        }

        private DebugUtilsMessengerEXT CreateMessenger()
        {
            var create = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerCreateInfoEXT*, AllocationCallbacks*, DebugUtilsMessengerEXT*, Result>)
                InstanceProc("vkCreateDebugUtilsMessengerEXT");
            s_devices[GCHandle.ToIntPtr(_self)] = this;
            var info = new DebugUtilsMessengerCreateInfoEXT
            {
                SType = StructureType.DebugUtilsMessengerCreateInfoExt,
                MessageSeverity = DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt | DebugUtilsMessageSeverityFlagsEXT.WarningBitExt,
                MessageType = DebugUtilsMessageTypeFlagsEXT.GeneralBitExt | DebugUtilsMessageTypeFlagsEXT.ValidationBitExt,
                PfnUserCallback = new PfnDebugUtilsMessengerCallbackEXT((delegate* unmanaged[Cdecl]<DebugUtilsMessageSeverityFlagsEXT, DebugUtilsMessageTypeFlagsEXT, DebugUtilsMessengerCallbackDataEXT*, void*, Bool32>)(delegate* unmanaged[Cdecl]<DebugUtilsMessageSeverityFlagsEXT, DebugUtilsMessageTypeFlagsEXT, DebugUtilsMessengerCallbackDataEXT*, void*, uint>)&OnDebugMessage),
                PUserData = (void*)GCHandle.ToIntPtr(_self),
            };
            DebugUtilsMessengerEXT m;
            create(Instance, &info, null, &m).Check("vkCreateDebugUtilsMessengerEXT");
            return m;
        }

        [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
        private static uint OnDebugMessage(DebugUtilsMessageSeverityFlagsEXT severity, DebugUtilsMessageTypeFlagsEXT types,
            DebugUtilsMessengerCallbackDataEXT* data, void* user)
        {
            string text = SilkMarshal.PtrToString((nint)data->PMessage) ?? "";
            if ((severity & DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt) != 0 && s_devices.TryGetValue((IntPtr)user, out var dev))
                dev._errors.Enqueue(text);
            else if ((severity & DebugUtilsMessageSeverityFlagsEXT.WarningBitExt) != 0 && Environment.GetEnvironmentVariable("FLOWMAP_VALIDATION_VERBOSE") == "1")
                Console.Error.WriteLine("vulkan warning: " + text);
            return 0;
        }

        private static HashSet<string> InstanceLayers(Vk vk)
        {
            uint n = 0;
            vk.EnumerateInstanceLayerProperties(&n, null);
            var props = new LayerProperties[n];
            fixed (LayerProperties* p = props) vk.EnumerateInstanceLayerProperties(&n, p);
            var set = new HashSet<string>();
            foreach (var l in props) set.Add(SilkMarshal.PtrToString((nint)l.LayerName) ?? "");
            return set;
        }

        private static HashSet<string> DeviceExtensions(Vk vk, PhysicalDevice d)
        {
            uint n = 0;
            vk.EnumerateDeviceExtensionProperties(d, (byte*)null, &n, null);
            var props = new ExtensionProperties[n];
            fixed (ExtensionProperties* p = props) vk.EnumerateDeviceExtensionProperties(d, (byte*)null, &n, p);
            var set = new HashSet<string>();
            foreach (var e in props) set.Add(SilkMarshal.PtrToString((nint)e.ExtensionName) ?? "");
            return set;
        }

        private static int GraphicsFamily(Vk vk, PhysicalDevice d)
        {
            uint n = 0;
            vk.GetPhysicalDeviceQueueFamilyProperties(d, &n, null);
            var fam = new QueueFamilyProperties[n];
            fixed (QueueFamilyProperties* p = fam) vk.GetPhysicalDeviceQueueFamilyProperties(d, &n, p);
            for (int i = 0; i < fam.Length; i++)
                if ((fam[i].QueueFlags & QueueFlags.GraphicsBit) != 0) return i;
            return -1;
        }

        private void DestroyAll()
        {
            if (CommandPool.Handle != 0) Vk.DestroyCommandPool(Device, CommandPool, null);
            if (Device.Handle != IntPtr.Zero) Vk.DestroyDevice(Device, null);
            if (_messenger.Handle != 0)
            {
                var destroy = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerEXT, AllocationCallbacks*, void>)
                    (IntPtr)Vk.GetInstanceProcAddr(Instance, "vkDestroyDebugUtilsMessengerEXT");
                if (destroy != null) destroy(Instance, _messenger, null);
                s_devices.TryRemove(GCHandle.ToIntPtr(_self), out _);
            }
            if (Instance.Handle != IntPtr.Zero) Vk.DestroyInstance(Instance, null);
            if (_self.IsAllocated) _self.Free();
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (Device.Handle != IntPtr.Zero) Vk.DeviceWaitIdle(Device);
            DestroyAll();
        }
    }
}
