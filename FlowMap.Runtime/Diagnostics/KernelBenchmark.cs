using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;

namespace FlowMap.Diagnostics
{
    /// <summary>One row of the kernel benchmark: medians over repeats after a warm-up.</summary>
    /// <param name="Kernel">Kernel (shader) name.</param>
    /// <param name="Width">Image width, pixels.</param>
    /// <param name="Height">Image height, pixels.</param>
    /// <param name="GpuMs">Median GPU time from timestamps (NaN when the device has none), ms.</param>
    /// <param name="WallMs">Median wall time of record + submit + wait of one batch holding this kernel, ms.</param>
    /// <param name="CpuReferenceMs">Median time of the double-precision CPU reference, ms.</param>
    internal sealed record KernelBenchmarkRow(string Kernel, int Width, int Height, double GpuMs, double WallMs, double CpuReferenceMs);

    /// <summary>
    /// Times each imaging kernel on the GPU (timestamps and wall clock) and its CPU reference at the given sizes.
    /// Pipelines are compiled and run once before timing (lavapipe compiles on first dispatch).
    /// </summary>
    internal static class KernelBenchmark
    {
        public static IReadOnlyList<(int Width, int Height)> DefaultSizes { get; } = new[] { (320, 240), (640, 480), (1024, 436) };

