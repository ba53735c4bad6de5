using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Flow;
using FlowMap.Solve;

namespace FlowMap.Reconstruction
{
    /// <summary>
    /// Runs the solver on a window shrunk by an integer factor k (images and confidences box-averaged, flow box-averaged and
    /// divided by k, priors box-averaged, a fixed focal divided by the size ratio) and brings depth and confidence back to
    /// the processing size (bilinear). The solver's depth is a coarse grid anyway, so solving at a lower resolution costs
    /// little accuracy and k^2 less time per step.
    /// </summary>
    internal static class SolverResolution
    {
        /// <summary>The smallest integer factor that brings W x H to at most <paramref name="maxPixels"/> (1 when it fits).</summary>
        public static int Factor(int w, int h, int maxPixels)
        {
            int k = 1;
            while ((long)(w / k) * (h / k) > maxPixels && w / (k + 1) >= 8 && h / (k + 1) >= 8) k++;
            return k;
        }

        public static SolverResult Solve(IWindowSolver solver, SolverWindow window, SolverOptions options, SolverWarmStart? warm, int k, System.Threading.CancellationToken token)
        {
            if (k <= 1) return solver.Solve(window, options, warm, token);
            int W = window.Width, H = window.Height, w = W / k, h = H / k;
            double sx = (double)w / W, sy = (double)h / H, s = Math.Sqrt(sx * sy);
            var images = window.Images.Select(im => ImageResampler.Resize(im, w, h)).ToList();
            var pairs = window.Pairs.Select(p => new FlowResult(Flow(p.Forward, k, w, h), Flow(p.Backward, k, w, h),
                Box(p.ForwardConfidence, k, w, h), Box(p.BackwardConfidence, k, w, h))).ToList();
            var priors = window.PriorInverseDepth?.Select(p => Box(p, k, w, h)).ToList();
            var small = new SolverWindow(images, pairs, priors, window.FixedFocal * s);
            SolverWarmStart? smallWarm = warm == null ? null : new SolverWarmStart
            {
                InitialDepth = warm.InitialDepth?.Select(d => d == null ? null : Box(d, k, w, h)).ToList(),
                Focal = warm.Focal * s,
                FrozenFrames = warm.FrozenFrames,
            };
            var r = solver.Solve(small, options, smallWarm, token);
            return new SolverResult
            {
                Poses = r.Poses,
                Focal = window.FixedFocal ?? r.Focal / s,
                Depth = r.Depth.Select(d => Up(d, W, H)).ToArray(),
                Confidence = r.Confidence.Select(c => Up(c, W, H)).ToArray(),
                FinalLoss = r.FinalLoss,
                Steps = r.Steps,
                StageMilliseconds = r.StageMilliseconds,
            };
        }

        private static FloatImage Box(FloatImage src, int k, int w, int h)
        {
            var d = new FloatImage(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double s = 0;
                    for (int j = 0; j < k; j++) for (int i = 0; i < k; i++) s += src[x * k + i, y * k + j];
                    d[x, y] = (float)(s / (k * k));
                }
            return d;
        }

        /// <summary>Flow of a k x k block (averaged) in pixels of the small image. Pixel centres: x_small = (x + 0.5) / k - 0.5, so displacements divide by k.</summary>
        private static FlowField Flow(FlowField src, int k, int w, int h)
        {
            var d = new FlowField(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double u = 0, v = 0;
                    for (int j = 0; j < k; j++) for (int i = 0; i < k; i++) { u += src.U(x * k + i, y * k + j); v += src.V(x * k + i, y * k + j); }
                    d.Data[2 * (y * w + x)] = (float)(u / (k * k) / k);
                    d.Data[2 * (y * w + x) + 1] = (float)(v / (k * k) / k);
                }
            return d;
        }

        private static FloatImage Up(FloatImage src, int W, int H) =>
            new FloatImage(W, H, FlowMap.Depth.OnnxModel.Resize(src.Data, src.Width, src.Height, W, H));
    }
}
