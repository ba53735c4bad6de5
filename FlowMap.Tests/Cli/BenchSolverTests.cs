using System.Linq;
using System.Text.Json;
using Xunit;

namespace FlowMap.Tests.Cli
{
    /// <summary>`flowmap bench solver` argument errors: one line, exit code 2, before any work.</summary>
    public sealed class BenchSolverTests
    {
        [Theory]
        [InlineData("--frames", "1", "--frames must be at least 2.")]
        [InlineData("--steps", "0", "--steps must be at least 1.")]
        [InlineData("--sizes", "12by3", "is not a size")]
        public void Bad_arguments_fail_with_one_line(string option, string value, string message)
        {
            var (code, _, stderr) = CliProcess.Run(new[] { "bench", "solver", option, value });
            Assert.Equal(2, code);
            Assert.Contains(message, stderr);
        }

        [Fact]
        public void Kernel_timings_need_the_keyframe_solve()
        {
            var (code, _, stderr) = CliProcess.Run(new[] { "bench", "solver", "--kernel-timings", "--keyframe-size", "none" });
            Assert.Equal(2, code);
            Assert.Contains("--kernel-timings times the keyframe solve", stderr);
        }

        /// <summary>
        /// The per-kernel split of a keyframe solve (what issue 12's step cost is read from): every kernel of a descent step
        /// appears with its dispatches and GPU time per step, their shares sum to the whole, and the step's wall time is at
        /// least the kernels' GPU time (it contains it).
        /// </summary>
        [Fact]
        public void Kernel_timings_list_every_kernel_of_a_step()
        {
            var (code, stdout, stderr) = CliProcess.Run(new[]
            {
                "bench", "solver", "--sizes", "32x24", "--steps", "2", "--cpu-steps", "0", "--keyframe-size", "32x24", "--keyframe-steps", "3",
                "--repeats", "1", "--kernel-timings", "--json",
            });
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            Assert.True(doc.RootElement.GetProperty("rows").GetArrayLength() > 0);
            var kernels = doc.RootElement.GetProperty("kernels").EnumerateArray()
                .ToDictionary(k => k.GetProperty("Kernel").GetString()!, k => (Calls: k.GetProperty("DispatchesPerStep").GetDouble(), Ms: k.GetProperty("GpuMsPerStep").GetDouble(), Share: k.GetProperty("SharePercent").GetDouble()));
            // A warm-started keyframe step: the depth, the fits, the loss and its gradient back to the parameters, Adam.
            foreach (var name in new[] { "depth_forward.comp", "procrustes_sums.comp", "procrustes_solve.comp", "flow_loss.comp", "points_backward.comp", "depth_backward.comp", "node_grad.comp", "adam.comp" })
            {
                Assert.True(kernels.ContainsKey(name), $"{name} missing from {string.Join(", ", kernels.Keys)}");
                Assert.True(kernels[name].Calls >= 1 && kernels[name].Ms > 0, $"{name}: {kernels[name].Calls} dispatches, {kernels[name].Ms} ms per step");
            }
            var each = kernels.Where(k => k.Key.EndsWith(".comp", System.StringComparison.Ordinal)).ToList();
            Assert.Equal(100, each.Sum(k => k.Value.Share), 6);
            Assert.Equal(each.Sum(k => k.Value.Calls), kernels["all kernels"].Calls, 9);
            Assert.True(kernels["step wall time (timestamps on)"].Ms >= kernels["all kernels"].Ms,
                $"step wall {kernels["step wall time (timestamps on)"].Ms} ms < kernels {kernels["all kernels"].Ms} ms");
        }
    }
}
