using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Solve
{
    /// <summary>
    /// Dispatchers and push-constant structs of the solver kernels, FlowMap.Shaders/solve/*.comp. Each kernel's CPU
    /// reference is named in its shader's header (SolverReference, Procrustes, InverseDepthGrid, Adam).
    /// </summary>
    internal static class SolverKernels
    {
        public const string DepthForward = "depth_forward.comp";
        public const string ProcrustesSums = "procrustes_sums.comp";
        public const string ReducePartials = "reduce_partials.comp";
        public const string ProcrustesSolve = "procrustes_solve.comp";
        public const string FlowLoss = "flow_loss.comp";
        public const string SoftminFocal = "softmin_focal.comp";
        public const string ProcrustesBackward = "procrustes_backward.comp";
        public const string PointsBackward = "points_backward.comp";
        public const string DepthBackward = "depth_backward.comp";
        public const string NodeGrad = "node_grad.comp";
        public const string Adam = "adam.comp";

        public const int FitStride = 32;
        public const int LossStride = 16;
        public const int BackStride = 16;
        public const int SumsWidth = 9;

        [StructLayout(LayoutKind.Sequential)]
        public struct GridPush { public int Width, Height, Cell, Gw, Gh, Cw, Ch, Nodes, HasPrior, ScaleBase; }

        [StructLayout(LayoutKind.Sequential)]
        public struct SumsPush { public int Width, Height, CandidateMode, Pass, FocalIndex, Stride; }

        [StructLayout(LayoutKind.Sequential)]
        public struct ReducePush { public int Groups, Width; }

        [StructLayout(LayoutKind.Sequential)]
        public struct SolvePush { public int Problems, Pass, Groups; }

        [StructLayout(LayoutKind.Sequential)]
        public struct LossPush { public int Width, Height, CandidateMode, Gradient, FocalIndex; public float Delta, InvTerms; public int Stride; }

        [StructLayout(LayoutKind.Sequential)]
        public struct SoftminPush { public int Count, FocalIndex; public float Sharpness; public int Groups; }

        [StructLayout(LayoutKind.Sequential)]
        public struct PairsPush { public int Pairs, Groups; }

        [StructLayout(LayoutKind.Sequential)]
        public struct PointsPush { public int Width, Height, FocalIndex; }

        [StructLayout(LayoutKind.Sequential)]
        public struct DepthBackwardPush { public int Width, Height, Frames, Cell, Gw, Gh, Cw, Ch, Nodes, HasPrior, ScaleBase, Gather; }

        [StructLayout(LayoutKind.Sequential)]
        public struct NodeGradPush
        {
            public int Width, Height, Frames, Cell, Gw, Gh, Cw, Ch, Nodes;
            public float Lam;
            public int Pairs, HasPrior, ThroughPoses, ScaleBase, FocalIndex, Groups;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct AdamPush { public int Count; public float Lr, Beta1, Beta2, C1, C2, Eps; }

        /// <summary>Work groups of a 16 x 16 pixel kernel over W x H.</summary>
        public static (uint X, uint Y) PixelGroups(int w, int h) => ((uint)((w + 15) / 16), (uint)((h + 15) / 16));

        /// <summary>Samples per work group of the reducing kernels at most (256 invocations x 16 in group_reduce.glsl).</summary>
        public const int SamplesPerGroup = 4096;

        /// <summary>
        /// Work groups of a reducing kernel over the samples of a W x H image taken every <paramref name="stride"/> pixels,
        /// dispatched as one row (group_reduce.glsl splits the samples evenly over them in row order).
        /// </summary>
        public static int ReduceGroups(int w, int h, int stride = 1)
        {
            long n = (long)((w + stride - 1) / stride) * ((h + stride - 1) / stride);
            return (int)((n + SamplesPerGroup - 1) / SamplesPerGroup);
        }

        /// <summary>A reducing kernel over the samples of a W x H image (every <paramref name="stride"/> pixels), <paramref name="depth"/> problems.</summary>
        public static void RecordReducing<TPush>(CommandBatch batch, GpuContext ctx, string shader, int w, int h, int stride, int depth, in TPush push, params GpuBuffer[] buffers)
            where TPush : unmanaged
        {
            var k = ctx.Kernel(shader, 16, 16, 1);
            batch.Dispatch(k, (uint)ReduceGroups(w, h, stride), 1, (uint)depth, push, buffers);
        }

        public static void RecordPixels<TPush>(CommandBatch batch, GpuContext ctx, string shader, int w, int h, int depth, in TPush push, params GpuBuffer[] buffers)
            where TPush : unmanaged
        {
            var k = ctx.Kernel(shader, 16, 16, 1);
            var (gx, gy) = PixelGroups(w, h);
            batch.Dispatch(k, gx, gy, (uint)depth, push, buffers);
        }

        public static void RecordLinear<TPush>(CommandBatch batch, GpuContext ctx, string shader, int count, uint local, in TPush push, params GpuBuffer[] buffers)
            where TPush : unmanaged
        {
            var k = ctx.Kernel(shader, local, 1, 1);
            batch.Dispatch(k, (uint)((count + (int)local - 1) / (int)local), 1, 1, push, buffers);
        }

        /// <summary>
        /// src float[rows, groups, width] -> dst float[rows, width], fixed order. Consumers that read the partials directly
        /// reduce them in the same order (FlowMap.Shaders/solve/fixed_sum.glsl, <see cref="FixedSum"/>).
        /// </summary>
        public static void RecordReduce(CommandBatch batch, GpuContext ctx, GpuBuffer src, int rows, int groups, int width, GpuBuffer dst)
        {
            var k = ctx.Kernel(ReducePartials, 256, 1, 1);
            batch.Dispatch(k, (uint)width, (uint)rows, 1, new ReducePush { Groups = groups, Width = width }, src, dst);
        }

        /// <summary>
        /// CPU mirror, in float, of reduce_partials.comp and fixed_sum.glsl: the sum of column <paramref name="col"/> of
        /// row <paramref name="row"/> of float[rows, groups, width] as 64 strided serial sums and then their serial sum.
        /// </summary>
        public static float FixedSum(float[] src, int row, int groups, int width, int col)
        {
            float s = 0;
            for (int l = 0; l < 64; l++)
            {
                float a = 0;
                for (int g = l; g < groups; g += 64) a += src[(row * groups + g) * width + col];
                s += a;
            }
            return s;
        }
    }
}
