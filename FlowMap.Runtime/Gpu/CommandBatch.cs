using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Silk.NET.Vulkan;

namespace FlowMap.Gpu
{
    /// <summary>Measured GPU time of one recorded command.</summary>
    internal readonly struct KernelTiming
    {
        public KernelTiming(string label, double ms) { Label = label; Milliseconds = ms; }
        public string Label { get; }
        public double Milliseconds { get; }
        public override string ToString() => $"{Label}: {Milliseconds:F3} ms";
    }

    /// <summary>
    /// Records many dispatches (and copies/fills) into one command buffer and submits them at once. A memory barrier is
    /// inserted only where a command touches a buffer that an earlier command in the batch wrote (read-after-write,
    /// write-after-write) or writes one that an earlier command read (write-after-read); read-only bindings come from the
    /// shader's SPIR-V. <see cref="Submit"/> does not wait; <see cref="Wait"/> does. Optional timestamps give per-command GPU time.
    /// </summary>
    internal sealed unsafe class CommandBatch : IDisposable
    {
        private const int SetsPerPool = 256;
        private const int MaxTimestamps = 512;

        private readonly GpuContext _ctx;
        private readonly string _label;
        private CommandPool _pool;
        private CommandBuffer _cmd;
        private Fence _fence;
        private QueryPool _queries;
        private readonly List<DescriptorPool> _descriptorPools = new List<DescriptorPool>();
        private int _setsInPool;
        private readonly HashSet<ulong> _written = new HashSet<ulong>();
        private readonly HashSet<ulong> _read = new HashSet<ulong>();
        private readonly List<string> _timestampLabels = new List<string>();
        private long _serial;
        private bool _submitted, _completed, _disposed;

        /// <summary>Number of barriers recorded (for tests of the batching logic).</summary>
        public int BarrierCount { get; private set; }
        public int DispatchCount { get; private set; }
        public IReadOnlyList<KernelTiming> Timings { get; private set; } = Array.Empty<KernelTiming>();

        // Background work (GpuContext.Background on the recording thread): chunked submissions.
        private readonly GpuContext.BackgroundScope? _background;
        private int _commandsInChunk;

