using System;
using System.Numerics;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Synthetic
{
    /// <summary>
    /// First rendering pass, the pixel-centre rays: FlowMap.Shaders/synth/synth_hits.comp; the reference is
    /// <see cref="SceneRaycaster.RenderFrame"/>.
    /// </summary>
    internal static class SynthHits
    {
        public const string Shader = "synth_hits.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push
        {
            public int Width, Height, NodeCount;
            public float K1;
            public float Fx, Fy, Cx, Cy;
            public Vector4 Rot0, Rot1, Rot2;
        }

        /// <param name="hits">vec4[H, W, 2]: (t, primitive, u, v), (normal, 0).</param>
        /// <param name="depth">float[H, W] z-depth.</param>
        public static void Record(CommandBatch batch, GpuContext ctx, SceneDescription desc, GpuBuffer scene, CameraPose pose, Intrinsics k, GpuBuffer hits, GpuBuffer depth)
        {
            if (hits.SizeBytes < 32L * k.Width * k.Height || depth.SizeBytes < 4L * k.Width * k.Height)
                throw new ArgumentException($"Output buffers are too small for {k.Width}x{k.Height}.");
            var (r0, r1, r2) = SynthRender.Rows(pose);
            var kernel = ctx.Kernel(Shader, 8, 8);
            batch.Dispatch(kernel, ComputeKernel.Groups(k.Width, kernel.LocalX), ComputeKernel.Groups(k.Height, kernel.LocalY), 1,
                new Push
                {
                    Width = k.Width, Height = k.Height, NodeCount = desc.NodeCount, K1 = (float)k.K1,
                    Fx = (float)k.Fx, Fy = (float)k.Fy, Cx = (float)k.Cx, Cy = (float)k.Cy, Rot0 = r0, Rot1 = r1, Rot2 = r2,
                }, scene, hits, depth);
        }
    }

    /// <summary>
    /// Second rendering pass, the colour: FlowMap.Shaders/synth/synth_render.comp; the reference is
    /// <see cref="SceneRaycaster.RenderFrame"/>.
    /// </summary>
    internal static class SynthRender
    {
        public const string Shader = "synth_render.comp";

        [StructLayout(LayoutKind.Sequential)]
        public struct Push
        {
            public int Width, Height, NodeCount, Samples;
            public float Fx, Fy, Cx, Cy;
            public Vector4 Rot0, Rot1, Rot2;
            public Vector4 Light0, Light1;
            public float K1;
        }

        /// <summary>Rows of a 3x4 rigid transform as (R row i, T_i).</summary>
        internal static (Vector4, Vector4, Vector4) Rows(CameraPose p) =>
            (new Vector4((float)p.R(0, 0), (float)p.R(0, 1), (float)p.R(0, 2), (float)p.T(0)),
             new Vector4((float)p.R(1, 0), (float)p.R(1, 1), (float)p.R(1, 2), (float)p.T(1)),
             new Vector4((float)p.R(2, 0), (float)p.R(2, 1), (float)p.R(2, 2), (float)p.T(2)));

        private static Vector4 Light(SceneLight l) => new Vector4((float)l.X, (float)l.Y, (float)l.Z, (float)l.Intensity);

        /// <summary>Records both passes: hits and depth, then the colour.</summary>
        /// <param name="scene">The packed scene, <see cref="SceneDescription.Packed"/>.</param>
        /// <param name="hits">Scratch vec4[H, W, 2].</param>
        /// <param name="colour">uint[H, W] RGBA8.</param>
        /// <param name="depth">float[H, W] z-depth.</param>
        public static void Record(CommandBatch batch, GpuContext ctx, SceneDescription desc, GpuBuffer scene, CameraPose pose, Intrinsics k, int samples,
                                  GpuBuffer hits, GpuBuffer colour, GpuBuffer depth)
        {
            if (samples < 1 || samples > 8) throw new ArgumentOutOfRangeException(nameof(samples), samples, "Samples per axis must be 1..8.");
            if (colour.SizeBytes < 4L * k.Width * k.Height) throw new ArgumentException($"Colour buffer is too small for {k.Width}x{k.Height}.");
            SynthHits.Record(batch, ctx, desc, scene, pose, k, hits, depth);
            var (r0, r1, r2) = Rows(pose);
            var kernel = ctx.Kernel(Shader, 8, 8);
            batch.Dispatch(kernel, ComputeKernel.Groups(k.Width, kernel.LocalX), ComputeKernel.Groups(k.Height, kernel.LocalY), 1,
                new Push
                {
                    Width = k.Width, Height = k.Height, NodeCount = desc.NodeCount, Samples = samples,
                    Fx = (float)k.Fx, Fy = (float)k.Fy, Cx = (float)k.Cx, Cy = (float)k.Cy,
                    Rot0 = r0, Rot1 = r1, Rot2 = r2, Light0 = Light(desc.Light0), Light1 = Light(desc.Light1), K1 = (float)k.K1,
                }, scene, hits, colour);
        }
    }

    /// <summary>
    /// True flow and occlusion between two frames of the synthetic scene, FlowMap.Shaders/synth/synth_flow.comp; the
    /// reference is <see cref="Reference"/>.
    /// </summary>
    internal static class SynthFlow
    {
        public const string Shader = "synth_flow.comp";

        /// <summary>Relative depth tolerance of the occlusion test (0.5 % of the z-depth in b).</summary>
        public const double Tolerance = 0.005;

        [StructLayout(LayoutKind.Sequential)]
        public struct Push
        {
            public int Width, Height, NodeCount;
            public float Tolerance;
            public float Fx, Fy, Cx, Cy;
            public Vector4 Rel0, Rel1, Rel2;
            /// <summary>Rows 0 and 1 of camera b's camera-to-world pose (R row i, T_i); the shader takes row 2 of R as row 0 x row 1.</summary>
            public Vector4 PoseB0, PoseB1;
            /// <summary>T_z of camera b's pose.</summary>
            public float PoseBz;
            public float K1;
        }

        /// <param name="depthA">float[H, W] z-depth of frame a.</param>
        /// <param name="flow">vec2[H, W] flow a -> b, pixels.</param>
        /// <param name="occlusion">float[H, W], 1 = occluded in b.</param>
        public static void Record(CommandBatch batch, GpuContext ctx, SceneDescription desc, GpuBuffer scene, CameraPose poseA, CameraPose poseB, Intrinsics k,
                                  GpuBuffer depthA, GpuBuffer flow, GpuBuffer occlusion)
        {
            long n = (long)k.Width * k.Height;
            if (depthA.SizeBytes < 4 * n || flow.SizeBytes < 8 * n || occlusion.SizeBytes < 4 * n)
                throw new ArgumentException($"Buffers are too small for {k.Width}x{k.Height}.");
            var rel = poseB.Inverse().Compose(poseA);
            var (a0, a1, a2) = SynthRender.Rows(rel);
            var (b0, b1, b2) = SynthRender.Rows(poseB);
            var kernel = ctx.Kernel(Shader, 8, 8);
            batch.Dispatch(kernel, ComputeKernel.Groups(k.Width, kernel.LocalX), ComputeKernel.Groups(k.Height, kernel.LocalY), 1,
                new Push
                {
                    Width = k.Width, Height = k.Height, NodeCount = desc.NodeCount, Tolerance = (float)Tolerance,
                    Fx = (float)k.Fx, Fy = (float)k.Fy, Cx = (float)k.Cx, Cy = (float)k.Cy,
                    Rel0 = a0, Rel1 = a1, Rel2 = a2, PoseB0 = b0, PoseB1 = b1, PoseBz = b2.W, K1 = (float)k.K1,
                }, scene, depthA, flow, occlusion);
        }

        /// <summary>
        /// Double-precision reference: flow double[H, W, 2] and occlusion double[H, W] (1 = occluded) from the depth of
        /// frame a, both poses (camera-to-world), the intrinsics (with their radial distortion: pixels of a are
        /// undistorted, points in b distorted, <see cref="Intrinsics.Unproject"/> / <see cref="Intrinsics.Project"/>)
        /// and, for the visibility test, the analytic scene.
        /// </summary>
        public static (double[] Flow, double[] Occlusion) Reference(SceneRaycaster scene, ReadOnlySpan<float> depthA, CameraPose poseA, CameraPose poseB, Intrinsics k)
        {
            int w = k.Width, h = k.Height;
            var flow = new double[w * h * 2];
            var occ = new double[w * h];
            var rel = poseB.Inverse().Compose(poseA);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y * w + x;
                    occ[i] = 1;
                    double z = depthA[i];
                    if (!(z > 0)) continue;
                    var (ax, ay, az) = k.Unproject(x, y, z);
                    var (bx, by, bz) = rel.Transform(ax, ay, az);
                    // Behind b, or (k1 < 0) beyond the distortion's fold: Project declines both.
                    if (!(bz > 1e-6) || !k.Project(bx, by, bz, out double u, out double v)) continue;
                    flow[2 * i] = u - x; flow[2 * i + 1] = v - y;
                    bool outside = u < -0.5 || v < -0.5 || u > w - 0.5 || v > h - 0.5;
                    if (outside) continue;
                    double cx = bx / bz, cy = by / bz;
                    double dx = poseB.R(0, 0) * cx + poseB.R(0, 1) * cy + poseB.R(0, 2);
                    double dy = poseB.R(1, 0) * cx + poseB.R(1, 1) * cy + poseB.R(1, 2);
                    double dz = poseB.R(2, 0) * cx + poseB.R(2, 1) * cy + poseB.R(2, 2);
                    var hit = scene.Trace(poseB.T(0), poseB.T(1), poseB.T(2), dx, dy, dz);
                    occ[i] = hit.Prim >= 0 && hit.T < bz * (1 - Tolerance) ? 1 : 0;
                }
            return (flow, occ);
        }
    }
}
