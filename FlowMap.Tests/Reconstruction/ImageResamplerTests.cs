using System;
using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>
    /// <see cref="ImageResampler.Resize"/> (separable) against the two-dimensional area sum it replaced, kept here as the
    /// reference: every output value is the mean of the input area its pixel covers, weighted by the overlap.
    /// </summary>
    public class ImageResamplerTests
    {
        /// <summary>The reference, unrounded: per output pixel, every input pixel its footprint overlaps, weight wx * wy.</summary>
        private static double[] ReferenceMeans(RgbImage src, int width, int height)
        {
            int W = src.Width, H = src.Height;
            double sx = (double)W / width, sy = (double)H / height;
            var mean = new double[3 * width * height];
            for (int y = 0; y < height; y++)
            {
                double fy0 = y * sy, fy1 = (y + 1) * sy;
                if (sy < 1) { double c = (y + 0.5) * sy; fy0 = c - 0.5; fy1 = c + 0.5; }
                for (int x = 0; x < width; x++)
                {
                    double fx0 = x * sx, fx1 = (x + 1) * sx;
                    if (sx < 1) { double c = (x + 0.5) * sx; fx0 = c - 0.5; fx1 = c + 0.5; }
                    double r = 0, g = 0, b = 0, wsum = 0;
                    for (int iy = (int)Math.Floor(fy0); iy < (int)Math.Ceiling(fy1); iy++)
                    {
                        double wy = Math.Min(fy1, iy + 1) - Math.Max(fy0, iy);
                        if (wy <= 0) continue;
                        int yy = Math.Clamp(iy, 0, H - 1);
                        for (int ix = (int)Math.Floor(fx0); ix < (int)Math.Ceiling(fx1); ix++)
                        {
                            double wx = Math.Min(fx1, ix + 1) - Math.Max(fx0, ix);
                            if (wx <= 0) continue;
                            int o = 3 * (yy * W + Math.Clamp(ix, 0, W - 1));
                            r += wx * wy * src.Pixels[o]; g += wx * wy * src.Pixels[o + 1]; b += wx * wy * src.Pixels[o + 2];
                            wsum += wx * wy;
                        }
                    }
                    int d = 3 * (y * width + x);
                    mean[d] = r / wsum; mean[d + 1] = g / wsum; mean[d + 2] = b / wsum;
                }
            }
            return mean;
        }

        /// <summary>A fixed pattern with every byte value (no seed: the image is the same every run).</summary>
        private static RgbImage Pattern(int w, int h)
        {
            var img = new RgbImage(w, h);
            uint s = 2463534242;
            for (int i = 0; i < img.Pixels.Length; i++) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; img.Pixels[i] = (byte)s; }
            return img;
        }

        [Theory]
        [InlineData(640, 480, 320, 240)] // the live default: 2 x 2 blocks
        [InlineData(320, 240, 160, 120)] // tracking at half the processing size
        [InlineData(640, 480, 160, 120)] // 4 x 4 blocks
        [InlineData(12, 9, 3, 3)]         // 4 x 3 blocks
        public void Whole_number_ratios_give_the_reference_exactly(int w, int h, int tw, int th)
        {
            // Every overlap is 1, so both sums are exact integers: the same means, the same rounding, midpoints included.
            var src = Pattern(w, h);
            var want = ReferenceMeans(src, tw, th);
            var got = ImageResampler.Resize(src, tw, th);
            for (int i = 0; i < want.Length; i++) Assert.Equal((byte)Math.Round(want[i]), got.Pixels[i]);
        }

        [Theory]
        [InlineData(1920, 1080, 370, 208)] // a phone video's default processing size: ratio 5.19
        [InlineData(37, 23, 11, 7)]        // odd sizes, fractional footprints
        [InlineData(101, 67, 100, 66)]     // just below the input: footprints straddle two pixels
        [InlineData(5, 3, 13, 9)]          // enlarging (bilinear-like, clamped at the borders)
        [InlineData(7, 5, 7, 3)]           // one axis unchanged, the other shrunk
        [InlineData(1, 1, 3, 2)]           // a single pixel enlarged
        [InlineData(9, 4, 4, 9)]           // shrinking one axis, enlarging the other
        [InlineData(130, 66, 2, 1)]        // a whole-number ratio whose blocks (65 x 66) exceed the table's bound
        public void Fractional_ratios_give_the_reference_to_the_bit(int w, int h, int tw, int th)
        {
            // The same products summed in the same order, so the same doubles and the same rounding, midpoints (n + 0.5, where
            // the sums' rounding decides the byte) included. Found: a separable sum, equal up to double rounding, moved ~30
            // values of each 1920x1080 phone frame by one level, and the phone video's online trajectory from 0.40 % of the
            // path to 12.66 %: the reconstruction is sensitive to that, so the resize keeps the bits.
            var src = Pattern(w, h);
            var want = ReferenceMeans(src, tw, th);
            var got = ImageResampler.Resize(src, tw, th);
            Assert.Equal(3 * tw * th, got.Pixels.Length);
            int midpoints = 0;
            for (int i = 0; i < want.Length; i++)
            {
                if (Math.Abs(want[i] - Math.Floor(want[i]) - 0.5) < 1e-9) midpoints++;
                Assert.Equal((byte)Math.Round(want[i]), got.Pixels[i]);
            }
            Assert.True(midpoints < want.Length, "every value at a midpoint: the comparison would check nothing");
        }

        [Fact]
        public void The_same_size_is_a_copy_not_the_same_array()
        {
            var src = Pattern(13, 7);
            var got = ImageResampler.Resize(src, 13, 7);
            Assert.NotSame(src.Pixels, got.Pixels);
            Assert.Equal(src.Pixels, got.Pixels);
        }
    }
}