        internal CommandBatch(GpuContext ctx, string label, bool timestamps = false)
        {
            _ctx = ctx;
            _label = label;
            _background = GpuContext.CurrentBackground;
            var vk = ctx.Vk;
            var device = ctx.Device;
            try
            {
                var poolInfo = new CommandPoolCreateInfo { SType = StructureType.CommandPoolCreateInfo, QueueFamilyIndex = ctx.QueueFamily, Flags = CommandPoolCreateFlags.TransientBit };
                CommandPool pool;
                vk.CreateCommandPool(device, &poolInfo, null, &pool).Check("vkCreateCommandPool");
                _pool = pool; ctx.TrackHandle(1);

                var alloc = new CommandBufferAllocateInfo { SType = StructureType.CommandBufferAllocateInfo, CommandPool = _pool, Level = CommandBufferLevel.Primary, CommandBufferCount = 1 };
                CommandBuffer cmd;
                vk.AllocateCommandBuffers(device, &alloc, &cmd).Check("vkAllocateCommandBuffers");
                _cmd = cmd;

                var fenceInfo = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
                Fence fence;
                vk.CreateFence(device, &fenceInfo, null, &fence).Check("vkCreateFence");
                _fence = fence; ctx.TrackHandle(1);

                var begin = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
                vk.BeginCommandBuffer(_cmd, &begin).Check("vkBeginCommandBuffer");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>Turns on per-command GPU timestamps (when the device supports them). Call before recording.</summary>
        public CommandBatch WithTimestamps()
        {
            if (!_ctx.TimestampsSupported || _queries.Handle != 0) return this;
            var info = new QueryPoolCreateInfo { SType = StructureType.QueryPoolCreateInfo, QueryType = QueryType.Timestamp, QueryCount = MaxTimestamps };
            QueryPool qp;
            _ctx.Vk.CreateQueryPool(_ctx.Device, &info, null, &qp).Check("vkCreateQueryPool");
            _queries = qp; _ctx.TrackHandle(1);
            _ctx.Vk.CmdResetQueryPool(_cmd, _queries, 0, MaxTimestamps);
            return this;
        }

        public void Dispatch<TPush>(ComputeKernel kernel, uint groupsX, uint groupsY, uint groupsZ, in TPush push, params GpuBuffer[] buffers)
            where TPush : unmanaged
        {
            fixed (TPush* p = &push)
                Dispatch(kernel, groupsX, groupsY, groupsZ, new ReadOnlySpan<byte>(p, sizeof(TPush)), buffers);
        }

        public void Dispatch(ComputeKernel kernel, uint groupsX, uint groupsY, uint groupsZ, ReadOnlySpan<byte> push, params GpuBuffer[] buffers)
        {
            EnsureRecording();
            if (buffers.Length != kernel.BindingCount)
                throw new ArgumentException($"Kernel {kernel.Name} binds {kernel.BindingCount} buffers; {buffers.Length} were given.");
            if (push.Length != kernel.PushSize)
                throw new ArgumentException($"Kernel {kernel.Name} takes {kernel.PushSize} bytes of push constants; {push.Length} were given.");
            if (groupsX == 0 || groupsY == 0 || groupsZ == 0) return;
            ChunkIfDue();

            var vk = _ctx.Vk;
            // 1. Hazards against earlier commands of this batch.
            var reads = new List<ulong>();
            var writes = new List<ulong>();
            for (int i = 0; i < buffers.Length; i++)
            {
                var b = kernel.Reflection.StorageBuffers[i];
                ulong h = buffers[i].Handle.Handle;
                if (!b.WriteOnly) reads.Add(h);
                if (!b.ReadOnly) writes.Add(h);
            }
            Track(reads, writes);

            // 2. Descriptor set with the buffers.
            var set = AllocateSet(kernel);
            int n = buffers.Length;
            var infos = stackalloc DescriptorBufferInfo[Math.Max(1, n)];
            var writesDs = stackalloc WriteDescriptorSet[Math.Max(1, n)];
            for (int i = 0; i < n; i++)
            {
                infos[i] = new DescriptorBufferInfo { Buffer = buffers[i].Handle, Offset = 0, Range = (ulong)buffers[i].SizeBytes };
                writesDs[i] = new WriteDescriptorSet
                {
                    SType = StructureType.WriteDescriptorSet,
                    DstSet = set,
                    DstBinding = (uint)i,
                    DescriptorCount = 1,
                    DescriptorType = DescriptorType.StorageBuffer,
                    PBufferInfo = &infos[i],
                };
            }
            if (n > 0) vk.UpdateDescriptorSets(_ctx.Device, (uint)n, writesDs, 0, null);

            // 3. Record.
            int q = BeginTimestamp(kernel.Name);
            vk.CmdBindPipeline(_cmd, PipelineBindPoint.Compute, kernel.Pipeline);
            vk.CmdBindDescriptorSets(_cmd, PipelineBindPoint.Compute, kernel.Layout, 0, 1, &set, 0, null);
            if (push.Length > 0)
                fixed (byte* pp = push)
                    vk.CmdPushConstants(_cmd, kernel.Layout, ShaderStageFlags.ComputeBit, 0, (uint)push.Length, pp);
            vk.CmdDispatch(_cmd, groupsX, groupsY, groupsZ);
            if (!kernel.Dispatched) kernel.Dispatched = true;
            EndTimestamp(q);
            DispatchCount++;
            _commandsInChunk++;
        }

        public void Copy(GpuBuffer src, long srcOffset, GpuBuffer dst, long dstOffset, long bytes)
        {
            EnsureRecording();
            ChunkIfDue();
            _commandsInChunk++;
            Track(new List<ulong> { src.Handle.Handle }, new List<ulong> { dst.Handle.Handle });
            var region = new BufferCopy { SrcOffset = (ulong)srcOffset, DstOffset = (ulong)dstOffset, Size = (ulong)bytes };
            _ctx.Vk.CmdCopyBuffer(_cmd, src.Handle, dst.Handle, 1, &region);
        }

        public void Fill(GpuBuffer dst, uint pattern)
        {
            EnsureRecording();
            ChunkIfDue();
            _commandsInChunk++;
            Track(new List<ulong>(), new List<ulong> { dst.Handle.Handle });
            _ctx.Vk.CmdFillBuffer(_cmd, dst.Handle, 0, Vk.WholeSize, pattern);
        }

        private void Track(List<ulong> reads, List<ulong> writes)
        {
            bool hazard = false;
            foreach (var h in reads) if (_written.Contains(h)) { hazard = true; break; }
            if (!hazard) foreach (var h in writes) if (_written.Contains(h) || _read.Contains(h)) { hazard = true; break; }
            if (hazard)
            {
                var barrier = new MemoryBarrier
                {
                    SType = StructureType.MemoryBarrier,
                    SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit,
                    DstAccessMask = AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit | AccessFlags.TransferReadBit | AccessFlags.TransferWriteBit,
                };
                var stages = PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit;
                _ctx.Vk.CmdPipelineBarrier(_cmd, stages, stages, 0, 1, &barrier, 0, null, 0, null);
                BarrierCount++;
                _written.Clear();
                _read.Clear();
            }
            foreach (var h in reads) _read.Add(h);
            foreach (var h in writes) _written.Add(h);
        }

        /// <summary>
        /// Background work: once the chunk holds its share of commands, submits what is recorded, waits for it, and goes on
        /// recording into the same command buffer (reset), starting with a barrier against everything before it (a pipeline
        /// barrier's first scope covers all earlier commands in submission order). Not with timestamps (one query pool per
        /// recording).
        /// </summary>
        private void ChunkIfDue()
        {
            if (_background == null || _queries.Handle != 0 || _commandsInChunk < _background.ChunkDispatches) return;
            var vk = _ctx.Vk;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            vk.EndCommandBuffer(_cmd).Check("vkEndCommandBuffer");
            var cmd = _cmd;
            var submit = new SubmitInfo { SType = StructureType.SubmitInfo, CommandBufferCount = 1, PCommandBuffers = &cmd };
            long serial = _ctx.Submit(&submit, _fence);
            var fence = _fence;
            vk.WaitForFences(_ctx.Device, 1, &fence, true, 120_000_000_000UL).Check("vkWaitForFences");
            _ctx.MarkCompleted(serial);
            _background.Observe(_commandsInChunk, sw.Elapsed.TotalMilliseconds);
            vk.ResetFences(_ctx.Device, 1, &fence).Check("vkResetFences");
            vk.ResetCommandPool(_ctx.Device, _pool, 0).Check("vkResetCommandPool"); // the batch's own pool: its one command buffer
            var begin = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
            vk.BeginCommandBuffer(_cmd, &begin).Check("vkBeginCommandBuffer");
            var barrier = new MemoryBarrier
            {
                SType = StructureType.MemoryBarrier,
                SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit,
                DstAccessMask = AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit | AccessFlags.TransferReadBit | AccessFlags.TransferWriteBit,
            };
            var stages = PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit;
            vk.CmdPipelineBarrier(_cmd, stages, stages, 0, 1, &barrier, 0, null, 0, null);
            BarrierCount++;
            _written.Clear();
            _read.Clear();
            _commandsInChunk = 0;
            _ctx.CheckValidation();
        }

        private DescriptorSet AllocateSet(ComputeKernel kernel)
        {
            var vk = _ctx.Vk;
            if (_descriptorPools.Count == 0 || _setsInPool >= SetsPerPool)
            {
                var size = new DescriptorPoolSize { Type = DescriptorType.StorageBuffer, DescriptorCount = SetsPerPool * 8 };
                var info = new DescriptorPoolCreateInfo { SType = StructureType.DescriptorPoolCreateInfo, MaxSets = SetsPerPool, PoolSizeCount = 1, PPoolSizes = &size };
                DescriptorPool pool;
                vk.CreateDescriptorPool(_ctx.Device, &info, null, &pool).Check("vkCreateDescriptorPool");
                _descriptorPools.Add(pool); _ctx.TrackHandle(1);
                _setsInPool = 0;
            }
            var layout = kernel.SetLayout;
            var alloc = new DescriptorSetAllocateInfo
            {
                SType = StructureType.DescriptorSetAllocateInfo,
                DescriptorPool = _descriptorPools[_descriptorPools.Count - 1],
                DescriptorSetCount = 1,
                PSetLayouts = &layout,
            };
            DescriptorSet set;
            vk.AllocateDescriptorSets(_ctx.Device, &alloc, &set).Check("vkAllocateDescriptorSets");
            _setsInPool++;
            return set;
        }

        private int BeginTimestamp(string label)
        {
            if (_queries.Handle == 0 || _timestampLabels.Count * 2 + 2 > MaxTimestamps) return -1;
            int q = _timestampLabels.Count;
            _timestampLabels.Add(label);
            _ctx.Vk.CmdWriteTimestamp(_cmd, PipelineStageFlags.TopOfPipeBit, _queries, (uint)(2 * q));
            return q;
        }

        private void EndTimestamp(int q)
        {
            if (q < 0) return;
            _ctx.Vk.CmdWriteTimestamp(_cmd, PipelineStageFlags.BottomOfPipeBit, _queries, (uint)(2 * q + 1));
        }

        private void EnsureRecording()
        {
            if (_disposed) throw new ObjectDisposedException(nameof(CommandBatch));
            if (_submitted) throw new InvalidOperationException($"Batch '{_label}' was already submitted.");
        }

        /// <summary>Ends recording and submits to the queue. Does not wait.</summary>
        public void Submit()
        {
            EnsureRecording();
            var vk = _ctx.Vk;
            // Make every write visible to the host (mapped reads after the fence) and to later batches.
            var barrier = new MemoryBarrier
            {
                SType = StructureType.MemoryBarrier,
                SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit,
                DstAccessMask = AccessFlags.HostReadBit,
            };
            vk.CmdPipelineBarrier(_cmd, PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit, PipelineStageFlags.HostBit, 0, 1, &barrier, 0, null, 0, null);
            vk.EndCommandBuffer(_cmd).Check("vkEndCommandBuffer");
            var cmd = _cmd;
            var submit = new SubmitInfo { SType = StructureType.SubmitInfo, CommandBufferCount = 1, PCommandBuffers = &cmd };
            _serial = _ctx.Submit(&submit, _fence);
            _submitted = true;
        }

        /// <summary>Waits for the submitted work; then reads timestamps and checks validation messages.</summary>
        public void Wait(ulong timeoutNs = 120_000_000_000UL)
        {
            if (!_submitted) throw new InvalidOperationException($"Batch '{_label}' was not submitted.");
            if (_completed) return;
            var fence = _fence;
            var r = _ctx.Vk.WaitForFences(_ctx.Device, 1, &fence, true, timeoutNs);
            if (r == Result.Timeout) throw new VulkanException($"Batch '{_label}' did not finish within {timeoutNs / 1e9:F0} s (vkWaitForFences timed out).");
            r.Check("vkWaitForFences");
            _completed = true;
            _ctx.MarkCompleted(_serial);
            if (_queries.Handle != 0 && _timestampLabels.Count > 0)
            {
                var stamps = new ulong[_timestampLabels.Count * 2];
                fixed (ulong* ps = stamps)
                    _ctx.Vk.GetQueryPoolResults(_ctx.Device, _queries, 0, (uint)stamps.Length, (nuint)(stamps.Length * 8), ps, 8,
                        QueryResultFlags.Result64Bit | QueryResultFlags.ResultWaitBit).Check("vkGetQueryPoolResults");
                var list = new List<KernelTiming>();
                for (int i = 0; i < _timestampLabels.Count; i++)
                    list.Add(new KernelTiming(_timestampLabels[i], (stamps[2 * i + 1] - stamps[2 * i]) * _ctx.TimestampPeriodNs / 1e6));
                Timings = list;
            }
            _ctx.CheckValidation();
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            var vk = _ctx.Vk;
            var device = _ctx.Device;
            if (_submitted && !_completed)
            {
                var fence = _fence;
                vk.WaitForFences(device, 1, &fence, true, ulong.MaxValue);
                _ctx.MarkCompleted(_serial);
            }
            foreach (var p in _descriptorPools) { vk.DestroyDescriptorPool(device, p, null); _ctx.TrackHandle(-1); }
            _descriptorPools.Clear();
            if (_queries.Handle != 0) { vk.DestroyQueryPool(device, _queries, null); _ctx.TrackHandle(-1); }
            if (_fence.Handle != 0) { vk.DestroyFence(device, _fence, null); _ctx.TrackHandle(-1); }
            if (_pool.Handle != 0) { vk.DestroyCommandPool(device, _pool, null); _ctx.TrackHandle(-1); }
        }
    }
}
