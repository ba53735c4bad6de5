using System;
using System.Linq;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Gpu
{
    /// <summary>The GPU layer itself: ownership and leaks, batching and barriers, staging, timestamps, errors.</summary>
    public sealed class GpuLayerTests : GpuTest
    {
        public GpuLayerTests(GpuFixture f) : base(f) { }

        [Fact]
        public void Nothing_leaks_after_a_pipeline_is_built_run_and_disposed()
        {
            _ = Ctx; // skip without a device
            int handlesAfterDispose;
            var ctx = GpuContext.Create(new GpuContextOptions { Validation = true });
            try
            {
                using (var a = new GpuImage(ctx, 37, 21))
                using (var b = new GpuImage(ctx, 37, 21, 2))
                using (var batch = ctx.BeginBatch("leak", timestamps: true))
                {
                    a.Upload(new float[37 * 21]);
                    Gradient.Record(batch, ctx, a, b);
                    batch.Submit();
                    batch.Wait();
                    Assert.True(ctx.LiveHandles > 0);
                }
                handlesAfterDispose = ctx.LiveHandles;
            }
            finally
            {
                ctx.Dispose(); // throws on any validation error, including objects left alive at vkDestroyDevice
            }
            Assert.Equal(4, handlesAfterDispose); // only the cached kernel remains: module, set layout, pipeline layout, pipeline
            Assert.Equal(0, ctx.LiveHandles);
            Assert.Equal(0, ctx.BufferBytes);
        }

        [Fact]
        public void Dispose_while_in_flight_defers_destruction_until_the_gpu_is_done()
        {
            var src = new GpuImage(Ctx, 512, 512);
            var dst = new GpuImage(Ctx, 512, 512, 2);
            using var batch = Ctx.BeginBatch("inflight");
            Gradient.Record(batch, Ctx, src, dst);
            batch.Submit();
            src.Dispose(); // still used by the submitted batch: must not be destroyed yet (validation would flag it)
            dst.Dispose();
            batch.Wait();
            Ctx.ThrowIfValidationErrors();
        }

        [Fact]
        public void Independent_dispatches_share_no_barrier_and_dependent_ones_get_one()
        {
            int w = 41, h = 29;
            var rng = Rng.Fresh(out int seed);
            var data = Rng.Floats(rng, w * h);
            using var src = new GpuImage(Ctx, w, h);
            src.Upload(data);
            var outs = Enumerable.Range(0, 6).Select(_ => new GpuImage(Ctx, w, h, 2)).ToArray();
            using var half = new GpuImage(Ctx, (w + 1) / 2, (h + 1) / 2);
            using var halfGrad = new GpuImage(Ctx, (w + 1) / 2, (h + 1) / 2, 2);
            try
            {
                using var batch = Ctx.BeginBatch("chain");
                foreach (var o in outs) Gradient.Record(batch, Ctx, src, o); // 6 readers of src, distinct outputs
                Assert.Equal(0, batch.BarrierCount);
                Downsample.Record(batch, Ctx, src, half);
                Assert.Equal(0, batch.BarrierCount);
                Gradient.Record(batch, Ctx, half, halfGrad); // reads what the previous dispatch wrote
                Assert.Equal(1, batch.BarrierCount);
                batch.Submit();
                batch.Wait();
                Compare.AllClose(Gradient.Reference(Downsample.Reference(data, w, h).Select(v => (float)v).ToArray(), half.Width, half.Height),
                    halfGrad.Download(), 1e-6, 1e-6, $"chained seed {seed}");
            }
            finally
            {
                foreach (var o in outs) o.Dispose();
            }
        }

        [Fact]
        public void Staging_path_round_trips_like_the_mapped_path()
        {
            var rng = Rng.Fresh(out int seed);
            var data = Rng.Floats(rng, 10_007);
            using var staged = new GpuBuffer(Ctx, data.Length * 4, "staged", forceStaging: true);
            staged.Write<float>(data);
            var back = staged.ReadAll<float>(data.Length);
            Assert.Equal(data, back);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void New_buffers_start_zeroed_on_both_paths(bool staged)
        {
            // Dirty a block of memory, free it, then allocate the same size again: the allocator is free to hand the same
            // memory back, and the new buffer must still read as zeros (exact: a fill, no arithmetic).
            const int n = 4099; // odd: not a multiple of the 16-byte rounding or of any work-group size
            using (var dirty = new GpuBuffer(Ctx, n * 4, "dirty", forceStaging: staged))
            {
                dirty.Write<uint>(Enumerable.Repeat(0xDEADBEEFu, n).ToArray());
                Assert.All(dirty.ReadAll<uint>(n), v => Assert.Equal(0xDEADBEEFu, v));
            }
            Ctx.WaitIdle(); // the dirty buffer's memory is really freed now
            using var fresh = new GpuBuffer(Ctx, n * 4, "fresh", forceStaging: staged);
            Assert.Equal(staged || Ctx.ForceStaging || !HostVisibleDeviceLocal, !fresh.IsMapped);
            var all = fresh.ReadAll<uint>((int)(fresh.SizeBytes / 4));
            Assert.All(all, v => Assert.Equal(0u, v));
        }

        private bool HostVisibleDeviceLocal => Ctx.Info.HostVisibleDeviceLocal;

        [Fact]
        public void A_context_with_forced_staging_runs_kernels_through_device_local_buffers()
        {
            _ = Ctx; // skip without a device
            var rng = Rng.Fresh(out int seed);
            const int w = 37, h = 21; // odd sizes: partial work groups at both edges
            var data = Rng.Floats(rng, w * h);
            var ctx = GpuContext.Create(new GpuContextOptions { Validation = true, FailOnValidationError = true, ForceStaging = true });
            try
            {
                Assert.True(ctx.ForceStaging);
                using var a = new GpuImage(ctx, w, h);
                using var b = new GpuImage(ctx, w, h, 2, guardFloats: 5);
                Assert.False(a.Buffer.IsMapped);
                Assert.False(b.Buffer.IsMapped);
                a.Upload(data);
                using (var batch = ctx.BeginBatch("staged"))
                {
                    Gradient.Record(batch, ctx, a, b);
                    batch.Submit();
                    batch.Wait();
                }
                // Same kernel, same inputs as the mapped path: the float32 result against the double reference within the
                // kernel test's tolerance (a few float roundings of values of order 1).
                var withGuard = b.DownloadWithGuard();
                Compare.AllClose(Gradient.Reference(data, w, h), withGuard.Take(w * h * 2).ToArray(), 1e-6, 1e-6, $"staged seed {seed}");
                Assert.All(withGuard.Skip(w * h * 2), v => Assert.Equal(0f, v)); // the guard tail was zeroed and left alone
            }
            finally
            {
                ctx.Dispose(); // throws on any validation error
            }
        }

        [Fact]
        public void Timestamps_report_per_kernel_gpu_time()
        {
            if (!Ctx.TimestampsSupported) Assert.Skip("Device has no compute timestamps.");
            using var a = new GpuImage(Ctx, 320, 240);
            using var b = new GpuImage(Ctx, 320, 240, 2);
            using var batch = Ctx.BeginBatch("ts", timestamps: true);
            Gradient.Record(batch, Ctx, a, b);
            batch.Submit();
            batch.Wait();
            var t = Assert.Single(batch.Timings);
            Assert.Equal(Gradient.Shader, t.Label);
            Assert.True(t.Milliseconds >= 0);
        }

        [Fact]
        public void Wrong_binding_count_or_push_size_is_a_clear_error()
        {
            using var a = new GpuImage(Ctx, 8, 8);
            using var batch = Ctx.BeginBatch("bad");
            var k = Ctx.Kernel(Gradient.Shader);
            var e = Assert.Throws<ArgumentException>(() => batch.Dispatch(k, 1, 1, 1, new Gradient.Push { Width = 8, Height = 8 }, a.Buffer));
            Assert.Contains("binds 2 buffers", e.Message);
            e = Assert.Throws<ArgumentException>(() => batch.Dispatch(k, 1, 1, 1, new Luminance.Push(), a.Buffer, a.Buffer));
            Assert.Contains("push constants", e.Message);
        }

        [Fact]
        public void Validation_errors_are_caught_and_fail_the_caller()
        {
            _ = Ctx;
            var ctx = GpuContext.Create(new GpuContextOptions { Validation = true, FailOnValidationError = true });
            try
            {
                // Free a buffer handle twice behind the layer's back: a guaranteed validation error.
                unsafe
                {
                    var info = new Silk.NET.Vulkan.BufferCreateInfo { SType = Silk.NET.Vulkan.StructureType.BufferCreateInfo, Size = 0, Usage = Silk.NET.Vulkan.BufferUsageFlags.StorageBufferBit };
                    Silk.NET.Vulkan.Buffer buf;
                    ctx.Vk.CreateBuffer(ctx.Device, &info, null, &buf); // size 0 is invalid usage
                    if (buf.Handle != 0) ctx.Vk.DestroyBuffer(ctx.Device, buf, null);
                }
                Assert.Throws<VulkanValidationException>(() => ctx.ThrowIfValidationErrors());
            }
            finally
            {
                ctx.Dispose();
            }
        }

        [Fact]
        public void Device_choice_prefers_discrete_then_integrated_then_cpu_and_honours_the_name()
        {
            GpuDeviceInfo D(string n, GpuDeviceKind k) => new GpuDeviceInfo(n, k, "1.3.0", 1024, 32768, 128, 1 << 27, 32, 1 << 30, false, true);
            var list = new[] { D("llvmpipe", GpuDeviceKind.Cpu), D("Intel UHD", GpuDeviceKind.IntegratedGpu), D("RTX 4090", GpuDeviceKind.DiscreteGpu) };
            Assert.Equal(2, VulkanSetup.ChooseDevice(list, null));
            Assert.Equal(1, VulkanSetup.ChooseDevice(list.Take(2).ToList(), null));
            Assert.Equal(0, VulkanSetup.ChooseDevice(list, "LLVM"));
            var e = Assert.Throws<GpuUnavailableException>(() => VulkanSetup.ChooseDevice(list, "radeon"));
            Assert.Contains("FLOWMAP_DEVICE", e.Message);
        }
    }
}
