using System;
using FlowMap.Solve.Refine;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Solve.Refine
{
    /// <summary>
    /// <see cref="GuidedUpsampling"/>: bilinear where the image gives no reason to differ, and depth edges that follow image
    /// edges where it does.
    /// </summary>
    public sealed class GuidedUpsamplingTests
    {
        /// <summary>The refinement's bilinear upsampling (cell centres at stride x + (stride - 1) / 2, clamped), in doubles.</summary>
        private static double Bilinear(float[] cells, int gw, int gh, int stride, int x, int y)
        {
            double off = (stride - 1) / 2.0;
            double gxf = Math.Max(0, Math.Min(gw - 1, (x - off) / stride)), gyf = Math.Max(0, Math.Min(gh - 1, (y - off) / stride));
            int gx0 = Math.Min((int)gxf, Math.Max(0, gw - 2)), gy0 = Math.Min((int)gyf, Math.Max(0, gh - 2));
            int gx1 = Math.Min(gx0 + 1, gw - 1), gy1 = Math.Min(gy0 + 1, gh - 1);
            double ax = gw == 1 ? 0 : gxf - gx0, ay = gh == 1 ? 0 : gyf - gy0;
            return (cells[gy0 * gw + gx0] * (1 - ax) + cells[gy0 * gw + gx1] * ax) * (1 - ay) + (cells[gy1 * gw + gx0] * (1 - ax) + cells[gy1 * gw + gx1] * ax) * ay;
        }

        [Theory]
        [InlineData(7, 5, 3, 23, 16)]  // odd grid, odd stride, a guide wider and taller than the cells cover
        [InlineData(40, 30, 8, 320, 240)]
        [InlineData(1, 4, 5, 6, 20)]   // one column of cells
        public void On_a_uniform_image_it_is_the_bilinear_upsampling(int gw, int gh, int stride, int w, int h)
        {
            var rng = Rng.Fresh(out int seed);
            var cells = new float[gw * gh];
            for (int i = 0; i < cells.Length; i++) cells[i] = (float)(0.2 + rng.NextDouble());
            var guide = new RgbImage(w, h);
            for (int i = 0; i < guide.Pixels.Length; i += 3) { guide.Pixels[i] = 90; guide.Pixels[i + 1] = 140; guide.Pixels[i + 2] = 200; }
            var up = GuidedUpsampling.Upsample(cells, gw, gh, stride, guide, 0.1);
            Assert.Equal(w, up.Width);
            Assert.Equal(h, up.Height);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double b = Bilinear(cells, gw, gh, stride, x, y);
                    // Float storage of a normalised sum of four terms: a few ulps of float.
                    Assert.True(Math.Abs(up[x, y] - b) <= 1e-6 * Math.Abs(b), $"({x}, {y}): {up[x, y]} against bilinear {b}, seed {seed}");
                }
        }

        [Fact]
        public void A_depth_step_along_an_image_edge_stays_a_step()
        {
            // Two fronto-parallel planes meeting at x = 27 (inside the cell [24, 32) of stride 8), each with its own colour; the
            // cells hold the mean inverse depth of their block, as a refinement of this scene would at best.
            const int w = 64, h = 48, s = 8, gw = w / s, gh = h / s, edge = 27;
            double Truth(int x) => x < edge ? 1.0 : 0.25;
            var guide = new RgbImage(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = 3 * (y * w + x);
                    (guide.Pixels[i], guide.Pixels[i + 1], guide.Pixels[i + 2]) = x < edge ? ((byte)200, (byte)120, (byte)60) : ((byte)70, (byte)110, (byte)170);
                }
            var cells = new float[gw * gh];
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                {
                    double m = 0;
                    for (int x = gx * s; x < gx * s + s; x++) m += Truth(x);
                    cells[gy * gw + gx] = (float)(m / s);
                }
            var up = GuidedUpsampling.Upsample(cells, gw, gh, s, guide, 0.1);
            double guided = 0, bilinear = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double b = Bilinear(cells, gw, gh, s, x, y);
                    guided += Math.Abs(up[x, y] - Truth(x));
                    bilinear += Math.Abs(b - Truth(x));
                    // Two cells and more from the edge every cell looks alike: bilinear there.
                    if (Math.Abs(x - edge) >= 2 * s) Assert.True(Math.Abs(up[x, y] - b) <= 1e-6 * b, $"({x}, {y}) away from the edge: {up[x, y]} against bilinear {b}");
                }
            // The bilinear upsampling spreads the step over about two cells; the guided one keeps each side on its own cells
            // (the colour distance between the sides, 0.55, weighs a cell of the other side by exp(-0.55^2 / 0.02) ~ 3e-7).
            Assert.True(guided < 0.5 * bilinear, $"mean error guided {guided / (w * h):F4} against bilinear {bilinear / (w * h):F4}");
        }

        [Fact]
        public void Wrong_inputs_are_refused()
        {
            var guide = new RgbImage(16, 16);
            Assert.Throws<ArgumentException>(() => GuidedUpsampling.Upsample(new float[3], 2, 2, 8, guide, 0.1));
            Assert.Throws<ArgumentException>(() => GuidedUpsampling.Upsample(new float[9], 3, 3, 8, guide, 0.1));
            Assert.Throws<ArgumentException>(() => GuidedUpsampling.Upsample(new float[4], 2, 2, 8, guide, 0));
            Assert.Throws<ArgumentException>(() => GuidedUpsampling.Upsample(new float[4], 2, 2, 8, guide, double.NaN));
        }
    }
}
