using System;
using System.Linq;
using Silk.NET.Core;
using FlowMap.Gpu;
using Silk.NET.Vulkan;
using VkSemaphore = Silk.NET.Vulkan.Semaphore;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// A window surface's swapchain with a depth image and one framebuffer and "render finished" semaphore per image.
    /// Recreated (passing the old one as oldSwapchain) on resize or when presentation reports out-of-date/suboptimal.
    /// </summary>
    internal sealed unsafe class Swapchain : IDisposable
    {
        private readonly RenderDevice _dev;
        private readonly SurfaceKHR _surface;
        public SwapchainKHR Handle { get; private set; }
        public Format Format { get; }
        public ColorSpaceKHR ColorSpace { get; }
        public PresentModeKHR PresentMode { get; }
        public Extent2D Extent { get; private set; }
        public Image[] Images { get; private set; } = Array.Empty<Image>();
        private ImageView[] _views = Array.Empty<ImageView>();
        public Framebuffer[] Framebuffers { get; private set; } = Array.Empty<Framebuffer>();
        public VkSemaphore[] RenderFinished { get; private set; } = Array.Empty<VkSemaphore>();
        private DepthImage? _depth;
        public int Recreations { get; private set; }

        /// <summary>Picks the surface format (B8G8R8A8 or R8G8B8A8 UNORM, so colours match the offscreen path) and present mode.</summary>
        public Swapchain(RenderDevice dev, SurfaceKHR surface, PresentModeKHR? preferredMode)
        {
            _dev = dev;
            _surface = surface;
            Bool32 supported;
            dev.GetSurfaceSupport(dev.PhysicalDevice, dev.QueueFamily, surface, &supported).Check("vkGetPhysicalDeviceSurfaceSupportKHR");
            if (!supported) throw new RenderException($"Vulkan device '{dev.DeviceName}' cannot present to this window's surface from its graphics queue.");

            uint n = 0;
            dev.GetSurfaceFormats(dev.PhysicalDevice, surface, &n, null).Check("vkGetPhysicalDeviceSurfaceFormatsKHR");
            var formats = new SurfaceFormatKHR[n];
            fixed (SurfaceFormatKHR* p = formats) dev.GetSurfaceFormats(dev.PhysicalDevice, surface, &n, p).Check("vkGetPhysicalDeviceSurfaceFormatsKHR");
            if (n == 0) throw new RenderException("The window surface reports no formats.");
            var pick = formats.FirstOrDefault(f => f.Format == Format.B8G8R8A8Unorm);
            if (pick.Format == Format.Undefined) pick = formats.FirstOrDefault(f => f.Format == Format.R8G8B8A8Unorm);
            if (pick.Format == Format.Undefined) pick = formats[0];
            Format = pick.Format;
            ColorSpace = pick.ColorSpace;

            dev.GetSurfacePresentModes(dev.PhysicalDevice, surface, &n, null).Check("vkGetPhysicalDeviceSurfacePresentModesKHR");
            var modes = new PresentModeKHR[n];
            fixed (PresentModeKHR* p = modes) dev.GetSurfacePresentModes(dev.PhysicalDevice, surface, &n, p).Check("vkGetPhysicalDeviceSurfacePresentModesKHR");
            PresentMode = preferredMode.HasValue && modes.Contains(preferredMode.Value) ? preferredMode.Value : PresentModeKHR.FifoKhr; // FIFO is always there
        }

        /// <summary>(Re)creates for a framebuffer of <paramref name="width"/> x <paramref name="height"/>; false when the surface has zero size (minimised).</summary>
        public bool Create(RenderPass renderPass, Format depthFormat, int width, int height)
        {
            SurfaceCapabilitiesKHR caps;
            _dev.GetSurfaceCapabilities(_dev.PhysicalDevice, _surface, &caps).Check("vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
            var extent = caps.CurrentExtent.Width != uint.MaxValue
                ? caps.CurrentExtent
                : new Extent2D((uint)Math.Clamp(width, (int)caps.MinImageExtent.Width, (int)caps.MaxImageExtent.Width),
                               (uint)Math.Clamp(height, (int)caps.MinImageExtent.Height, (int)caps.MaxImageExtent.Height));
            if (extent.Width == 0 || extent.Height == 0) return false;

            uint count = caps.MinImageCount + 1;
            if (caps.MaxImageCount > 0) count = Math.Min(count, caps.MaxImageCount);
            var old = Handle;
            var ci = new SwapchainCreateInfoKHR
            {
                SType = StructureType.SwapchainCreateInfoKhr, Surface = _surface, MinImageCount = count, ImageFormat = Format, ImageColorSpace = ColorSpace,
                ImageExtent = extent, ImageArrayLayers = 1, ImageUsage = ImageUsageFlags.ColorAttachmentBit | ImageUsageFlags.TransferSrcBit,
                ImageSharingMode = SharingMode.Exclusive, PreTransform = caps.CurrentTransform, CompositeAlpha = CompositeAlphaFlagsKHR.OpaqueBitKhr,
                PresentMode = PresentMode, Clipped = true, OldSwapchain = old,
            };
            if ((caps.SupportedUsageFlags & ImageUsageFlags.TransferSrcBit) == 0) ci.ImageUsage = ImageUsageFlags.ColorAttachmentBit;
            if ((caps.SupportedCompositeAlpha & CompositeAlphaFlagsKHR.OpaqueBitKhr) == 0) ci.CompositeAlpha = CompositeAlphaFlagsKHR.InheritBitKhr;
            SwapchainKHR sc;
            _dev.CreateSwapchain(_dev.Device, &ci, null, &sc).Check("vkCreateSwapchainKHR");
            DestroyImages();
            if (old.Handle != 0) _dev.DestroySwapchain(_dev.Device, old, null);
            if (old.Handle != 0) Recreations++;
            Handle = sc;
            Extent = extent;

            uint n = 0;
            _dev.GetSwapchainImages(_dev.Device, sc, &n, null).Check("vkGetSwapchainImagesKHR");
            var images = new Image[n];
            fixed (Image* p = images) _dev.GetSwapchainImages(_dev.Device, sc, &n, p).Check("vkGetSwapchainImagesKHR");
            Images = images;
            _depth = new DepthImage(_dev, depthFormat, extent.Width, extent.Height);
            _views = images.Select(i => RenderTargets.CreateView(_dev, i, Format, ImageAspectFlags.ColorBit)).ToArray();
            Framebuffers = _views.Select(v => RenderTargets.CreateFramebuffer(_dev, renderPass, v, _depth.View, extent.Width, extent.Height)).ToArray();
            RenderFinished = images.Select(_ =>
            {
                var si = new SemaphoreCreateInfo { SType = StructureType.SemaphoreCreateInfo };
                VkSemaphore s;
                _dev.Vk.CreateSemaphore(_dev.Device, &si, null, &s).Check("vkCreateSemaphore");
                return s;
            }).ToArray();
            return true;
        }

        private void DestroyImages()
        {
            var vk = _dev.Vk;
            foreach (var s in RenderFinished) vk.DestroySemaphore(_dev.Device, s, null);
            foreach (var f in Framebuffers) vk.DestroyFramebuffer(_dev.Device, f, null);
            foreach (var v in _views) vk.DestroyImageView(_dev.Device, v, null);
            _depth?.Dispose();
            _depth = null;
            RenderFinished = Array.Empty<VkSemaphore>();
            Framebuffers = Array.Empty<Framebuffer>();
            _views = Array.Empty<ImageView>();
            Images = Array.Empty<Image>();
        }

        public void Dispose()
        {
            DestroyImages();
            if (Handle.Handle != 0) _dev.DestroySwapchain(_dev.Device, Handle, null);
            Handle = default;
        }
    }
}
