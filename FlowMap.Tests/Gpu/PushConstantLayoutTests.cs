using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;
using Xunit;

namespace FlowMap.Tests.Gpu
{
    /// <summary>Each dispatcher's push-constant struct against the push block in its shader's SPIR-V (no device needed).</summary>
    public sealed class PushConstantLayoutTests
    {
        public static TheoryData<string> Shaders()
        {
            var d = new TheoryData<string>();
            foreach (var (s, _) in KernelCatalog.All) d.Add(s);
            return d;
        }

        [Theory, MemberData(nameof(Shaders))]
        public void Push_struct_matches_the_shader(string shader)
        {
            var type = KernelCatalog.All.Single(k => k.Shader == shader).Push;
            var spirv = ShaderLibrary.Reflect(shader);
            var fields = type.GetFields(BindingFlags.Public | BindingFlags.Instance);
            Assert.Equal(spirv.PushConstants.Count, fields.Length);
            for (int i = 0; i < fields.Length; i++)
            {
                long offset = Marshal.OffsetOf(type, fields[i].Name).ToInt64();
                Assert.True(spirv.PushConstants[i].Offset == offset,
                    $"{shader}: field {fields[i].Name} at offset {offset}, shader member {spirv.PushConstants[i].Name} at {spirv.PushConstants[i].Offset}");
                Assert.True(spirv.PushConstants[i].Size == Marshal.SizeOf(fields[i].FieldType),
                    $"{shader}: field {fields[i].Name} is {Marshal.SizeOf(fields[i].FieldType)} bytes, shader member {spirv.PushConstants[i].Name} {spirv.PushConstants[i].Size}");
                Assert.Equal(spirv.PushConstants[i].Name.ToLowerInvariant(), fields[i].Name.ToLowerInvariant());
            }
            Assert.Equal(spirv.PushConstantSize, (uint)Marshal.SizeOf(type));
        }

        [Fact]
        public void Every_embedded_compute_shader_is_in_the_catalog()
        {
            var computes = ShaderLibrary.Names.Where(n => n.EndsWith(".comp", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(computes);
            foreach (var s in computes)
                Assert.Contains(s, KernelCatalog.All.Select(k => k.Shader));
        }

        [Fact]
        public void Reflection_reads_bindings_and_access()
        {
            var r = ShaderLibrary.Reflect(Warp.Shader);
            Assert.Equal(4, r.StorageBuffers.Count);
            Assert.True(r.StorageBuffers[0].ReadOnly);
            Assert.True(r.StorageBuffers[1].ReadOnly);
            Assert.False(r.StorageBuffers[2].ReadOnly);
            Assert.True(r.StorageBuffers[2].WriteOnly);
            Assert.Equal(new uint[] { 0, 1, 2 }, r.SpecConstantIds);
        }
    }
}
