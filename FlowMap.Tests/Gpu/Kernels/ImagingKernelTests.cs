using System;
using System.Collections.Generic;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Gpu.Kernels
{
    /// <summary>
    /// Each imaging kernel against its double-precision CPU reference: odd sizes (never multiples of the 16x16 work group),
    /// fresh random inputs, a guard region after every output, and a NaN/Inf check. Tolerances are for float32 arithmetic.
    /// </summary>
    public sealed class ImagingKernelTests : GpuTest
    {
        public ImagingKernelTests(GpuFixture f) : base(f) { }

        public static IEnumerable<object[]> Sizes() => new[]
        {
            new object[] { 1, 1 }, new object[] { 7, 5 }, new object[] { 17, 13 }, new object[] { 33, 1 },
            new object[] { 1, 29 }, new object[] { 61, 47 }, new object[] { 320, 240 }, new object[] { 331, 97 },
        };

        private const int Guard = 37;

        private GpuImage Output(int w, int h, int channels = 1)
        {
            var img = new GpuImage(Ctx, w, h, channels, "out", Guard);
            img.Buffer.Fill(Compare.GuardBits);
            return img;
        }

        private void Run(Action<CommandBatch> record)
        {
            using var batch = Ctx.BeginBatch("test");
            record(batch);
            batch.Submit();
            batch.Wait();
        }

        private static void CheckOutput(GpuImage img, double[] reference, double atol, double rtol, string what)
        {
            var all = img.DownloadWithGuard();
            Compare.AllClose(reference, all, atol, rtol, what);
            Compare.GuardIntact(all, img.PixelCount * img.Channels, what);
        }

        [Theory, MemberData(nameof(Sizes))]
        public void Luminance_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            foreach (int channels in new[] { 3, 4 })
            {
                int rowBytes = w * channels + rng.Next(0, 3); // rows may be padded
                var bytes = new byte[rowBytes * h];
                rng.NextBytes(bytes);
                using var src = GpuBuffer.FromData<byte>(Ctx, bytes, "rgb");
                using var dst = Output(w, h);
                Run(b => Luminance.Record(b, Ctx, src, dst, channels, rowBytes));
                CheckOutput(dst, Luminance.Reference(bytes, w, h, channels, rowBytes), 1e-6, 1e-6, $"luminance {w}x{h}x{channels} seed {seed}");
            }
        }

        [Theory, MemberData(nameof(Sizes))]
        public void GaussianBlur_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var data = Rng.Floats(rng, w * h);
            float sigma = 0.5f + (float)rng.NextDouble() * 2f;
            using var src = new GpuImage(Ctx, w, h);
            using var tmp = new GpuImage(Ctx, w, h);
            using var dst = Output(w, h);
            src.Upload(data);
            Run(b => GaussianBlur.Record(b, Ctx, src, tmp, dst, sigma));
            CheckOutput(dst, GaussianBlur.Reference(data, w, h, sigma), 2e-6, 1e-5, $"blur {w}x{h} sigma {sigma} seed {seed}");
        }

        [Theory, MemberData(nameof(Sizes))]
        public void Downsample_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var data = Rng.Floats(rng, w * h, -1, 1);
            var (dw, dh) = Downsample.SizeOf(w, h);
            using var src = new GpuImage(Ctx, w, h);
            using var dst = Output(dw, dh);
            src.Upload(data);
            Run(b => Downsample.Record(b, Ctx, src, dst));
            CheckOutput(dst, Downsample.Reference(data, w, h), 1e-6, 1e-6, $"downsample {w}x{h} seed {seed}");
        }

        [Theory, MemberData(nameof(Sizes))]
        public void Gradient_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var data = Rng.Floats(rng, w * h);
            using var src = new GpuImage(Ctx, w, h);
            using var dst = Output(w, h, 2);
            src.Upload(data);
            Run(b => Gradient.Record(b, Ctx, src, dst));
            CheckOutput(dst, Gradient.Reference(data, w, h), 1e-6, 1e-6, $"gradient {w}x{h} seed {seed}");
        }

        [Fact]
        public void Gradient_of_a_ramp_is_its_slope()
        {
            int w = 19, h = 11;
            var data = new float[w * h];
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) data[y * w + x] = 0.25f * x - 0.5f * y;
            using var src = new GpuImage(Ctx, w, h);
            using var dst = new GpuImage(Ctx, w, h, 2);
            src.Upload(data);
            Run(b => Gradient.Record(b, Ctx, src, dst));
            var g = dst.Download();
            // Interior pixels (the clamped border halves the slope there).
            for (int y = 1; y < h - 1; y++)
                for (int x = 1; x < w - 1; x++)
                {
                    Assert.Equal(0.25, g[2 * (y * w + x)], 5);
                    Assert.Equal(-0.5, g[2 * (y * w + x) + 1], 5);
                }
        }

        [Theory, MemberData(nameof(Sizes))]
        public void Warp_matches_reference(int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var img = Rng.Floats(rng, w * h);
            var flow = Rng.Floats(rng, w * h * 2, -6, 6); // some samples leave the image
            using var src = new GpuImage(Ctx, w, h);
            using var fl = new GpuImage(Ctx, w, h, 2);
            using var dst = Output(w, h);
            using var valid = Output(w, h);
            src.Upload(img);
            fl.Upload(flow);
            Run(b => Warp.Record(b, Ctx, src, fl, dst, valid));
            var (rw, rv) = Warp.Reference(img, flow, w, h);
            // float32 sample coordinates near x = 330 carry ~3e-5 px of rounding; random images change by up to 1 per pixel.
            CheckOutput(dst, rw, 1e-4, 1e-5, $"warp {w}x{h} seed {seed}");
            CheckOutput(valid, rv, 0, 0, $"warp valid {w}x{h} seed {seed}");
        }

        [Fact]
        public void Warp_by_an_integer_shift_moves_the_image()
        {
            int w = 23, h = 9;
            var img = new float[w * h];
            for (int i = 0; i < img.Length; i++) img[i] = i;
            var flow = new float[w * h * 2];
            for (int i = 0; i < w * h; i++) { flow[2 * i] = 2; flow[2 * i + 1] = 1; }
            using var src = new GpuImage(Ctx, w, h);
            using var fl = new GpuImage(Ctx, w, h, 2);
            using var dst = new GpuImage(Ctx, w, h);
            using var valid = new GpuImage(Ctx, w, h);
            src.Upload(img); fl.Upload(flow);
            Run(b => Warp.Record(b, Ctx, src, fl, dst, valid));
            var o = dst.Download();
            var v = valid.Download();
            for (int y = 0; y < h - 1; y++)
                for (int x = 0; x < w - 2; x++)
                {
                    Assert.Equal(img[(y + 1) * w + x + 2], o[y * w + x]);
                    Assert.Equal(1f, v[y * w + x]);
                }
            Assert.Equal(0f, v[(h - 1) * w]); // samples row h, outside
        }

        [Theory]
        [InlineData(1)]
        [InlineData(255)]
        [InlineData(257)]
        [InlineData(4097)]
        [InlineData(76_801)]
        [InlineData(1_000_003)]
        public void ReduceSum_matches_reference(int n)
        {
            var rng = Rng.Fresh(out int seed);
            var data = Rng.Floats(rng, n, -1, 1);
            using var src = GpuBuffer.FromData<float>(Ctx, data, "values");
            using var scratch = GpuBuffer.Create<float>(Ctx, ReduceSum.ScratchCount(n), "scratch");
            using var result = GpuBuffer.Create<float>(Ctx, 1 + Guard, "sum");
            result.Fill(Compare.GuardBits);
            Run(b => ReduceSum.Record(b, Ctx, src, n, scratch, result));
            var all = result.ReadAll<float>((int)(result.SizeBytes / 4));
            double sumAbs = 0;
            foreach (var v in data) sumAbs += Math.Abs(v);
            // float32 partial sums: error bound grows with the sum of magnitudes.
            Compare.AllClose(new[] { ReduceSum.Reference(data) }, all, 1e-6 * sumAbs + 1e-6, 0, $"sum of {n} seed {seed}");
            Compare.GuardIntact(all, 1, $"sum of {n}");
        }
    }
}
