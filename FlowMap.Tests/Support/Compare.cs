using System;
using Xunit;

namespace FlowMap.Tests.Support
{
    /// <summary>GPU-vs-reference comparisons with a stated tolerance: |gpu - ref| &lt;= atol + rtol * |ref| everywhere.</summary>
    public static class Compare
    {
        public static void AllClose(ReadOnlySpan<double> reference, ReadOnlySpan<float> gpu, double atol, double rtol, string what)
        {
            Assert.True(reference.Length <= gpu.Length, $"{what}: GPU output has {gpu.Length} values, reference {reference.Length}.");
            double worst = 0; int worstAt = -1;
            for (int i = 0; i < reference.Length; i++)
            {
                float g = gpu[i];
                Assert.False(float.IsNaN(g) || float.IsInfinity(g), $"{what}: non-finite value {g} at index {i}.");
                double err = Math.Abs(g - reference[i]) - (atol + rtol * Math.Abs(reference[i]));
                if (err > worst) { worst = err; worstAt = i; }
            }
            Assert.True(worstAt < 0, worstAt < 0 ? "" :
                $"{what}: index {worstAt}: gpu {gpu[worstAt]} vs reference {reference[worstAt]} (tolerance {atol} + {rtol}*|ref|).");
        }

        /// <summary>A guard value that a kernel never writes: a signalling-NaN bit pattern.</summary>
        public const uint GuardBits = 0x7FA0DEADu;

        /// <summary>Checks that the guard region [from, to) still holds <see cref="GuardBits"/>: no out-of-bounds write.</summary>
        public static void GuardIntact(ReadOnlySpan<float> buffer, int from, string what)
        {
            for (int i = from; i < buffer.Length; i++)
            {
                uint bits = (uint)BitConverter.SingleToInt32Bits(buffer[i]);
                Assert.True(bits == GuardBits, $"{what}: out-of-bounds write at element {i} (guard region starts at {from}).");
            }
        }
    }

    /// <summary>Random inputs drawn fresh each run; the seed is in every failure message (set FLOWMAP_TEST_SEED to repeat one).</summary>
    public static class Rng
    {
        public static Random Fresh(out int seed)
        {
            seed = int.TryParse(Environment.GetEnvironmentVariable("FLOWMAP_TEST_SEED"), out var s) ? s : Environment.TickCount ^ Guid.NewGuid().GetHashCode();
            return new Random(seed);
        }

        public static float[] Floats(Random r, int n, float lo = 0, float hi = 1)
        {
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = lo + (float)r.NextDouble() * (hi - lo);
            return a;
        }
    }
}
