using System;
using FlowMap.Gpu;
using Silk.NET.Vulkan;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// A Vulkan buffer with its own memory. Host-visible buffers stay mapped (<see cref="Mapped"/>); device-local ones
    /// are written through a staging copy (<see cref="Upload"/>). Owned by one holder; destroy after the GPU is done with it.
    /// </summary>
    internal sealed unsafe class DeviceBuffer : IDisposable
    {
        private readonly RenderDevice _dev;
        public VkBuffer Buffer { get; }
        public DeviceMemory Memory { get; }
        public ulong Size { get; }
        public bool HostVisible { get; }
        public byte* Mapped { get; }

        /// <param name="hostVisible">Host-visible (mapped, coherent) when true; otherwise device-local, preferring memory that is
        /// both (unified memory needs no staging; see <see cref="RenderDevice.UnifiedMemory"/>).</param>
        public DeviceBuffer(RenderDevice dev, ulong size, BufferUsageFlags usage, bool hostVisible)
        {
            _dev = dev;
            Size = Math.Max(size, 16);
            var vk = dev.Vk;
            var ci = new BufferCreateInfo
            {
                SType = StructureType.BufferCreateInfo, Size = Size, Usage = usage | BufferUsageFlags.TransferDstBit | BufferUsageFlags.TransferSrcBit,
                SharingMode = SharingMode.Exclusive,
            };
            VkBuffer b;
            vk.CreateBuffer(dev.Device, &ci, null, &b).Check("vkCreateBuffer");
            Buffer = b;
            vk.GetBufferMemoryRequirements(dev.Device, b, out var req);
            int type;
            if (hostVisible)
            {
                type = dev.FindMemoryType(req.MemoryTypeBits, MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit);
            }
            else
            {
                type = dev.FindMemoryType(req.MemoryTypeBits, MemoryPropertyFlags.DeviceLocalBit | MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit);
                if (type < 0) type = dev.FindMemoryType(req.MemoryTypeBits, MemoryPropertyFlags.DeviceLocalBit);
            }
            if (type < 0) { vk.DestroyBuffer(dev.Device, b, null); throw new RenderException("No suitable memory type for a buffer."); }
            HostVisible = (dev.MemoryProperties.MemoryTypes[type].PropertyFlags & MemoryPropertyFlags.HostVisibleBit) != 0;
            var ai = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = req.Size, MemoryTypeIndex = (uint)type };
            DeviceMemory m;
            var r = vk.AllocateMemory(dev.Device, &ai, null, &m);
            if (r != Result.Success) { vk.DestroyBuffer(dev.Device, b, null); r.Check($"vkAllocateMemory({req.Size} bytes)"); }
            Memory = m;
            vk.BindBufferMemory(dev.Device, b, m, 0).Check("vkBindBufferMemory");
            if (HostVisible)
            {
                void* p;
                vk.MapMemory(dev.Device, m, 0, Vk.WholeSize, 0, &p).Check("vkMapMemory");
                Mapped = (byte*)p;
            }
        }

        /// <summary>Writes <paramref name="data"/> at byte <paramref name="offset"/>: a memcpy when mapped, else a staging copy (waits).</summary>
        public void Upload<T>(ReadOnlySpan<T> data, ulong offset) where T : unmanaged
        {
            ulong bytes = (ulong)data.Length * (ulong)sizeof(T);
            if (bytes == 0) return;
            if (offset + bytes > Size) throw new ArgumentOutOfRangeException(nameof(data), $"{bytes} bytes at {offset} overflow a {Size}-byte buffer.");
            if (HostVisible)
            {
                fixed (T* src = data) System.Buffer.MemoryCopy(src, Mapped + offset, (long)(Size - offset), (long)bytes);
                return;
            }
            using var staging = new DeviceBuffer(_dev, bytes, BufferUsageFlags.TransferSrcBit, hostVisible: true);
            staging.Upload(data, 0);
            var dst = Buffer;
            _dev.Immediate(cb =>
            {
                var region = new BufferCopy { SrcOffset = 0, DstOffset = offset, Size = bytes };
                _dev.Vk.CmdCopyBuffer(cb, staging.Buffer, dst, 1, &region);
            });
        }

        public void Dispose()
        {
            var vk = _dev.Vk;
            if (HostVisible) vk.UnmapMemory(_dev.Device, Memory);
            vk.DestroyBuffer(_dev.Device, Buffer, null);
            vk.FreeMemory(_dev.Device, Memory, null);
        }
    }

    /// <summary>
    /// An append-only vertex store (also readable as a storage buffer, for the compute point rasteriser) that grows by doubling (never reallocated per frame): the point cloud's one vertex
    /// buffer. Appends write past the vertices the GPU may be drawing, so they need no wait; growth waits for the
    /// device to go idle, copies the old contents on the GPU, and frees the old buffer.
    /// </summary>
    internal sealed unsafe class GrowableVertexBuffer<T> : IDisposable where T : unmanaged
    {
        private readonly RenderDevice _dev;
        private readonly bool _hostVisible;
        private DeviceBuffer? _buffer;

        public GrowableVertexBuffer(RenderDevice dev, bool hostVisible) { _dev = dev; _hostVisible = hostVisible; }

        public int Count { get; private set; }
        public int Capacity => _buffer == null ? 0 : (int)(_buffer.Size / (ulong)sizeof(T));
        public DeviceBuffer? Buffer => _buffer;
        /// <summary>Times the buffer was reallocated (for tests and the bench).</summary>
        public int Reallocations { get; private set; }

        public void Clear() => Count = 0;

        public void Append(ReadOnlySpan<T> items)
        {
            if (items.Length == 0) return;
            long need = (long)Count + items.Length;
            if (need > Capacity) Grow(need);
            _buffer!.Upload(items, (ulong)Count * (ulong)sizeof(T));
            Count += items.Length;
        }

        private void Grow(long need)
        {
            long cap = Math.Max(Capacity, 4096);
            while (cap < need) cap *= 2;
            var next = new DeviceBuffer(_dev, (ulong)cap * (ulong)sizeof(T), BufferUsageFlags.VertexBufferBit | BufferUsageFlags.StorageBufferBit, _hostVisible);
            if (_buffer != null)
            {
                _dev.WaitIdle();
                if (Count > 0)
                {
                    var src = _buffer.Buffer;
                    ulong bytes = (ulong)Count * (ulong)sizeof(T);
                    _dev.Immediate(cb =>
                    {
                        var region = new BufferCopy { Size = bytes };
                        _dev.Vk.CmdCopyBuffer(cb, src, next.Buffer, 1, &region);
                    });
                }
                _buffer.Dispose();
                Reallocations++;
            }
            _buffer = next;
        }

        public void Dispose() { _buffer?.Dispose(); _buffer = null; }
    }
}
