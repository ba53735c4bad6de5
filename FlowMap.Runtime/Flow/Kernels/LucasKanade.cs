using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Flow.Kernels
{
    /// <summary>
    /// Sparse pyramidal Lucas-Kanade with a brightness offset and the forward-backward error, one grid cell's point per
    /// invocation, FlowMap.Shaders/flow/lk_track.comp (the shader's header states the algorithm; Bouguet, "Pyramidal
    /// implementation of the Lucas Kanade feature tracker", and Kalal et al., "Forward-backward error", ICPR 2010).
    /// </summary>
    internal static class LucasKanade
    {
        public const string Shader = "lk_track.comp";
        public const int MaxRadius = 5;

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height, Levels, GridWidth, GridHeight, Radius, Iterations; }

        /// <summary>Floats of a pyramid of <paramref name="levels"/> levels over a width x height image (levels ceil-halved, concatenated).</summary>
        public static int PyramidFloats(int width, int height, int levels)
        {
            int n = 0;
            for (int l = 0; l < levels; l++) { n += width * height; width = (width + 1) / 2; height = (height + 1) / 2; }
            return n;
        }

        /// <summary>Offset (floats) and size of level <paramref name="level"/> in such a pyramid.</summary>
        public static (int Offset, int Width, int Height) Level(int width, int height, int level)
        {
            int off = 0;
            for (int l = 0; l < level; l++) { off += width * height; width = (width + 1) / 2; height = (height + 1) / 2; }
            return (off, width, height);
        }

        /// <summary>
        /// A pyramid as the tracker builds it on the GPU (luminance level 0, then 2x2 box halvings,
        /// <see cref="FlowMap.Gpu.Kernels.Downsample.Reference"/>), levels concatenated, in float: the kernel's input for its
        /// reference test and benchmark.
        /// </summary>
        public static float[] ReferencePyramid(float[] level0, int width, int height, int levels)
        {
            var all = new float[PyramidFloats(width, height, levels)];
            Array.Copy(level0, all, width * height);
            var cur = level0;
            int off = width * height;
            for (int l = 1; l < levels; l++)
            {
                var d = FlowMap.Gpu.Kernels.Downsample.Reference(cur, width, height);
                (width, height) = FlowMap.Gpu.Kernels.Downsample.SizeOf(width, height);
                cur = new float[d.Length];
                for (int i = 0; i < d.Length; i++) cur[i] = (float)d[i];
                Array.Copy(cur, 0, all, off, cur.Length);
                off += cur.Length;
            }
            return all;
        }

        /// <summary>
        /// Tracks the cells' points (<paramref name="points"/>: vec4 per cell) from the keyframe pyramid into the frame
        /// pyramid, writing vec4 (x', y', fb, rms) per cell to <paramref name="output"/>.
        /// </summary>
        public static void Record(CommandBatch batch, GpuContext ctx, GpuBuffer keyPyramid, GpuBuffer framePyramid, GpuBuffer points, GpuBuffer output, Push push)
        {
            if (push.Radius < 1 || push.Radius > MaxRadius) throw new ArgumentException($"The window radius must be 1 to {MaxRadius}.");
            if (push.Levels < 1) throw new ArgumentException("At least one pyramid level.");
            long pyramid = (long)PyramidFloats(push.Width, push.Height, push.Levels) * sizeof(float), cells = (long)push.GridWidth * push.GridHeight * 16;
            if (keyPyramid.SizeBytes < pyramid || framePyramid.SizeBytes < pyramid || points.SizeBytes < cells || output.SizeBytes < cells)
                throw new ArgumentException($"lk_track: a {push.Width}x{push.Height} pyramid of {push.Levels} levels needs {pyramid} bytes and {push.GridWidth}x{push.GridHeight} cells {cells} bytes per buffer.");
            var k = ctx.Kernel(Shader);
            batch.Dispatch(k, ComputeKernel.Groups(push.GridWidth, k.LocalX), ComputeKernel.Groups(push.GridHeight, k.LocalY), 1, push,
                keyPyramid, framePyramid, points, output);
        }

        /// <summary>
        /// Double-precision reference of lk_track.comp: the same steps in the same order. <paramref name="points"/> and the
        /// result are float4 per cell, as the kernel's buffers.
        /// </summary>
        public static double[] Reference(ReadOnlySpan<float> keyPyramid, ReadOnlySpan<float> framePyramid, ReadOnlySpan<float> points, Push pc)
        {
            var key = keyPyramid.ToArray();
            var frm = framePyramid.ToArray();
            int cells = pc.GridWidth * pc.GridHeight;
            var result = new double[4 * cells];
            for (int c = 0; c < cells; c++)
            {
                double px = points[4 * c], py = points[4 * c + 1], gx = points[4 * c + 2], gy = points[4 * c + 3];
                if (px < 0) { result[4 * c] = px; result[4 * c + 1] = py; result[4 * c + 2] = -1; result[4 * c + 3] = 0; continue; }
                var (dx, dy, rms, ok) = Track(key, frm, pc, px, py, gx, gy, pc.Levels - 1);
                double qx = px + dx, qy = py + dy;
                if (!ok || !(qx >= 0 && qy >= 0 && qx <= pc.Width - 1 && qy <= pc.Height - 1))
                {
                    result[4 * c] = ok ? qx : px; result[4 * c + 1] = ok ? qy : py; result[4 * c + 2] = -1; result[4 * c + 3] = rms;
                    continue;
                }
                var (bx, by, _, okBack) = Track(frm, key, pc, qx, qy, -dx, -dy, 0);
                result[4 * c] = qx; result[4 * c + 1] = qy;
                result[4 * c + 2] = okBack ? Math.Sqrt((qx + bx - px) * (qx + bx - px) + (qy + by - py) * (qy + by - py)) : -1;
                result[4 * c + 3] = rms;
            }
            return result;
        }

        private static double Sample(float[] img, int off, int w, int h, double x, double y)
        {
            x = Math.Clamp(x, 0, w - 1); y = Math.Clamp(y, 0, h - 1);
            int x0 = Math.Min((int)x, w - 1), y0 = Math.Min((int)y, h - 1);
            int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
            double ax = x - x0, ay = y - y0;
            double top = img[off + y0 * w + x0] * (1 - ax) + img[off + y0 * w + x1] * ax;
            double bot = img[off + y1 * w + x0] * (1 - ax) + img[off + y1 * w + x1] * ax;
            return top * (1 - ay) + bot * ay;
        }

        private static (double Dx, double Dy, double Rms, bool Ok) Track(float[] a, float[] b, Push pc, double px, double py, double gx0, double gy0, int top)
        {
            int R = pc.Radius, side = 2 * R + 1, ts = side + 2;
            double n = side * side;
            var T = new double[ts * ts];
            double dx = 0, dy = 0, rms = 0;
            for (int l = top; l >= 0; l--)
            {
                var (off, w, h) = Level(pc.Width, pc.Height, l);
                double s = 1 << l;
                double plx = (px + 0.5) / s - 0.5, ply = (py + 0.5) / s - 0.5;
                if (l == top) { dx = gx0 / s; dy = gy0 / s; } else { dx *= 2; dy *= 2; }
                for (int j = 0; j < ts; j++)
                    for (int i = 0; i < ts; i++)
                        T[j * ts + i] = Sample(a, off, w, h, plx + i - R - 1, ply + j - R - 1);
                double sx = 0, sy = 0, hxx = 0, hxy = 0, hyy = 0;
                for (int j = 1; j <= side; j++)
                    for (int i = 1; i <= side; i++)
                    {
                        int k = j * ts + i;
                        double g1 = 0.5 * (T[k + 1] - T[k - 1]), g2 = 0.5 * (T[k + ts] - T[k - ts]);
                        sx += g1; sy += g2; hxx += g1 * g1; hxy += g1 * g2; hyy += g2 * g2;
                    }
                hxx -= sx * sx / n; hxy -= sx * sy / n; hyy -= sy * sy / n;
                double det = hxx * hyy - hxy * hxy;
                if (!(det > 1e-12)) return (dx * s, dy * s, rms, false);
                double stop2 = l == 0 ? 1e-6 : 2.5e-3;
                for (int it = 0; it < pc.Iterations; it++)
                {
                    double sr = 0, sgr = 0, shr = 0;
                    for (int j = 1; j <= side; j++)
                        for (int i = 1; i <= side; i++)
                        {
                            int k = j * ts + i;
                            double r = Sample(b, off, w, h, plx + i - R - 1 + dx, ply + j - R - 1 + dy) - T[k];
                            sr += r; sgr += 0.5 * (T[k + 1] - T[k - 1]) * r; shr += 0.5 * (T[k + ts] - T[k - ts]) * r;
                        }
                    double bx = -(sgr - sx * sr / n), by = -(shr - sy * sr / n);
                    double stepX = (hyy * bx - hxy * by) / det, stepY = (hxx * by - hxy * bx) / det;
                    dx += stepX; dy += stepY;
                    if (!(Math.Abs(dx) < w && Math.Abs(dy) < h)) return (dx * s, dy * s, rms, false);
                    if (stepX * stepX + stepY * stepY < stop2) break;
                }
                if (l == 0)
                {
                    double sr = 0, sq = 0;
                    for (int j = 1; j <= side; j++)
                        for (int i = 1; i <= side; i++)
                        {
                            double r = Sample(b, off, w, h, plx + i - R - 1 + dx, ply + j - R - 1 + dy) - T[j * ts + i];
                            sr += r; sq += r * r;
                        }
                    rms = Math.Sqrt(Math.Max(sq / n - (sr / n) * (sr / n), 0));
                }
            }
            return (dx, dy, rms, true);
        }
    }
}
