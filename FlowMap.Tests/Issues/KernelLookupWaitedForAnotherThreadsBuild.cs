using System;
using System.Threading;
using System.Threading.Tasks;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found looking into a machine's first run of issue 12's paced benchmark (`./flowmap bench live --long-frames 0` with
    /// the Mesa shader cache empty: 133 of 211 frames processed against 187-193 warm, the first window solve 2.7 s against
    /// 1.1 s): <c>GpuContext.Kernel</c> built a pipeline under the one lock that every kernel lookup takes, so a live
    /// session's tracking thread, asking for kernels it had built long before, waited behind every pipeline the mapping
    /// thread built (a discrete GPU's driver compiles the shader there; lavapipe compiles at the first dispatch instead, so
    /// on this machine the cold run changed little: 144 and 141 frames processed, one run each). Pipelines are now built
    /// outside that lock. Here a build is held on one thread while another looks up a kernel the context already has, and
    /// builds a new one: neither waits for the held build; two threads asking for the held kernel get the one pipeline.
    /// </summary>
    public sealed class KernelLookupWaitedForAnotherThreadsBuild : GpuTest
    {
        public KernelLookupWaitedForAnotherThreadsBuild(GpuFixture f) : base(f) { }

        // Specialisations no other test asks for (the context is shared by the whole run), so this test builds them itself.
        private const string Shader = "luminance.comp";
        private const uint HeldX = 3, HeldY = 5, BuiltX = 5, BuiltY = 3, FreshX = 7, FreshY = 3;

        [Fact]
        public void A_kernel_lookup_does_not_wait_for_another_threads_build()
        {
            var ctx = Ctx;
            var built = ctx.Kernel(Shader, BuiltX, BuiltY, 1);
            string heldKey = $"{Shader}/{HeldX}x{HeldY}x1";
            using var entered = new ManualResetEventSlim(false);
            using var release = new ManualResetEventSlim(false);
            int heldBuilds = 0;
            ctx.KernelBuilding = key =>
            {
                if (key != heldKey) return;
                Interlocked.Increment(ref heldBuilds);
                entered.Set();
                release.Wait();
            };
            try
            {
                var first = Task.Run(() => ctx.Kernel(Shader, HeldX, HeldY, 1));
                var second = Task.Run(() => { entered.Wait(); return ctx.Kernel(Shader, HeldX, HeldY, 1); });
                Assert.True(entered.Wait(TimeSpan.FromSeconds(60)), "the held build never started");

                // While the build is held: a kernel the context has, and a new one, come back (a deadlock is the failure;
                // the generous bound only keeps a broken build from hanging the run).
                var lookup = Task.Run(() => ctx.Kernel(Shader, BuiltX, BuiltY, 1));
                Assert.True(lookup.Wait(TimeSpan.FromSeconds(60)), "a lookup of a built kernel waited for another thread's build");
                Assert.Same(built, lookup.Result);
                var fresh = Task.Run(() => ctx.Kernel(Shader, FreshX, FreshY, 1));
                Assert.True(fresh.Wait(TimeSpan.FromSeconds(60)), "a new kernel's build waited for another thread's build");
                Assert.False(first.IsCompleted);

                release.Set();
                Assert.True(Task.WaitAll(new Task[] { first, second }, TimeSpan.FromSeconds(60)));
                Assert.Same(first.Result, second.Result);
                Assert.Equal(1, heldBuilds);
                Assert.Same(first.Result, ctx.Kernel(Shader, HeldX, HeldY, 1));
            }
            finally
            {
                release.Set();
                ctx.KernelBuilding = null;
            }
        }

        [Fact]
        public void A_failed_build_is_not_kept()
        {
            var ctx = Ctx;
            string key = $"{Shader}/9x3x1";
            int attempts = 0;
            ctx.KernelBuilding = k =>
            {
                if (k == key && Interlocked.Increment(ref attempts) == 1) throw new InvalidOperationException("build failed");
            };
            try
            {
                Assert.Throws<InvalidOperationException>(() => ctx.Kernel(Shader, 9, 3, 1));
                var k = ctx.Kernel(Shader, 9, 3, 1);
                Assert.Equal(2, attempts);
                Assert.Same(k, ctx.Kernel(Shader, 9, 3, 1));
            }
            finally { ctx.KernelBuilding = null; }
        }
    }
}
