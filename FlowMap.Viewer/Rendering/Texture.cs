using System;
using FlowMap.Gpu;
using Silk.NET.Vulkan;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>A sampled RGBA8 (UNORM) 2D image with its view, filled from host memory through a staging buffer.</summary>
    internal sealed unsafe class Texture : IDisposable
    {
        private readonly RenderDevice _dev;
        public Image Image { get; }
        public DeviceMemory Memory { get; }
        public ImageView View { get; }
        public int Width { get; }
        public int Height { get; }

        public Texture(RenderDevice dev, int width, int height)
        {
            _dev = dev;
            Width = width; Height = height;
            var vk = dev.Vk;
            var ci = new ImageCreateInfo
            {
                SType = StructureType.ImageCreateInfo, ImageType = ImageType.Type2D, Format = Format.R8G8B8A8Unorm,
                Extent = new Extent3D((uint)width, (uint)height, 1), MipLevels = 1, ArrayLayers = 1, Samples = SampleCountFlags.Count1Bit,
                Tiling = ImageTiling.Optimal, Usage = ImageUsageFlags.SampledBit | ImageUsageFlags.TransferDstBit,
                SharingMode = SharingMode.Exclusive, InitialLayout = ImageLayout.Undefined,
            };
            Image img;
            vk.CreateImage(dev.Device, &ci, null, &img).Check("vkCreateImage(texture)");
            Image = img;
            Memory = RenderTargets.BindImageMemory(dev, img);
            View = RenderTargets.CreateView(dev, img, Format.R8G8B8A8Unorm, ImageAspectFlags.ColorBit);
        }

        /// <summary>Uploads byte[Height, Width, 4] RGBA and leaves the image in SHADER_READ_ONLY_OPTIMAL. The image must not be in use.</summary>
        public void Upload(ReadOnlySpan<byte> rgba)
        {
            if (rgba.Length != Width * Height * 4) throw new ArgumentException($"A {Width}x{Height} RGBA texture needs {Width * Height * 4} bytes, got {rgba.Length}.");
            using var staging = new DeviceBuffer(_dev, (ulong)rgba.Length, BufferUsageFlags.TransferSrcBit, hostVisible: true);
            staging.Upload(rgba, 0);
            var img = Image;
            int w = Width, h = Height;
            _dev.Immediate(cb =>
            {
                RenderTargets.Transition(_dev, cb, img, ImageAspectFlags.ColorBit, ImageLayout.Undefined, ImageLayout.TransferDstOptimal,
                    PipelineStageFlags.TopOfPipeBit, 0, PipelineStageFlags.TransferBit, AccessFlags.TransferWriteBit);
                var region = new BufferImageCopy
                {
                    ImageSubresource = new ImageSubresourceLayers(ImageAspectFlags.ColorBit, 0, 0, 1),
                    ImageExtent = new Extent3D((uint)w, (uint)h, 1),
                };
                _dev.Vk.CmdCopyBufferToImage(cb, staging.Buffer, img, ImageLayout.TransferDstOptimal, 1, &region);
                RenderTargets.Transition(_dev, cb, img, ImageAspectFlags.ColorBit, ImageLayout.TransferDstOptimal, ImageLayout.ShaderReadOnlyOptimal,
                    PipelineStageFlags.TransferBit, AccessFlags.TransferWriteBit, PipelineStageFlags.FragmentShaderBit, AccessFlags.ShaderReadBit);
            });
        }

        public void Dispose()
        {
            _dev.Vk.DestroyImageView(_dev.Device, View, null);
            _dev.Vk.DestroyImage(_dev.Device, Image, null);
            _dev.Vk.FreeMemory(_dev.Device, Memory, null);
        }
    }
}
