using System;
using FlowMap.Gpu;
using Xunit;

[assembly: AssemblyFixture(typeof(FlowMap.Tests.Support.GpuFixture))]

namespace FlowMap.Tests.Support
{
    /// <summary>
    /// One Vulkan context for the whole test run, with the validation layer on. Tests that need it derive from
    /// <see cref="GpuTest"/>: without a device they are skipped with the reason (or fail when FLOWMAP_REQUIRE_GPU=1,
    /// as in CI, so a missing driver can never turn the GPU tests into silent skips).
    /// </summary>
    public sealed class GpuFixture : IDisposable
    {
        private readonly Lazy<GpuContext?> _ctx;
        public string? Unavailable { get; private set; }

        public GpuFixture()
        {
            _ctx = new Lazy<GpuContext?>(() =>
            {
                try
                {
                    return GpuContext.Create(new GpuContextOptions
                    {
                        Validation = true,
                        FailOnValidationError = true,
                        // FLOWMAP_FORCE_STAGING=1 (CI's second pass): every buffer takes the discrete-GPU staged path.
                        ForceStaging = Environment.GetEnvironmentVariable("FLOWMAP_FORCE_STAGING") == "1",
                    });
                }
                catch (GpuUnavailableException e)
                {
                    Unavailable = e.Message;
                    return null;
                }
            });
        }

        internal GpuContext? Context => _ctx.Value;

        public static bool GpuRequired => Environment.GetEnvironmentVariable("FLOWMAP_REQUIRE_GPU") == "1";

        public void Dispose()
        {
            if (_ctx.IsValueCreated) _ctx.Value?.Dispose();
        }
    }

    /// <summary>Base for tests on the GPU: gives <see cref="Ctx"/>, and fails the test on any validation error it caused.</summary>
    public abstract class GpuTest : IDisposable
    {
        private readonly GpuFixture _fixture;

        protected GpuTest(GpuFixture fixture) { _fixture = fixture; }

        internal GpuContext Ctx
        {
            get
            {
                var c = _fixture.Context;
                if (c != null) return c;
                if (GpuFixture.GpuRequired) throw new InvalidOperationException("FLOWMAP_REQUIRE_GPU=1 but no Vulkan device: " + _fixture.Unavailable);
                Assert.Skip("No Vulkan device: " + _fixture.Unavailable);
                return null!;
            }
        }

        public virtual void Dispose()
        {
            _fixture.Context?.ThrowIfValidationErrors();
        }
    }
}
