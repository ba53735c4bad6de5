using System;
using System.Linq;
using FlowMap.Gpu;
using FlowMap.Tests.Support;
using FlowMap.Viewer.Rendering;
using Xunit;

namespace FlowMap.Tests.Gpu
{
    /// <summary>
    /// The one Vulkan set-up (Gpu/VulkanSetup.cs) shared by the compute context and the viewer's graphics device: the
    /// same device choice, the same error for a named device that is missing, portability enumeration where offered.
    /// </summary>
    public sealed class VulkanSetupTests : GpuTest
    {
        public VulkanSetupTests(GpuFixture f) : base(f) { }

        private static GpuDeviceInfo D(string n, GpuDeviceKind k) => new GpuDeviceInfo(n, k, "1.3.0", 1024, 32768, 128, 1 << 27, 32, 1 << 30, false, true);

        [Fact]
        public void Unusable_devices_are_passed_over_and_a_named_unusable_device_is_an_error_saying_why()
        {
            var list = new[] { D("llvmpipe", GpuDeviceKind.Cpu), D("RTX 4090", GpuDeviceKind.DiscreteGpu) };
            var noGraphicsOnRtx = new string?[] { null, "no graphics queue" };
            Assert.Equal(0, VulkanSetup.ChooseDevice(list, null, noGraphicsOnRtx));
            var e = Assert.Throws<GpuUnavailableException>(() => VulkanSetup.ChooseDevice(list, "rtx", noGraphicsOnRtx));
            Assert.Contains("no graphics queue", e.Message);
            e = Assert.Throws<GpuUnavailableException>(() => VulkanSetup.ChooseDevice(list, null, new string?[] { "x", "y" }));
            Assert.Contains("llvmpipe (x)", e.Message);
        }

        [Fact]
        public void A_missing_named_device_is_the_same_error_for_compute_and_for_the_viewer()
        {
            _ = Ctx; // skip without a device
            const string name = "no-such-vulkan-device-7f3a";
            var compute = Assert.Throws<GpuUnavailableException>(() => GpuContext.Create(new GpuContextOptions { DeviceName = name }));
            var viewer = Assert.Throws<RenderException>(() => RenderDevice.Create(new RenderDeviceOptions { DeviceName = name, Validation = true }));
            Assert.Contains($"No Vulkan device matches the device name '{name}'", compute.Message);
            Assert.Equal(compute.Message, viewer.Message);
            Assert.Contains(Ctx.Info.Name, compute.Message); // lists what exists
        }

        [Fact]
        public void A_named_device_is_chosen_by_both_clients()
        {
            var part = Ctx.Info.Name.Split(' ')[0];
            using var ctx = GpuContext.Create(new GpuContextOptions { DeviceName = part, Validation = true });
            using var dev = RenderDevice.Create(new RenderDeviceOptions { DeviceName = part, Validation = true });
            Assert.Contains(part, ctx.Info.Name, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(ctx.Info.Name, dev.DeviceName);
            dev.ThrowIfValidationErrors();
        }

        [Fact]
        public unsafe void Instances_with_portability_enumeration_where_offered_list_the_devices()
        {
            _ = Ctx;
            var vk = VulkanSetup.LoadApi();
            bool offered = VulkanSetup.InstanceExtensionNames(vk).Contains(VulkanSetup.PortabilityEnumerationExtension);
            // Creating an instance with the extension and its flag must succeed where offered (the loader rejects the flag
            // without the extension); validation on, so a wrong combination is reported by the layer too.
            var instance = VulkanSetup.CreateInstance(vk, "FlowMap test", validation: true, Array.Empty<string>());
            try
            {
                var devices = VulkanSetup.EnumeratePhysicalDevices(vk, instance);
                Assert.NotEmpty(devices);
            }
            finally
            {
                vk.DestroyInstance(instance, null);
            }
            TestContext.Current.SendDiagnosticMessage($"VK_KHR_portability_enumeration offered: {offered}");
        }

        [Fact]
        public void Memory_type_lookup_honours_the_allowed_types_and_all_flags()
        {
            var mp = Ctx.MemoryProperties;
            int all = VulkanSetup.FindMemoryType(mp, uint.MaxValue, 0);
            Assert.Equal(0, all);
            int local = VulkanSetup.FindMemoryType(mp, uint.MaxValue, Silk.NET.Vulkan.MemoryPropertyFlags.DeviceLocalBit);
            Assert.True(local >= 0);
            Assert.Equal(-1, VulkanSetup.FindMemoryType(mp, 0, 0)); // no type allowed
            Assert.Equal(-1, VulkanSetup.FindMemoryType(mp, uint.MaxValue, (Silk.NET.Vulkan.MemoryPropertyFlags)0x40000000));
        }
    }
}
