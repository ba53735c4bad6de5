namespace FlowMap.Gpu
{
    /// <summary>Kind of Vulkan device, in the order FlowMap prefers them.</summary>
    internal enum GpuDeviceKind { DiscreteGpu, IntegratedGpu, VirtualGpu, Cpu, Other }

    /// <summary>What a Vulkan device offers, as far as FlowMap cares.</summary>
    /// <param name="Name">Driver-reported name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".</param>
    /// <param name="Kind">Discrete, integrated, virtual or CPU.</param>
    /// <param name="ApiVersion">Vulkan API version "major.minor.patch".</param>
    /// <param name="MaxWorkGroupInvocations">maxComputeWorkGroupInvocations.</param>
    /// <param name="MaxSharedMemoryBytes">maxComputeSharedMemorySize, bytes.</param>
    /// <param name="MaxPushConstantBytes">maxPushConstantsSize, bytes.</param>
    /// <param name="MaxStorageBufferRange">maxStorageBufferRange, bytes: the largest single buffer a kernel can bind.</param>
    /// <param name="SubgroupSize">Subgroup (warp/wave) width.</param>
    /// <param name="DeviceLocalHeapBytes">Largest device-local memory heap, bytes.</param>
    /// <param name="HostVisibleDeviceLocal">True when device-local memory can be mapped (no staging copies needed).</param>
    /// <param name="Timestamps">True when compute timestamps are supported (per-kernel GPU time).</param>
    internal sealed record GpuDeviceInfo(
        string Name,
        GpuDeviceKind Kind,
        string ApiVersion,
        uint MaxWorkGroupInvocations,
        uint MaxSharedMemoryBytes,
        uint MaxPushConstantBytes,
        uint MaxStorageBufferRange,
        uint SubgroupSize,
        long DeviceLocalHeapBytes,
        bool HostVisibleDeviceLocal,
        bool Timestamps);
}