        public static IReadOnlyList<KernelBenchmarkRow> Run(IEnumerable<(int Width, int Height)> sizes, int repeats = 15, int cpuRepeats = 3,
            Action<string>? progress = null)
        {
            using var ctx = GpuContext.Create();
            var rows = new List<KernelBenchmarkRow>();
            var rng = new Random(1234);
            foreach (var (w, h) in sizes)
            {
                var rgb = new byte[w * h * 3];
                rng.NextBytes(rgb);
                var img = new float[w * h];
                for (int i = 0; i < img.Length; i++) img[i] = (float)rng.NextDouble();
                var flow = new float[w * h * 2];
                for (int i = 0; i < flow.Length; i++) flow[i] = (float)(rng.NextDouble() * 8 - 4);
                var (dw, dh) = Downsample.SizeOf(w, h);

                using var rgbBuf = GpuBuffer.FromData<byte>(ctx, rgb, "rgb");
                using var a = new GpuImage(ctx, w, h);
                using var b = new GpuImage(ctx, w, h);
                using var c = new GpuImage(ctx, w, h);
                using var fl = new GpuImage(ctx, w, h, 2);
                using var g = new GpuImage(ctx, w, h, 2);
                using var half = new GpuImage(ctx, dw, dh);
                using var scratch = GpuBuffer.Create<float>(ctx, ReduceSum.ScratchCount(w * h), "scratch");
                using var sum = GpuBuffer.Create<float>(ctx, 1, "sum");
                a.Upload(img);
                fl.Upload(flow);
                // The sparse tracker's kernel: a smooth image and its copy moved by (2.3, -1.7) px, its Shi-Tomasi points
                // (about 300), the tracker's settings.
                var lk = new FlowMap.Flow.SparseTrackerOptions();
                int levels = FlowMap.Flow.SparseTracker.Levels(w, h, lk.MinCoarsestSize, lk.MaxLevels);
                var (smooth0, smooth1) = (Smooth(w, h, 0, 0), Smooth(w, h, 2.3, -1.7));
                var pts = FlowMap.Flow.SparseTracker.SelectPoints(smooth0, w, h, lk.Radius, FlowMap.Flow.SparseTracker.CellSize(w, h, lk.TargetPoints), out int gw, out int gh);
                var (pyr0, pyr1) = (FlowMap.Flow.Kernels.LucasKanade.ReferencePyramid(smooth0, w, h, levels), FlowMap.Flow.Kernels.LucasKanade.ReferencePyramid(smooth1, w, h, levels));
                using var keyPyr = GpuBuffer.FromData<float>(ctx, pyr0, "key");
                using var framePyr = GpuBuffer.FromData<float>(ctx, pyr1, "frame");
                using var ptsBuf = GpuBuffer.FromData<float>(ctx, pts, "points");
                using var lkOut = GpuBuffer.Create<float>(ctx, pts.Length, "tracks");
                var lkPush = new FlowMap.Flow.Kernels.LucasKanade.Push { Width = w, Height = h, Levels = levels, GridWidth = gw, GridHeight = gh, Radius = lk.Radius, Iterations = lk.Iterations };

                var cases = new (string Name, Action<CommandBatch> Gpu, Action Cpu)[]
                {
                    (Luminance.Shader, bt => Luminance.Record(bt, ctx, rgbBuf, b, 3, w * 3), () => Luminance.Reference(rgb, w, h, 3, w * 3)),
                    (GaussianBlur.Shader + " (2 passes, sigma 1.5)", bt => GaussianBlur.Record(bt, ctx, a, b, c, 1.5f), () => GaussianBlur.Reference(img, w, h, 1.5)),
                    (Downsample.Shader, bt => Downsample.Record(bt, ctx, a, half), () => Downsample.Reference(img, w, h)),
                    (Gradient.Shader, bt => Gradient.Record(bt, ctx, a, g), () => Gradient.Reference(img, w, h)),
                    (Warp.Shader, bt => Warp.Record(bt, ctx, a, fl, b, c), () => Warp.Reference(img, flow, w, h)),
                    (ReduceSum.Shader, bt => ReduceSum.Record(bt, ctx, a.Buffer, w * h, scratch, sum), () => ReduceSum.Reference(img)),
                    (FlowMap.Flow.Kernels.LucasKanade.Shader + $" ({gw * gh} cells)", bt => FlowMap.Flow.Kernels.LucasKanade.Record(bt, ctx, keyPyr, framePyr, ptsBuf, lkOut, lkPush),
                        () => FlowMap.Flow.Kernels.LucasKanade.Reference(pyr0, pyr1, pts, lkPush)),
                };
                foreach (var (name, gpu, cpu) in cases)
                {
                    progress?.Invoke($"{name} {w}x{h}");
                    var gpuMs = new List<double>();
                    var wallMs = new List<double>();
                    for (int r = -2; r < repeats; r++)
                    {
                        var sw = Stopwatch.StartNew();
                        using var batch = ctx.BeginBatch(name, timestamps: true);
                        gpu(batch);
                        batch.Submit();
                        batch.Wait();
                        sw.Stop();
                        if (r < 0) continue; // warm-up (pipeline compilation)
                        wallMs.Add(sw.Elapsed.TotalMilliseconds);
                        gpuMs.Add(batch.Timings.Count > 0 ? batch.Timings.Sum(t => t.Milliseconds) : double.NaN);
                    }
                    var cpuMs = new List<double>();
                    for (int r = 0; r < cpuRepeats; r++)
                    {
                        var sw = Stopwatch.StartNew();
                        cpu();
                        cpuMs.Add(sw.Elapsed.TotalMilliseconds);
                    }
                    rows.Add(new KernelBenchmarkRow(name, w, h, Median(gpuMs), Median(wallMs), Median(cpuMs)));
                }
            }
            return rows;
        }

        /// <summary>A smooth test image (sinusoids, periods 12 to 36 px) moved by (dx, dy).</summary>
        private static float[] Smooth(int w, int h, double dx, double dy)
        {
            var img = new float[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double u = x - dx, v = y - dy;
                    img[y * w + x] = (float)(0.5 + 0.15 * Math.Sin(0.31 * u + 0.11 * v) + 0.1 * Math.Sin(-0.07 * u + 0.42 * v + 1) + 0.1 * Math.Sin(0.2 * u - 0.25 * v + 2));
                }
            return img;
        }

        internal static double Median(List<double> v)
        {
            if (v.Count == 0) return double.NaN;
            var s = v.OrderBy(x => x).ToList();
            return s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
        }
    }
}
