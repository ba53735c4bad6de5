using System;
using System.Threading;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace FlowMap.Gpu
{
    /// <summary>
    /// A compute pipeline built from an embedded SPIR-V module. The descriptor layout (storage buffers at set 0,
    /// bindings 0..n-1) and the push-constant range are read from the module itself. Work-group size comes from
    /// specialization constants 0, 1, 2 (GLSL <c>layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2)</c>).
    /// Owned and disposed by its <see cref="GpuContext"/>.
    /// </summary>
    internal sealed unsafe class ComputeKernel : IDisposable
    {
        private readonly GpuContext _ctx;
        public string Name { get; }
        public uint LocalX { get; }
        public uint LocalY { get; }
        public uint LocalZ { get; }
        public SpirvReflection Reflection { get; }
        public int BindingCount => Reflection.StorageBuffers.Count;
        public uint PushSize => Reflection.PushConstantSize;

        /// <summary>Whether a batch has recorded a dispatch of this kernel (lavapipe compiles a kernel at its first dispatch).</summary>
        internal bool Dispatched { get => Volatile.Read(ref _dispatched); set => Volatile.Write(ref _dispatched, value); }
        private bool _dispatched;

        internal DescriptorSetLayout SetLayout { get; private set; }
        internal PipelineLayout Layout { get; private set; }
        internal Pipeline Pipeline { get; private set; }
        private ShaderModule _module;

        internal ComputeKernel(GpuContext ctx, string name, uint localX, uint localY, uint localZ)
        {
            _ctx = ctx;
            Name = name;
            LocalX = localX; LocalY = localY; LocalZ = localZ;
            var code = ShaderLibrary.Load(name);
            Reflection = new SpirvReflection(code);
            var vk = ctx.Vk;
            var device = ctx.Device;
            try
            {
                for (int i = 0; i < Reflection.StorageBuffers.Count; i++)
                    if (Reflection.StorageBuffers[i].Set != 0 || Reflection.StorageBuffers[i].Index != i)
                        throw new InvalidOperationException($"Shader {name}: storage buffers must be set 0, bindings 0..n-1 without gaps.");

                fixed (byte* pCode = code)
                {
                    var smInfo = new ShaderModuleCreateInfo { SType = StructureType.ShaderModuleCreateInfo, CodeSize = (nuint)code.Length, PCode = (uint*)pCode };
                    ShaderModule module;
                    vk.CreateShaderModule(device, &smInfo, null, &module).Check($"vkCreateShaderModule({name})");
                    _module = module;
                    ctx.TrackHandle(1);
                }

                int n = BindingCount;
                var bindings = stackalloc DescriptorSetLayoutBinding[Math.Max(1, n)];
                for (int i = 0; i < n; i++)
                    bindings[i] = new DescriptorSetLayoutBinding
                    {
                        Binding = (uint)i,
                        DescriptorType = DescriptorType.StorageBuffer,
                        DescriptorCount = 1,
                        StageFlags = ShaderStageFlags.ComputeBit,
                    };
                var dslInfo = new DescriptorSetLayoutCreateInfo { SType = StructureType.DescriptorSetLayoutCreateInfo, BindingCount = (uint)n, PBindings = bindings };
                DescriptorSetLayout dsl;
                vk.CreateDescriptorSetLayout(device, &dslInfo, null, &dsl).Check($"vkCreateDescriptorSetLayout({name})");
                SetLayout = dsl;
                ctx.TrackHandle(1);

                var range = new PushConstantRange { StageFlags = ShaderStageFlags.ComputeBit, Offset = 0, Size = PushSize };
                var plInfo = new PipelineLayoutCreateInfo
                {
                    SType = StructureType.PipelineLayoutCreateInfo,
                    SetLayoutCount = 1,
                    PSetLayouts = &dsl,
                    PushConstantRangeCount = PushSize > 0 ? 1u : 0u,
                    PPushConstantRanges = &range,
                };
                PipelineLayout layout;
                vk.CreatePipelineLayout(device, &plInfo, null, &layout).Check($"vkCreatePipelineLayout({name})");
                Layout = layout;
                ctx.TrackHandle(1);

                var specData = stackalloc uint[3] { localX, localY, localZ };
                var entries = stackalloc SpecializationMapEntry[3];
                int specCount = 0;
                for (uint id = 0; id < 3; id++)
                    if (Reflection.SpecConstantIds.Contains(id))
                        entries[specCount++] = new SpecializationMapEntry { ConstantID = id, Offset = id * 4, Size = 4 };
                var spec = new SpecializationInfo { MapEntryCount = (uint)specCount, PMapEntries = entries, DataSize = 12, PData = specData };
                var entryName = (byte*)SilkMarshal.StringToPtr(Reflection.EntryPoint);
                try
                {
                    var cpInfo = new ComputePipelineCreateInfo
                    {
                        SType = StructureType.ComputePipelineCreateInfo,
                        Stage = new PipelineShaderStageCreateInfo
                        {
                            SType = StructureType.PipelineShaderStageCreateInfo,
                            Stage = ShaderStageFlags.ComputeBit,
                            Module = _module,
                            PName = entryName,
                            PSpecializationInfo = specCount > 0 ? &spec : null,
                        },
                        Layout = layout,
                    };
                    Pipeline pipeline;
                    vk.CreateComputePipelines(device, default, 1, &cpInfo, null, &pipeline).Check($"vkCreateComputePipelines({name})");
                    Pipeline = pipeline;
                    ctx.TrackHandle(1);
                }
                finally
                {
                    SilkMarshal.Free((nint)entryName);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>Number of work groups to cover <paramref name="n"/> items with groups of <paramref name="local"/>.</summary>
        public static uint Groups(int n, uint local) => (uint)((n + (int)local - 1) / (int)local);

        public void Dispose()
        {
            var vk = _ctx.Vk;
            var device = _ctx.Device;
            if (Pipeline.Handle != 0) { vk.DestroyPipeline(device, Pipeline, null); Pipeline = default; _ctx.TrackHandle(-1); }
            if (Layout.Handle != 0) { vk.DestroyPipelineLayout(device, Layout, null); Layout = default; _ctx.TrackHandle(-1); }
            if (SetLayout.Handle != 0) { vk.DestroyDescriptorSetLayout(device, SetLayout, null); SetLayout = default; _ctx.TrackHandle(-1); }
            if (_module.Handle != 0) { vk.DestroyShaderModule(device, _module, null); _module = default; _ctx.TrackHandle(-1); }
        }
    }
}
