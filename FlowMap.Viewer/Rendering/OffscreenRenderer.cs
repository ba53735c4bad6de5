using System;
using System.Collections.Generic;
using FlowMap.Viewer.Scenes;
using FlowMap.Gpu;
using Silk.NET.Vulkan;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// Headless rendering (no window, no display): the scene renderer drawing into an RGBA8 image of a fixed size that is
    /// read back after every frame.
    /// </summary>
    internal sealed unsafe class OffscreenRenderer : IDisposable
    {
        private readonly bool _ownsDevice;
        private readonly CommandBuffer _cb;
        private readonly Fence _fence;

        public RenderDevice Device { get; }
        public SceneRenderer Scene { get; }
        public OffscreenTarget Target { get; }
        public int Width => (int)Target.Width;
        public int Height => (int)Target.Height;

        public OffscreenRenderer(int width, int height, RenderDevice? device = null)
        {
            if (width < 1 || height < 1 || width > 16384 || height > 16384) throw new ArgumentException($"Image size {width}x{height} is out of range (1..16384).");
            _ownsDevice = device == null;
            Device = device ?? RenderDevice.Create();
            try
            {
                Scene = new SceneRenderer(Device, OffscreenTarget.ColorFormat, ImageLayout.TransferSrcOptimal, frameSlots: 1);
                Target = new OffscreenTarget(Device, Scene.RenderPass, Scene.DepthFormat, (uint)width, (uint)height);
                var ai = new CommandBufferAllocateInfo
                {
                    SType = StructureType.CommandBufferAllocateInfo, CommandPool = Device.CommandPool, Level = CommandBufferLevel.Primary, CommandBufferCount = 1,
                };
                CommandBuffer cb;
                Device.Vk.AllocateCommandBuffers(Device.Device, &ai, &cb).Check("vkAllocateCommandBuffers");
                _cb = cb;
                var fci = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
                Fence f;
                Device.Vk.CreateFence(Device.Device, &fci, null, &f).Check("vkCreateFence");
                _fence = f;
            }
            catch
            {
                Target?.Dispose();
                Scene?.Dispose();
                if (_ownsDevice) Device.Dispose();
                throw;
            }
        }

        /// <summary>Renders one frame and returns byte[Height, Width, 4] RGBA, top row first.</summary>
        public byte[] Render(ViewCamera camera, RenderSettings settings, ViewerSnapshot snapshot, IReadOnlyList<string> text, bool readBack = true)
        {
            Scene.Sync(snapshot);
            var vk = Device.Vk;
            vk.ResetCommandBuffer(_cb, 0).Check("vkResetCommandBuffer");
            var bi = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
            vk.BeginCommandBuffer(_cb, &bi).Check("vkBeginCommandBuffer");
            Scene.Record(_cb, 0, Target.Framebuffer, Target.Width, Target.Height, camera, settings, snapshot, text);
            if (readBack) Target.RecordReadback(_cb);
            vk.EndCommandBuffer(_cb).Check("vkEndCommandBuffer");
            var cb = _cb;
            var si = new SubmitInfo { SType = StructureType.SubmitInfo, CommandBufferCount = 1, PCommandBuffers = &cb };
            var fence = _fence;
            vk.ResetFences(Device.Device, 1, &fence).Check("vkResetFences");
            vk.QueueSubmit(Device.Queue, 1, &si, fence).Check("vkQueueSubmit");
            vk.WaitForFences(Device.Device, 1, &fence, true, ulong.MaxValue).Check("vkWaitForFences");
            return readBack ? Target.ReadPixels() : Array.Empty<byte>();
        }

        public void Dispose()
        {
            Device.WaitIdle();
            Device.Vk.DestroyFence(Device.Device, _fence, null);
            var cb = _cb;
            Device.Vk.FreeCommandBuffers(Device.Device, Device.CommandPool, 1, &cb);
            Target.Dispose();
            Scene.Dispose();
            if (_ownsDevice) Device.Dispose();
        }
    }
}
