using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Datasets;
using FlowMap.Evaluation;
using FlowMap.Export;
using FlowMap.Flow;
using FlowMap.Reconstruction;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Flow
{
    /// <summary>
    /// Whether the mapping flow is biased in length on real images, judged by the images themselves: the second image
    /// sampled along s x flow should match the first best at s = 1. Against the flow computed from ICL-NUIM's reference
    /// depth and poses, the estimate is 1.4 % longer (2.6 % near the centre, 0.7 % at the border), which would bend the
    /// focal the way ICL-NUIM's offline focal is off (+1.44 %); this tells the estimator's bias from the reference's.
    /// ICL-NUIM livingroom1 pairs 6, 12 and 18 frames apart from frames 0, 30, ..., 180 at 320x240; skips visibly when
    /// ../shared/data is absent.
    /// </summary>
    public sealed class PhotometricScaleTests : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public PhotometricScaleTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        private static double Luma(RgbImage im, int x, int y)
        {
            int i = 3 * (y * im.Width + x);
            return 0.299 * im.Pixels[i] + 0.587 * im.Pixels[i + 1] + 0.114 * im.Pixels[i + 2];
        }

        /// <summary>Bilinear luminance (0-255) at (x, y), or NaN outside the image.</summary>
        private static double Luma(RgbImage im, double x, double y)
        {
            if (!(x >= 0 && y >= 0 && x <= im.Width - 1 && y <= im.Height - 1)) return double.NaN;
            int x0 = Math.Min((int)x, im.Width - 2), y0 = Math.Min((int)y, im.Height - 2);
            double fx = x - x0, fy = y - y0;
            return (1 - fy) * ((1 - fx) * Luma(im, x0, y0) + fx * Luma(im, x0 + 1, y0)) + fy * ((1 - fx) * Luma(im, x0, y0 + 1) + fx * Luma(im, x0 + 1, y0 + 1));
        }

        /// <summary>The vertex of the parabola through (1 - h, e0), (1, e1), (1 + h, e2).</summary>
        private static double Vertex(double e0, double e1, double e2, double h) => 1 + h * (e0 - e2) / (2 * (e0 - 2 * e1 + e2));

        [Fact]
        public void The_mapping_flow_on_icl_nuim_matches_the_images_best_at_its_own_length()
        {
            var dir = Repo.SharedData("icl_nuim_livingroom1");
            if (dir == null) Assert.Skip("../shared/data/icl_nuim_livingroom1 is absent.");
            var icl = IclNuim.Open(dir);
            const int w = 320, h = 240;
            var k = icl.Intrinsics.Resized(w, h);
            var scales = new[] { 0.99, 1.0, 1.01 };
            var est = new double[scales.Length];
            // The reference flow split into its rotational part (K R K^-1 at the reference focal) and the rest, each scaled.
            var rotScales = new[] { 0.99, 1.0, 1.01, 1.02 };
            var refErr = new double[rotScales.Length];
            long n = 0;
            using var flow = new VulkanFlowEstimator(Ctx, VulkanFlowOptions.Mapping());
            for (int i = 0; i <= 180; i += 30)
                foreach (int d in new[] { 6, 12, 18 })
                {
                    var a = ImageResampler.Resize(PngImage.ReadRgb(icl.ColorFiles[i]), w, h);
                    var b = ImageResampler.Resize(PngImage.ReadRgb(icl.ColorFiles[i + d]), w, h);
                    var f = flow.Estimate(a, b);
                    var t = TruthFlow.Between(icl.ReadDepth(i), icl.Poses[i], icl.ReadDepth(i + d), icl.Poses[i + d], k);
                    var ab = icl.Poses[i + d].Inverse().Compose(icl.Poses[i]);
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                        {
                            int p = y * w + x;
                            if (!(f.ForwardConfidence.Data[p] >= 0.5f) || !(t.ForwardConfidence.Data[p] > 0.5f)) continue;
                            double eu = f.Forward.Data[2 * p], ev = f.Forward.Data[2 * p + 1];
                            double tu = t.Forward.Data[2 * p], tv = t.Forward.Data[2 * p + 1];
                            double rx = (x - k.Cx) / k.Fx, ry = (y - k.Cy) / k.Fy;
                            double qx = ab.R(0, 0) * rx + ab.R(0, 1) * ry + ab.R(0, 2), qy = ab.R(1, 0) * rx + ab.R(1, 1) * ry + ab.R(1, 2), qz = ab.R(2, 0) * rx + ab.R(2, 1) * ry + ab.R(2, 2);
                            double ru = k.Fx * qx / qz + k.Cx - x, rv = k.Fy * qy / qz + k.Cy - y;
                            // Only pixels that every variant keeps inside the other image (the same set for all).
                            var le = scales.Select(s => Luma(b, x + s * eu, y + s * ev)).ToArray();
                            var lr = rotScales.Select(s => Luma(b, x + s * ru + (tu - ru), y + s * rv + (tv - rv))).ToArray();
                            if (le.Any(double.IsNaN) || lr.Any(double.IsNaN)) continue;
                            double la = Luma(a, x, y);
                            for (int q = 0; q < scales.Length; q++) est[q] += Math.Abs(la - le[q]);
                            for (int q = 0; q < rotScales.Length; q++) refErr[q] += Math.Abs(la - lr[q]);
                            n++;
                        }
                }
            Assert.True(n > 100_000, $"only {n} pixels compared");
            double vertex = Vertex(est[0] / n, est[1] / n, est[2] / n, 0.01);
            _out.WriteLine($"{n} pixels; mean |luminance difference| (0-255) with the estimate scaled by " +
                string.Join(", ", scales.Select((s, q) => $"{s:F2}: {est[q] / n:F3}")) + $"; optimum at {vertex:F4}");
            _out.WriteLine("with the reference flow's rotational part scaled by " + string.Join(", ", rotScales.Select((s, q) => $"{s:F2}: {refErr[q] / n:F3}")));
            // The estimate's own length is the photometric optimum to within half the focal target (1 %): a length bias
            // that would move the focal by more than 0.5 % fails here.
            Assert.True(est[1] < est[0] && est[1] < est[2], "the estimate scaled by 0.99 or 1.01 matches the images better than the estimate");
            Assert.InRange(vertex, 0.995, 1.005);
        }
    }
}
