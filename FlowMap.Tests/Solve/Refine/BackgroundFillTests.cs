using System;
using System.Linq;
using FlowMap.Solve.Refine;
using Xunit;

namespace FlowMap.Tests.Solve.Refine
{
    /// <summary>
    /// <see cref="BackgroundFill"/>: unconfirmed cells take the background (the second smallest inverse depth) of the nearest
    /// confirmed cells along 8 directions; confirmed cells and confidences are left alone.
    /// </summary>
    public sealed class BackgroundFillTests
    {
        private const float Min = 0.1f;

        /// <summary>
        /// A foreground block (inverse depth 0.5) on a background (0.125) with an unconfirmed strip beside the block that holds
        /// the descent's blend (0.4): the strip takes the background, cells inside the block and the background are not
        /// touched, and an odd-sized grid is covered to its last row and column.
        /// </summary>
        [Theory]
        [InlineData(13, 9)]
        [InlineData(40, 30)]
        public void An_unconfirmed_strip_beside_a_foreground_edge_takes_the_background(int gw, int gh)
        {
            var q = new double[gw * gh];
            var c = new float[gw * gh];
            int x0 = gw / 4, x1 = gw / 2, y0 = gh / 4, y1 = 3 * gh / 4;
            for (int y = 0; y < gh; y++)
                for (int x = 0; x < gw; x++)
                {
                    bool fg = x >= x0 && x < x1 && y >= y0 && y < y1;
                    bool strip = !fg && x >= x1 && x < x1 + 2 && y >= y0 && y < y1;
                    q[y * gw + x] = fg ? 0.5 : strip ? 0.4 : 0.125;
                    c[y * gw + x] = strip ? 0f : 0.8f;
                }
            var before = (double[])q.Clone();
            var conf = (float[])c.Clone();
            int n = BackgroundFill.Fill(q, c, gw, gh, Min);
            Assert.Equal(2 * (y1 - y0), n);
            for (int i = 0; i < q.Length; i++)
            {
                if (conf[i] >= Min) Assert.Equal(before[i], q[i]);
                else Assert.Equal(0.125, q[i]);
            }
            Assert.Equal(conf, c);
        }

        /// <summary>
        /// One wrong confirmed neighbour (an outlier far behind, 0.01) does not decide: the second smallest of the 8 is taken, so
        /// a hole in a uniform surface takes the surface's value.
        /// </summary>
        [Fact]
        public void A_single_far_outlier_among_the_neighbours_is_not_taken()
        {
            const int gw = 7, gh = 7;
            var q = Enumerable.Repeat(0.3, gw * gh).ToArray();
            var c = Enumerable.Repeat(1f, gw * gh).ToArray();
            int hole = 3 * gw + 3;
            c[hole] = 0; q[hole] = 0.9;
            q[3 * gw + 4] = 0.01; // the nearest confirmed cell to the right
            Assert.Equal(1, BackgroundFill.Fill(q, c, gw, gh, Min));
            Assert.Equal(0.3, q[hole]);
        }

        /// <summary>Values already filled in this pass are not used as confirmed (the result does not depend on the scan order).</summary>
        [Fact]
        public void Fills_read_only_confirmed_cells_and_keep_cells_with_no_confirmed_neighbour()
        {
            const int gw = 5, gh = 3;
            var q = new double[] { 0.2, 0.9, 0.9, 0.9, 0.6, 0.2, 0.9, 0.9, 0.9, 0.6, 0.2, 0.9, 0.9, 0.9, 0.6 };
            var c = new float[] { 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1 };
            var mirrored = q.Select((_, i) => q[(i / gw) * gw + gw - 1 - i % gw]).ToArray();
            var cm = c.Select((_, i) => c[(i / gw) * gw + gw - 1 - i % gw]).ToArray();
            BackgroundFill.Fill(q, c, gw, gh, Min);
            BackgroundFill.Fill(mirrored, cm, gw, gh, Min);
            for (int i = 0; i < q.Length; i++) Assert.Equal(q[(i / gw) * gw + gw - 1 - i % gw], mirrored[i]);
            // The cells next to the left column (0.2) see it along their row and a diagonal or two, and 0.6 along the row:
            // the second smallest is 0.2. The centre cell sees each once (0.2 left, 0.6 right): the second smallest is 0.6.
            Assert.All(new[] { 1, 6, 11 }, i => Assert.Equal(0.2, q[i]));
            Assert.Equal(0.6, q[7]);

            var none = new double[] { 0.4, 0.5 };
            Assert.Equal(0, BackgroundFill.Fill(none, new float[] { 0, 0 }, 2, 1, Min));
            Assert.Equal(new[] { 0.4, 0.5 }, none);
        }
    }
}
