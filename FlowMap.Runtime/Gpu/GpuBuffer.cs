using System;
using System.Runtime.InteropServices;
using Silk.NET.Vulkan;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace FlowMap.Gpu
{
    /// <summary>
    /// A storage buffer. Where the device has host-visible device-local memory (lavapipe, integrated GPUs,
    /// resizable BAR) it is persistently mapped and read/written directly; otherwise (discrete GPUs, or any device with
    /// <see cref="GpuContextOptions.ForceStaging"/>) it lives in device-local memory and uploads/downloads go through a
    /// staging buffer. Either way a new buffer starts zeroed.
    /// </summary>
    internal sealed unsafe class GpuBuffer : IDisposable
    {
        private readonly GpuContext _ctx;
        private VkBuffer _buffer;
        private DeviceMemory _memory;
        private void* _mapped;
        private bool _disposed;

        public VkBuffer Handle => _buffer;
        public long SizeBytes { get; }
        public string Name { get; }
        public bool IsMapped => _mapped != null;

        /// <param name="forceStaging">
        /// Use device-local memory and staging copies even where mapping is possible (the discrete-GPU path); every buffer
        /// of a context created with <see cref="GpuContextOptions.ForceStaging"/> takes it.
        /// </param>
        public GpuBuffer(GpuContext ctx, long sizeBytes, string name = "buffer", bool forceStaging = false)
            : this(ctx, sizeBytes, name, forceStaging || ctx.ForceStaging ? Placement.DeviceOnly : Placement.Storage) { }

        /// <summary>Where a buffer's memory lives and whether the host maps it.</summary>
        private enum Placement
        {
            /// <summary>Host-visible device-local memory, mapped, where it exists; device-local with staging otherwise.</summary>
            Storage,
            /// <summary>Device-local memory, never mapped: every write and read goes through a staging buffer.</summary>
            DeviceOnly,
            /// <summary>Host-visible memory, mapped: the host writes it and the GPU copies from it.</summary>
            Upload,
            /// <summary>Host-visible memory, cached where offered, mapped: the GPU copies into it and the host reads it.</summary>
            Readback,
        }

        private GpuBuffer(GpuContext ctx, long sizeBytes, string name, Placement placement)
        {
            if (sizeBytes <= 0) throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "A buffer needs at least one byte.");
            _ctx = ctx;
            Name = name;
            // Storage buffers are bound with their size rounded up to 16 bytes, so vec4 loads at the tail stay in range.
            SizeBytes = (sizeBytes + 15) & ~15L;
            var vk = ctx.Vk;
            var info = new BufferCreateInfo
            {
                SType = StructureType.BufferCreateInfo,
                Size = (ulong)SizeBytes,
                Usage = BufferUsageFlags.StorageBufferBit | BufferUsageFlags.TransferSrcBit | BufferUsageFlags.TransferDstBit |
                        BufferUsageFlags.VertexBufferBit | BufferUsageFlags.IndirectBufferBit,
                SharingMode = SharingMode.Exclusive,
            };
            VkBuffer buffer;
            vk.CreateBuffer(ctx.Device, &info, null, &buffer).Check("vkCreateBuffer");
            _buffer = buffer;
            ctx.TrackHandle(1);
            try
            {
                vk.GetBufferMemoryRequirements(ctx.Device, _buffer, out var req);
                var (type, mapped) = ChooseMemory(ctx, req.MemoryTypeBits, placement);
                if (type < 0) throw new VulkanException($"No memory type for buffer '{name}' ({sizeBytes} bytes, {placement}).");
                var alloc = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = req.Size, MemoryTypeIndex = (uint)type };
                DeviceMemory memory;
                vk.AllocateMemory(ctx.Device, &alloc, null, &memory).Check($"vkAllocateMemory({name}, {req.Size} bytes)");
                _memory = memory;
                ctx.TrackHandle(1);
                ctx.TrackBufferBytes((long)req.Size);
                AllocatedBytes = (long)req.Size;
                vk.BindBufferMemory(ctx.Device, _buffer, _memory, 0).Check("vkBindBufferMemory");
                // New memory holds whatever the driver's allocator had there. Zero it, so a kernel that reads a
                // not-yet-written element (padding, a border) gives the same result in every process and on both buffer
                // paths: replays must equal the live run bit for bit.
                if (mapped)
                {
                    void* p;
                    vk.MapMemory(ctx.Device, _memory, 0, Vk.WholeSize, 0, &p).Check("vkMapMemory");
                    _mapped = p;
                    if (placement != Placement.Upload && placement != Placement.Readback)
                        for (long off = 0; off < (long)req.Size; off += int.MaxValue)
                            new Span<byte>((byte*)p + off, (int)Math.Min(int.MaxValue, (long)req.Size - off)).Clear();
                }
                else
                {
                    Fill(0);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>The memory type for a placement, and whether the buffer is mapped; type -1 when the device has none.</summary>
        private static (int Type, bool Mapped) ChooseMemory(GpuContext ctx, uint typeBits, Placement placement)
        {
            const MemoryPropertyFlags hostCoherent = MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit;
            int type;
            switch (placement)
            {
                case Placement.Upload:
                    return (ctx.FindMemoryType(typeBits, hostCoherent), true);
                case Placement.Readback:
                    type = ctx.FindMemoryType(typeBits, hostCoherent | MemoryPropertyFlags.HostCachedBit);
                    return (type >= 0 ? type : ctx.FindMemoryType(typeBits, hostCoherent), true);
                case Placement.DeviceOnly:
                    type = ctx.FindMemoryType(typeBits, MemoryPropertyFlags.DeviceLocalBit);
                    return (type >= 0 ? type : ctx.FindMemoryType(typeBits, 0), false);
                default:
                    type = ctx.FindMemoryType(typeBits, MemoryPropertyFlags.DeviceLocalBit | hostCoherent);
                    if (type >= 0) return (type, true);
                    type = ctx.FindMemoryType(typeBits, MemoryPropertyFlags.DeviceLocalBit);
                    if (type >= 0) return (type, false);
                    return (ctx.FindMemoryType(typeBits, hostCoherent), true);
            }
        }

        internal long AllocatedBytes { get; }

        public static GpuBuffer Create<T>(GpuContext ctx, int count, string name = "buffer") where T : unmanaged
            => new GpuBuffer(ctx, (long)count * sizeof(T), name);

        public static GpuBuffer FromData<T>(GpuContext ctx, ReadOnlySpan<T> data, string name = "buffer") where T : unmanaged
        {
            var b = new GpuBuffer(ctx, Math.Max(1, data.Length) * (long)sizeof(T), name);
            b.Write(data);
            return b;
        }

        /// <summary>Copies <paramref name="data"/> into the buffer at <paramref name="offsetBytes"/>. Waits for nothing already submitted: call between batches.</summary>
        public void Write<T>(ReadOnlySpan<T> data, long offsetBytes = 0) where T : unmanaged
        {
            long bytes = (long)data.Length * sizeof(T);
            if (offsetBytes < 0 || offsetBytes + bytes > SizeBytes)
                throw new ArgumentOutOfRangeException(nameof(data), $"Write of {bytes} bytes at {offsetBytes} overflows buffer '{Name}' of {SizeBytes} bytes.");
            if (bytes == 0) return;
            if (_mapped != null)
            {
                fixed (T* src = data)
                    System.Buffer.MemoryCopy(src, (byte*)_mapped + offsetBytes, SizeBytes - offsetBytes, bytes);
                return;
            }
            using var staging = new GpuBuffer(_ctx, bytes, Name + ".upload", Placement.Upload);
            if (!staging.IsMapped) throw new VulkanException("Staging buffer is not host-visible.");
            staging.Write(data);
            CopyNow(staging, 0, this, offsetBytes, bytes);
        }

        /// <summary>Reads the buffer into <paramref name="destination"/>. Call after the batches writing it have completed.</summary>
        public void Read<T>(Span<T> destination, long offsetBytes = 0) where T : unmanaged
        {
            long bytes = (long)destination.Length * sizeof(T);
            if (offsetBytes < 0 || offsetBytes + bytes > SizeBytes)
                throw new ArgumentOutOfRangeException(nameof(destination), $"Read of {bytes} bytes at {offsetBytes} overflows buffer '{Name}' of {SizeBytes} bytes.");
            if (bytes == 0) return;
            if (_mapped != null)
            {
                fixed (T* dst = destination)
                    System.Buffer.MemoryCopy((byte*)_mapped + offsetBytes, dst, bytes, bytes);
                return;
            }
            using var staging = new GpuBuffer(_ctx, bytes, Name + ".download", Placement.Readback);
            CopyNow(this, offsetBytes, staging, 0, bytes);
            staging.Read(destination);
        }

        public T[] ReadAll<T>(int count) where T : unmanaged
        {
            var a = new T[count];
            Read<T>(a);
            return a;
        }

        /// <summary>Fills the whole buffer with a 32-bit pattern (e.g. 0, or a NaN guard value).</summary>
        public void Fill(uint pattern)
        {
            using var batch = _ctx.BeginBatch("fill");
            batch.Fill(this, pattern);
            batch.Submit();
            batch.Wait();
        }

        private void CopyNow(GpuBuffer src, long srcOffset, GpuBuffer dst, long dstOffset, long bytes)
        {
            using var batch = _ctx.BeginBatch("copy");
            batch.Copy(src, srcOffset, dst, dstOffset, bytes);
            batch.Submit();
            batch.Wait();
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            var ctx = _ctx;
            var buffer = _buffer;
            var memory = _memory;
            bool mapped = _mapped != null;
            long bytes = AllocatedBytes;
            _mapped = null;
            ctx.Retire(() =>
            {
                if (mapped) ctx.Vk.UnmapMemory(ctx.Device, memory);
                if (buffer.Handle != 0) { ctx.Vk.DestroyBuffer(ctx.Device, buffer, null); ctx.TrackHandle(-1); }
                if (memory.Handle != 0) { ctx.Vk.FreeMemory(ctx.Device, memory, null); ctx.TrackHandle(-1); ctx.TrackBufferBytes(-bytes); }
            });
        }
    }
}
