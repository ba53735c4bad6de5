using System;
using System.Collections.Generic;
using System.Threading;
using FlowMap.Flow;

namespace FlowMap.Evaluation
{
    /// <summary>
    /// Ground-truth optical flow of a rigid scene from z-depth and camera-to-world poses, for attributing errors (what the
    /// pipeline reaches when the flow is exact). Pixel conventions as <see cref="FlowField"/>.
    /// </summary>
    internal static class TruthFlow
    {
        /// <summary>
        /// Flow from frame a to frame b and back at the size of <paramref name="k"/> (the processing size), with confidence 1
        /// where the truth is known and 0 where it is not: no valid depth, the point leaves the other image or falls behind it,
        /// or it is occluded there (the other frame's depth at the landing pixel is nearer by more than
        /// <paramref name="occlusionTolerance"/> of the point's depth).
        /// </summary>
        /// <param name="depthA">z-depth of a (any resolution with the aspect of <paramref name="k"/>; 0 or non-finite = invalid).</param>
        /// <param name="poseA">Camera-to-world pose of a.</param>
        /// <param name="depthB">z-depth of b.</param>
        /// <param name="poseB">Camera-to-world pose of b.</param>
        /// <param name="k">Intrinsics at the size of the flow.</param>
        /// <param name="occlusionTolerance">Relative depth tolerance of the visibility test.</param>
        public static FlowResult Between(FloatImage depthA, CameraPose poseA, FloatImage depthB, CameraPose poseB, Intrinsics k, double occlusionTolerance = 0.03)
        {
            if (depthA == null) throw new ArgumentNullException(nameof(depthA));
            if (depthB == null) throw new ArgumentNullException(nameof(depthB));
            if (k == null) throw new ArgumentNullException(nameof(k));
            var (fwd, fc) = OneWay(depthA, poseA, depthB, poseB, k, occlusionTolerance);
            var (bwd, bc) = OneWay(depthB, poseB, depthA, poseA, k, occlusionTolerance);
            return new FlowResult(fwd, bwd, fc, bc);
        }

        private static (FlowField, FloatImage) OneWay(FloatImage da, CameraPose pa, FloatImage db, CameraPose pb, Intrinsics k, double tol)
        {
            int w = k.Width, h = k.Height;
            var flow = new FlowField(w, h);
            var conf = new FloatImage(w, h);
            var aToB = pb.Inverse().Compose(pa); // camera a -> camera b
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double z = Sample(da, x, y, w, h);
                    if (!(z > 0)) continue;
                    var (X, Y, Z) = k.Unproject(x, y, z);
                    var (bx, by, bz) = aToB.Transform(X, Y, Z);
                    if (!k.Project(bx, by, bz, out double u, out double v)) continue;
                    int i = y * w + x;
                    flow.Data[2 * i] = (float)(u - x);
                    flow.Data[2 * i + 1] = (float)(v - y);
                    if (u < -0.5 || v < -0.5 || u > w - 0.5 || v > h - 0.5) continue;
                    double zb = Sample(db, u, v, w, h);
                    if (!(zb > 0) || zb < bz * (1 - tol)) continue; // unknown there, or something nearer hides the point
                    conf.Data[i] = 1f;
                }
            return (flow, conf);
        }

        /// <summary>
        /// z-depth at processing-size position (x, y) of a depth map of any size with the same aspect: bilinear in inverse
        /// depth where the four neighbours are valid and within 5 % of each other (inside a surface), else the nearest pixel.
        /// </summary>
        private static double Sample(FloatImage d, double x, double y, int w, int h)
        {
            double sx = (x + 0.5) * d.Width / w - 0.5, sy = (y + 0.5) * d.Height / h - 0.5;
            int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
            double fx = sx - x0, fy = sy - y0;
            int xa = Math.Clamp(x0, 0, d.Width - 1), xb = Math.Clamp(x0 + 1, 0, d.Width - 1);
            int ya = Math.Clamp(y0, 0, d.Height - 1), yb = Math.Clamp(y0 + 1, 0, d.Height - 1);
            double z00 = d[xa, ya], z10 = d[xb, ya], z01 = d[xa, yb], z11 = d[xb, yb];
            bool ok = z00 > 0 && z10 > 0 && z01 > 0 && z11 > 0 && !double.IsInfinity(z00 + z10 + z01 + z11);
            if (ok)
            {
                double lo = Math.Min(Math.Min(z00, z10), Math.Min(z01, z11)), hi = Math.Max(Math.Max(z00, z10), Math.Max(z01, z11));
                if (hi <= 1.05 * lo)
                {
                    double q = (1 - fy) * ((1 - fx) / z00 + fx / z10) + fy * ((1 - fx) / z01 + fx / z11);
                    return 1 / q;
                }
            }
            int xn = Math.Clamp((int)Math.Round(sx, MidpointRounding.AwayFromZero), 0, d.Width - 1);
            int yn = Math.Clamp((int)Math.Round(sy, MidpointRounding.AwayFromZero), 0, d.Height - 1);
            double zn = d[xn, yn];
            return zn > 0 && !double.IsInfinity(zn) ? zn : 0;
        }
    }

    /// <summary>
    /// A flow "estimator" that returns the ground truth (<see cref="TruthFlow"/>), for attribution benchmarks. It recognises the
    /// frames it is given by their pixels: register every frame at the size the pipeline will pass (the processing size) with
    /// <see cref="Register"/> first.
    /// </summary>
    internal sealed class TruthFlowEstimator : IFlowEstimator
    {
        private readonly Dictionary<ulong, int> _index = new Dictionary<ulong, int>();
        private readonly Func<int, int, FlowResult> _truth;

        /// <param name="truth">The true flow between frame indices (a, b) at the processing size.</param>
        public TruthFlowEstimator(Func<int, int, FlowResult> truth) { _truth = truth ?? throw new ArgumentNullException(nameof(truth)); }

        public string Name => "ground truth";

        /// <summary>Registers frame <paramref name="index"/> as the pipeline will see it (same pixels, same size).</summary>
        public void Register(int index, RgbImage image)
        {
            ulong h = Hash(image);
            if (!_index.ContainsKey(h)) _index[h] = index; // identical images (a static camera) map to the first: the same truth
        }

        public FlowResult Estimate(RgbImage a, RgbImage b, CancellationToken token = default)
        {
            if (!_index.TryGetValue(Hash(a), out int ia) || !_index.TryGetValue(Hash(b), out int ib))
                throw new InvalidOperationException("The truth flow was asked for a frame that was not registered (register frames at the processing size).");
            return _truth(ia, ib);
        }

        /// <summary>FNV-1a over the size and pixels.</summary>
        private static ulong Hash(RgbImage im)
        {
            ulong h = 14695981039346656037UL;
            void Mix(byte v) { h ^= v; h *= 1099511628211UL; }
            foreach (var v in BitConverter.GetBytes(im.Width)) Mix(v);
            foreach (var v in BitConverter.GetBytes(im.Height)) Mix(v);
            foreach (var v in im.Pixels) Mix(v);
            return h;
        }

        public void Dispose() { }
    }
}
