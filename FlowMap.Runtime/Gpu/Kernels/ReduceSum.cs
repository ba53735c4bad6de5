using System;
using System.Runtime.InteropServices;

namespace FlowMap.Gpu.Kernels
{
    /// <summary>Parallel float sum by work-group partial sums, FlowMap.Shaders/imaging/reduce_sum.comp.</summary>
    internal static class ReduceSum
    {
        public const string Shader = "reduce_sum.comp";
        public const int GroupSize = 256;
        /// <summary>Values summed by one work group per pass (256 invocations x 16 each).</summary>
        public const int Chunk = GroupSize * 16;

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Count, Chunk; }

        /// <summary>Scratch floats needed by <see cref="Record"/> for <paramref name="count"/> inputs.</summary>
        public static int ScratchCount(int count)
        {
            int total = 0;
            for (int n = count; n > 1;) { n = (n + Chunk - 1) / Chunk; total += n; }
            return Math.Max(1, total);
        }

        /// <summary>Sums the first <paramref name="count"/> floats of src into result[0]; scratch holds the partial sums of each pass.</summary>
        public static void Record(CommandBatch batch, GpuContext ctx, GpuBuffer src, int count, GpuBuffer scratch, GpuBuffer result)
        {
            if (count < 1) throw new ArgumentOutOfRangeException(nameof(count));
            var k = ctx.Kernel(Shader, GroupSize, 1, 1);
            GpuBuffer input = src;
            int n = count;
            while (true)
            {
                int groups = (n + Chunk - 1) / Chunk;
                var target = groups == 1 ? result : scratch;
                // Ping-pong: a pass that reads scratch writes result or a fresh buffer; keep it simple with one scratch
                // buffer by writing partial sums only when the input is not scratch itself.
                if (ReferenceEquals(input, scratch) && groups > 1)
                    throw new InvalidOperationException("ReduceSum supports up to Chunk^2 values per call.");
                batch.Dispatch(k, (uint)groups, 1, 1, new Push { Count = n, Chunk = Chunk }, input, target);
                if (groups == 1) break;
                input = scratch;
                n = groups;
            }
        }

        public static double Reference(ReadOnlySpan<float> src)
        {
            double s = 0;
            foreach (var v in src) s += v;
            return s;
        }
    }
}
