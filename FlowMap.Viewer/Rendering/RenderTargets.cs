using System;
using FlowMap.Gpu;
using Silk.NET.Vulkan;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>Image helpers and the render pass shared by the offscreen target and the swapchain.</summary>
    internal static unsafe class RenderTargets
    {
        public static DeviceMemory BindImageMemory(RenderDevice dev, Image img)
        {
            dev.Vk.GetImageMemoryRequirements(dev.Device, img, out var req);
            int type = dev.FindMemoryType(req.MemoryTypeBits, MemoryPropertyFlags.DeviceLocalBit);
            if (type < 0) type = dev.FindMemoryType(req.MemoryTypeBits, 0);
            if (type < 0) throw new RenderException("No memory type for an image.");
            var ai = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = req.Size, MemoryTypeIndex = (uint)type };
            DeviceMemory m;
            dev.Vk.AllocateMemory(dev.Device, &ai, null, &m).Check($"vkAllocateMemory(image, {req.Size} bytes)");
            dev.Vk.BindImageMemory(dev.Device, img, m, 0).Check("vkBindImageMemory");
            return m;
        }

        public static ImageView CreateView(RenderDevice dev, Image img, Format format, ImageAspectFlags aspect)
        {
            var ci = new ImageViewCreateInfo
            {
                SType = StructureType.ImageViewCreateInfo, Image = img, ViewType = ImageViewType.Type2D, Format = format,
                SubresourceRange = new ImageSubresourceRange(aspect, 0, 1, 0, 1),
            };
            ImageView v;
            dev.Vk.CreateImageView(dev.Device, &ci, null, &v).Check("vkCreateImageView");
            return v;
        }

        public static void Transition(RenderDevice dev, CommandBuffer cb, Image img, ImageAspectFlags aspect, ImageLayout from, ImageLayout to,
            PipelineStageFlags srcStage, AccessFlags srcAccess, PipelineStageFlags dstStage, AccessFlags dstAccess)
        {
            var b = new ImageMemoryBarrier
            {
                SType = StructureType.ImageMemoryBarrier, OldLayout = from, NewLayout = to, SrcAccessMask = srcAccess, DstAccessMask = dstAccess,
                SrcQueueFamilyIndex = Vk.QueueFamilyIgnored, DstQueueFamilyIndex = Vk.QueueFamilyIgnored, Image = img,
                SubresourceRange = new ImageSubresourceRange(aspect, 0, 1, 0, 1),
            };
            dev.Vk.CmdPipelineBarrier(cb, srcStage, dstStage, 0, 0, null, 0, null, 1, &b);
        }

        public static Format DepthFormat(RenderDevice dev)
        {
            foreach (var f in new[] { Format.D32Sfloat, Format.X8D24UnormPack32, Format.D16Unorm })
            {
                dev.Vk.GetPhysicalDeviceFormatProperties(dev.PhysicalDevice, f, out var p);
                if ((p.OptimalTilingFeatures & FormatFeatureFlags.DepthStencilAttachmentBit) != 0) return f;
            }
            throw new RenderException("The device has no depth attachment format.");
        }

        /// <summary>One subpass: a colour attachment (cleared, stored, left in <paramref name="finalLayout"/>) and a depth attachment.</summary>
        public static RenderPass CreateRenderPass(RenderDevice dev, Format color, Format depth, ImageLayout finalLayout)
        {
            var atts = stackalloc AttachmentDescription[2];
            atts[0] = new AttachmentDescription
            {
                Format = color, Samples = SampleCountFlags.Count1Bit, LoadOp = AttachmentLoadOp.Clear, StoreOp = AttachmentStoreOp.Store,
                StencilLoadOp = AttachmentLoadOp.DontCare, StencilStoreOp = AttachmentStoreOp.DontCare,
                InitialLayout = ImageLayout.Undefined, FinalLayout = finalLayout,
            };
            atts[1] = new AttachmentDescription
            {
                Format = depth, Samples = SampleCountFlags.Count1Bit, LoadOp = AttachmentLoadOp.Clear, StoreOp = AttachmentStoreOp.DontCare,
                StencilLoadOp = AttachmentLoadOp.DontCare, StencilStoreOp = AttachmentStoreOp.DontCare,
                InitialLayout = ImageLayout.Undefined, FinalLayout = ImageLayout.DepthStencilAttachmentOptimal,
            };
            var colorRef = new AttachmentReference(0, ImageLayout.ColorAttachmentOptimal);
            var depthRef = new AttachmentReference(1, ImageLayout.DepthStencilAttachmentOptimal);
            var sub = new SubpassDescription
            {
                PipelineBindPoint = PipelineBindPoint.Graphics, ColorAttachmentCount = 1, PColorAttachments = &colorRef, PDepthStencilAttachment = &depthRef,
            };
            // Earlier frames' use of the attachments (and the swapchain's acquire) happens before this pass writes them.
            var deps = stackalloc SubpassDependency[2];
            deps[0] = new SubpassDependency
            {
                SrcSubpass = Vk.SubpassExternal, DstSubpass = 0,
                SrcStageMask = PipelineStageFlags.ColorAttachmentOutputBit | PipelineStageFlags.LateFragmentTestsBit | PipelineStageFlags.TransferBit,
                DstStageMask = PipelineStageFlags.ColorAttachmentOutputBit | PipelineStageFlags.EarlyFragmentTestsBit,
                SrcAccessMask = AccessFlags.DepthStencilAttachmentWriteBit | AccessFlags.TransferReadBit,
                DstAccessMask = AccessFlags.ColorAttachmentWriteBit | AccessFlags.DepthStencilAttachmentWriteBit | AccessFlags.DepthStencilAttachmentReadBit,
            };
            deps[1] = new SubpassDependency
            {
                SrcSubpass = 0, DstSubpass = Vk.SubpassExternal,
                SrcStageMask = PipelineStageFlags.ColorAttachmentOutputBit, DstStageMask = PipelineStageFlags.TransferBit | PipelineStageFlags.BottomOfPipeBit,
                SrcAccessMask = AccessFlags.ColorAttachmentWriteBit, DstAccessMask = AccessFlags.TransferReadBit,
            };
            var ci = new RenderPassCreateInfo
            {
                SType = StructureType.RenderPassCreateInfo, AttachmentCount = 2, PAttachments = atts, SubpassCount = 1, PSubpasses = &sub,
                DependencyCount = 2, PDependencies = deps,
            };
            RenderPass rp;
            dev.Vk.CreateRenderPass(dev.Device, &ci, null, &rp).Check("vkCreateRenderPass");
            return rp;
        }

        public static Framebuffer CreateFramebuffer(RenderDevice dev, RenderPass rp, ImageView color, ImageView depth, uint w, uint h)
        {
            var views = stackalloc ImageView[2] { color, depth };
            var ci = new FramebufferCreateInfo
            {
                SType = StructureType.FramebufferCreateInfo, RenderPass = rp, AttachmentCount = 2, PAttachments = views, Width = w, Height = h, Layers = 1,
            };
            Framebuffer fb;
            dev.Vk.CreateFramebuffer(dev.Device, &ci, null, &fb).Check("vkCreateFramebuffer");
            return fb;
        }
    }

    /// <summary>A depth image with its memory and view.</summary>
    internal sealed unsafe class DepthImage : IDisposable
    {
        private readonly RenderDevice _dev;
        public Image Image { get; }
        public DeviceMemory Memory { get; }
        public ImageView View { get; }

        public DepthImage(RenderDevice dev, Format format, uint w, uint h)
        {
            _dev = dev;
            var ci = new ImageCreateInfo
            {
                SType = StructureType.ImageCreateInfo, ImageType = ImageType.Type2D, Format = format, Extent = new Extent3D(w, h, 1),
                MipLevels = 1, ArrayLayers = 1, Samples = SampleCountFlags.Count1Bit, Tiling = ImageTiling.Optimal,
                Usage = ImageUsageFlags.DepthStencilAttachmentBit, SharingMode = SharingMode.Exclusive, InitialLayout = ImageLayout.Undefined,
            };
            Image img;
            dev.Vk.CreateImage(dev.Device, &ci, null, &img).Check("vkCreateImage(depth)");
            Image = img;
            Memory = RenderTargets.BindImageMemory(dev, img);
            View = RenderTargets.CreateView(dev, img, format, ImageAspectFlags.DepthBit);
        }

        public void Dispose()
        {
            _dev.Vk.DestroyImageView(_dev.Device, View, null);
            _dev.Vk.DestroyImage(_dev.Device, Image, null);
            _dev.Vk.FreeMemory(_dev.Device, Memory, null);
        }
    }

    /// <summary>
    /// Headless rendering: an RGBA8 colour image and a depth image of a fixed size, a framebuffer, and a host-visible
    /// buffer the frame is copied into for <see cref="ReadPixels"/>. No window, no display.
    /// </summary>
    internal sealed unsafe class OffscreenTarget : IDisposable
    {
        public const Format ColorFormat = Format.R8G8B8A8Unorm;
        private readonly RenderDevice _dev;
        private readonly DeviceMemory _colorMemory;
        private readonly DepthImage _depth;
        private readonly DeviceBuffer _readback;
        public Image Color { get; }
        public ImageView ColorView { get; }
        public Framebuffer Framebuffer { get; }
        public RenderPass RenderPass { get; }
        public uint Width { get; }
        public uint Height { get; }

        public OffscreenTarget(RenderDevice dev, RenderPass renderPass, Format depthFormat, uint width, uint height)
        {
            _dev = dev;
            Width = width; Height = height; RenderPass = renderPass;
            var ci = new ImageCreateInfo
            {
                SType = StructureType.ImageCreateInfo, ImageType = ImageType.Type2D, Format = ColorFormat, Extent = new Extent3D(width, height, 1),
                MipLevels = 1, ArrayLayers = 1, Samples = SampleCountFlags.Count1Bit, Tiling = ImageTiling.Optimal,
                Usage = ImageUsageFlags.ColorAttachmentBit | ImageUsageFlags.TransferSrcBit, SharingMode = SharingMode.Exclusive,
                InitialLayout = ImageLayout.Undefined,
            };
            Image img;
            dev.Vk.CreateImage(dev.Device, &ci, null, &img).Check("vkCreateImage(offscreen colour)");
            Color = img;
            _colorMemory = RenderTargets.BindImageMemory(dev, img);
            ColorView = RenderTargets.CreateView(dev, img, ColorFormat, ImageAspectFlags.ColorBit);
            _depth = new DepthImage(dev, depthFormat, width, height);
            Framebuffer = RenderTargets.CreateFramebuffer(dev, renderPass, ColorView, _depth.View, width, height);
            _readback = new DeviceBuffer(dev, (ulong)width * height * 4, BufferUsageFlags.TransferDstBit, hostVisible: true);
        }

        /// <summary>Records the copy of the rendered image (in TRANSFER_SRC_OPTIMAL after the pass) into the read-back buffer.</summary>
        public void RecordReadback(CommandBuffer cb)
        {
            var region = new BufferImageCopy
            {
                ImageSubresource = new ImageSubresourceLayers(ImageAspectFlags.ColorBit, 0, 0, 1),
                ImageExtent = new Extent3D(Width, Height, 1),
            };
            _dev.Vk.CmdCopyImageToBuffer(cb, Color, ImageLayout.TransferSrcOptimal, _readback.Buffer, 1, &region);
            var b = new BufferMemoryBarrier
            {
                SType = StructureType.BufferMemoryBarrier, SrcAccessMask = AccessFlags.TransferWriteBit, DstAccessMask = AccessFlags.HostReadBit,
                SrcQueueFamilyIndex = Vk.QueueFamilyIgnored, DstQueueFamilyIndex = Vk.QueueFamilyIgnored, Buffer = _readback.Buffer, Size = Vk.WholeSize,
            };
            _dev.Vk.CmdPipelineBarrier(cb, PipelineStageFlags.TransferBit, PipelineStageFlags.HostBit, 0, 0, null, 1, &b, 0, null);
        }

        /// <summary>byte[Height, Width, 4] RGBA of the last read-back frame, top row first.</summary>
        public byte[] ReadPixels()
        {
            var data = new byte[Width * Height * 4];
            new ReadOnlySpan<byte>(_readback.Mapped, data.Length).CopyTo(data);
            return data;
        }

        public void Dispose()
        {
            _readback.Dispose();
            _dev.Vk.DestroyFramebuffer(_dev.Device, Framebuffer, null);
            _depth.Dispose();
            _dev.Vk.DestroyImageView(_dev.Device, ColorView, null);
            _dev.Vk.DestroyImage(_dev.Device, Color, null);
            _dev.Vk.FreeMemory(_dev.Device, _colorMemory, null);
        }
    }
}
