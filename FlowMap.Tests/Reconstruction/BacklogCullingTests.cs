using System;
using FlowMap.Flow;
using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>
    /// What culling a waiting keyframe K between P and Q computes (<see cref="KeyframeMapper.CullWaiting"/>): the flow P -> Q
    /// from P -> K and K -> Q, and K's frames' matches carried to P's pixels. Linear flow fields, which bilinear sampling
    /// reproduces exactly, so the composition is exact up to float rounding (1e-4 px at these magnitudes); odd sizes.
    /// </summary>
    public sealed class BacklogCullingTests
    {
        private const int W = 37, H = 23;

        // u(x, y) = a + b x + c y, v(x, y) = d + e x + g y.
        private static FlowField Linear(double a, double b, double c, double d, double e, double g)
        {
            var f = new FlowField(W, H);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    f.Data[2 * (y * W + x)] = (float)(a + b * x + c * y);
                    f.Data[2 * (y * W + x) + 1] = (float)(d + e * x + g * y);
                }
            return f;
        }

        private static FloatImage Constant(float c)
        {
            var im = new FloatImage(W, H);
            for (int i = 0; i < im.Data.Length; i++) im.Data[i] = c;
            return im;
        }

        [Fact]
        public void Composed_flow_is_the_second_flow_sampled_where_the_first_carries_each_pixel()
        {
            var pkF = Linear(2.5, 0.02, 0, -1.25, 0, 0.03);
            var pkB = Linear(-2.5, 0, 0.01, 1.0, -0.02, 0);
            var kqF = Linear(1.5, 0.05, -0.02, 0.75, 0.01, 0.04);
            var kqB = Linear(-1.0, 0, 0, -0.5, 0, 0);
            var pk = new FlowResult(pkF, pkB, Constant(0.8f), Constant(0.5f));
            var kq = new FlowResult(kqF, kqB, Constant(0.5f), Constant(0.9f));
            var pq = KeyframeMapper.ComposeFlows(pk, kq);
            int inside = 0, outside = 0;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    double ax = pkF.U(x, y), ay = pkF.V(x, y), sx = x + ax, sy = y + ay;
                    if (sx >= 0 && sy >= 0 && sx <= W - 1 && sy <= H - 1)
                    {
                        inside++;
                        Assert.Equal(ax + 1.5 + 0.05 * sx - 0.02 * sy, pq.Forward.U(x, y), 4);
                        Assert.Equal(ay + 0.75 + 0.01 * sx + 0.04 * sy, pq.Forward.V(x, y), 4);
                        Assert.Equal(0.8 * 0.5, pq.ForwardConfidence[x, y], 5);
                    }
                    else
                    {
                        outside++;
                        Assert.Equal(0f, pq.ForwardConfidence[x, y]);
                    }
                    // Backward: Q -> K, then K -> P where it lands.
                    double bx = kqB.U(x, y), by = kqB.V(x, y), tx = x + bx, ty = y + by;
                    if (tx >= 0 && ty >= 0 && tx <= W - 1 && ty <= H - 1)
                    {
                        Assert.Equal(bx - 2.5 + 0.01 * ty, pq.Backward.U(x, y), 4);
                        Assert.Equal(by + 1.0 - 0.02 * tx, pq.Backward.V(x, y), 4);
                        Assert.Equal(0.9 * 0.5, pq.BackwardConfidence[x, y], 5);
                    }
                    else Assert.Equal(0f, pq.BackwardConfidence[x, y]);
                }
            Assert.True(inside > 0 && outside > 0, "the fields should carry some pixels out of the image");
        }

        [Fact]
        public void Matches_are_carried_to_the_predecessors_pixels_and_those_that_leave_it_are_dropped()
        {
            var toP = Linear(-3.0, 0.01, 0, 2.0, 0, -0.02);
            var conf = new FloatImage(W, H);
            for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) conf[x, y] = 0.25f + 0.01f * x;
            // K pixels (non-integer ones included) and where the frame saw them; the first leaves P (x - 3 < 0).
            float[] kx = { 1.0f, 10.5f, 20.25f, 36.0f }, ky = { 5.0f, 7.5f, 12.0f, 18.0f };
            float[] u = { 3, 4, 5, 6 }, v = { 7, 8, 9, 10 }, w = { 1, 0.5f, 2, 1 };
            var carried = KeyframeMapper.ThroughFlow(new KeyframeMatches(kx, ky, u, v, w), toP, conf);
            Assert.Equal(3, carried.Count);
            for (int j = 0; j < 3; j++)
            {
                int i = j + 1;
                double px = kx[i] - 3.0 + 0.01 * kx[i], py = ky[i] + 2.0 - 0.02 * ky[i];
                Assert.Equal(px, carried.Kx[j], 4);
                Assert.Equal(py, carried.Ky[j], 4);
                Assert.Equal(u[i], carried.U[j]);
                Assert.Equal(v[i], carried.V[j]);
                Assert.Equal(w[i] * (0.25 + 0.01 * kx[i]), carried.W[j], 4);
            }
        }
    }
}
