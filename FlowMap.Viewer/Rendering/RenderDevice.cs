using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Silk.NET.Core;
using Silk.NET.Core.Native;
using FlowMap.Gpu;
using Microsoft.Extensions.Logging;
using Silk.NET.Vulkan;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>A Vulkan call failed: names the call and its result.</summary>
    public sealed class RenderException : Exception
    {
        public RenderException(string message, Exception? inner = null) : base(message, inner) { }
    }

    /// <summary>Options for <see cref="RenderDevice.Create"/>.</summary>
    internal sealed class RenderDeviceOptions
    {
        /// <summary>VK_LAYER_KHRONOS_validation with a messenger that records errors (see <see cref="RenderDevice.ThrowIfValidationErrors"/>).</summary>
        public bool Validation { get; set; } = FlowMap.Viewer.Cli.HostEnvironment.Validation;

        /// <summary>Instance extensions for a window surface (from glfwGetRequiredInstanceExtensions); empty when headless.</summary>
        public IReadOnlyList<string> SurfaceExtensions { get; set; } = Array.Empty<string>();

        /// <summary>Part of the device name to use (no match is an error, as for the compute context); defaults to $FLOWMAP_DEVICE.</summary>
        public string? DeviceName { get; set; } = FlowMap.Viewer.Cli.HostEnvironment.DeviceName;
    }

    /// <summary>
    /// The viewer's own Vulkan instance and device: one graphics queue (which also presents when a window exists),
    /// a command pool, and the KHR surface/swapchain entry points loaded through vkGetInstanceProcAddr and
    /// vkGetDeviceProcAddr (Silk.NET.Vulkan has the structs but not the KHR wrapper classes here). Instance, debug
    /// messenger, device selection, device creation, memory-type lookup and result checking are the Runtime's
    /// (FlowMap.Gpu.VulkanSetup, reached through InternalsVisibleTo), so the viewer and the compute context behave alike.
    /// </summary>
    internal sealed unsafe class RenderDevice : VulkanDeviceOwner, IDisposable
    {
        public string DeviceName { get; }
        public PhysicalDeviceType DeviceType { get; }
        public bool HasSwapchain { get; }
        public bool LargePoints { get; }
        public float MaxPointSize { get; }

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

        private bool _disposed;

        /// <summary>
        /// Creates the device; a machine without a usable Vulkan device (or without the named one) gives a
        /// <see cref="RenderException"/> with the shared set-up's message saying what to install or which devices exist.
        /// </summary>
        public static RenderDevice Create(RenderDeviceOptions? options = null)
        {
            options ??= new RenderDeviceOptions();
            try
            {
                return new RenderDevice(VulkanSetup.LoadApi(), options);
            }
            catch (GpuUnavailableException e)
            {
                throw new RenderException(e.Message, e);
            }
        }

        private RenderDevice(Vk vk, RenderDeviceOptions options) : base(vk)
        {
            bool window = options.SurfaceExtensions.Count > 0;

            // 1. Instance (and the validation messenger), through the shared set-up.
            ValidationEnabled = options.Validation;
            Instance = VulkanSetup.CreateInstance(vk, "FlowMap viewer", options.Validation, options.SurfaceExtensions);
            try
            {
                if (options.Validation)
                    Messenger = new DebugMessenger(vk, Instance)
                    {
                        OnWarning = m => FlowMap.Viewer.Cli.HostEnvironment.Logger.LogDebug("Vulkan validation warning (viewer): {Message}", m),
                    };
                if (window)
                {
                    DestroySurface = (delegate* unmanaged[Cdecl]<Instance, SurfaceKHR, AllocationCallbacks*, void>)InstanceProc("vkDestroySurfaceKHR");
                    GetSurfaceSupport = (delegate* unmanaged[Cdecl]<PhysicalDevice, uint, SurfaceKHR, Bool32*, Result>)InstanceProc("vkGetPhysicalDeviceSurfaceSupportKHR");
                    GetSurfaceCapabilities = (delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, SurfaceCapabilitiesKHR*, Result>)InstanceProc("vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
                    GetSurfaceFormats = (delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, uint*, SurfaceFormatKHR*, Result>)InstanceProc("vkGetPhysicalDeviceSurfaceFormatsKHR");
                    GetSurfacePresentModes = (delegate* unmanaged[Cdecl]<PhysicalDevice, SurfaceKHR, uint*, PresentModeKHR*, Result>)InstanceProc("vkGetPhysicalDeviceSurfacePresentModesKHR");
                }

                // 2. The device, chosen as the compute context chooses (a name wins and must match; else discrete first),
                //    among those with a graphics queue (and VK_KHR_swapchain for a window).
                var devices = VulkanSetup.EnumeratePhysicalDevices(vk, Instance);
                var infos = devices.Select(d => VulkanSetup.Describe(vk, d)).ToList();
                var graphics = devices.Select(d => VulkanSetup.FindQueueFamily(VulkanSetup.QueueFamilies(vk, d), QueueFlags.GraphicsBit)).ToList();
                var unusable = devices.Select((d, i) =>
                    graphics[i] < 0 ? "no graphics queue"
                    : window && !VulkanSetup.DeviceExtensionNames(vk, d).Contains("VK_KHR_swapchain") ? "no VK_KHR_swapchain"
                    : null).ToList();
                int chosen = VulkanSetup.ChooseDevice(infos, options.DeviceName, unusable);
                PhysicalDevice = devices[chosen];
                DeviceName = infos[chosen].Name;
                vk.GetPhysicalDeviceProperties(PhysicalDevice, out var props);
                DeviceType = props.DeviceType;
                QueueFamily = (uint)graphics[chosen];
                vk.GetPhysicalDeviceMemoryProperties(PhysicalDevice, out var mem);
                MemoryProperties = mem;
                vk.GetPhysicalDeviceFeatures(PhysicalDevice, out var features);
                LargePoints = features.LargePoints;
                MaxPointSize = LargePoints ? props.Limits.PointSizeRange[1] : 1f;

                // 3. Logical device and queue.
                HasSwapchain = window;
                Device = VulkanSetup.CreateDevice(vk, PhysicalDevice, QueueFamily, new PhysicalDeviceFeatures { LargePoints = features.LargePoints },
                    window ? new[] { "VK_KHR_swapchain" } : Array.Empty<string>());
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

                CommandPool = VulkanSetup.CreateCommandPool(vk, Device, QueueFamily);
            }
            catch
            {
                DestroyAll();
                throw;
            }
        }

        /// <summary>True when device-local memory is also host-visible (lavapipe, integrated GPUs, ReBAR): no staging needed.</summary>
        public bool UnifiedMemory => FindMemoryType(uint.MaxValue, MemoryPropertyFlags.DeviceLocalBit | MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit) >= 0;


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

        private IntPtr InstanceProc(string name) => VulkanSetup.InstanceProc(Vk, Instance, name);

        private IntPtr DeviceProc(string name) => VulkanSetup.DeviceProc(Vk, Device, name);

        private void DestroyAll() => DestroyVulkan();

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            var idle = Device.Handle != IntPtr.Zero ? Vk.DeviceWaitIdle(Device) : Result.Success;
            DestroyAll();
            idle.Check("vkDeviceWaitIdle");
        }
    }
}
