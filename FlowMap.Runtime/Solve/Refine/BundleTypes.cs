using System;
using System.Collections.Generic;

namespace FlowMap.Solve.Refine
{
    /// <summary>
    /// One edge of the keyframe graph: dense flow float2[H, W] in pixels, keyframe <see cref="I"/> -> <see cref="J"/>,
    /// at the processing size, with a confidence float[H, W] in [0, 1] (null = 1 everywhere; forward-backward
    /// inconsistent or occluded pixels should carry a low confidence).
    /// </summary>
    internal sealed class BundleEdge
    {
        public int I, J;
        public FlowField Flow = null!;
        public FloatImage? Confidence;
    }

    /// <summary>Robust loss on the reprojection error's norm |r| in pixels (scale <see cref="BundleOptions.RobustPx"/>).</summary>
    internal enum BundleRobust
    {
        /// <summary>Quadratic below the scale, linear above: weight min(1, c / |r|).</summary>
        Huber,
        /// <summary>c^2/2 log(1 + |r|^2/c^2): weight 1 / (1 + |r|^2 / c^2), gross outliers get almost no weight.</summary>
        Cauchy,
    }

    /// <summary>
    /// The fixed data of a dense multi-view bundle adjustment: image size W x H, the keyframe count and the edges, and
    /// the coarse depth grid. Depth variables: one inverse depth per coarse pixel (gx, gy) of each keyframe, at the
    /// processing-size position (stride gx + (stride-1)/2, stride gy + (stride-1)/2), Gw = W / stride, Gh = H / stride.
    /// The observation of each edge and coarse pixel is computed once here: the flow target u + flow(u), the flow
    /// bilinear at the non-integer position weighted by the taps' confidences (so a tap of confidence 0 never pulls the
    /// target), and the bilinear confidence; targets outside the image or non-finite get confidence 0 (dropped).
    /// </summary>
    internal sealed class BundleProblem
    {
        public BundleProblem(int width, int height, int keyframes, IReadOnlyList<BundleEdge> edges, int stride = 8)
        {
            if (width < 2 || height < 2) throw new ArgumentException($"Bundle adjustment needs an image of at least 2x2 pixels, got {width}x{height}.");
            if (keyframes < 1) throw new ArgumentException("Bundle adjustment needs at least one keyframe.");
            if (edges == null) throw new ArgumentNullException(nameof(edges));
            if (stride < 1 || width / stride < 1 || height / stride < 1)
                throw new ArgumentException($"Depth stride {stride} does not fit a {width}x{height} image.");
            Width = width; Height = height; Keyframes = keyframes; Stride = stride;
            Gw = width / stride; Gh = height / stride;
            Edges = edges;
            Obs = new float[edges.Count][];
            for (int e = 0; e < edges.Count; e++)
            {
                var ed = edges[e] ?? throw new ArgumentException($"Edge {e} is null.");
                if (ed.I < 0 || ed.I >= keyframes || ed.J < 0 || ed.J >= keyframes || ed.I == ed.J)
                    throw new ArgumentException($"Edge {e} ({ed.I} -> {ed.J}) must join two different keyframes of 0..{keyframes - 1}.");
                if (ed.Flow == null || ed.Flow.Width != width || ed.Flow.Height != height)
                    throw new ArgumentException($"Edge {e} ({ed.I} -> {ed.J}): flow must be {width}x{height}.");
                if (ed.Confidence != null && (ed.Confidence.Width != width || ed.Confidence.Height != height))
                    throw new ArgumentException($"Edge {e} ({ed.I} -> {ed.J}): confidence must be {width}x{height}.");
                Obs[e] = Observe(ed);
            }
        }

        public int Width { get; }
        public int Height { get; }
        public int Keyframes { get; }
        public int Stride { get; }
        public int Gw { get; }
        public int Gh { get; }
        /// <summary>Depth variables per keyframe, Gw * Gh.</summary>
        public int Cells => Gw * Gh;
        public IReadOnlyList<BundleEdge> Edges { get; }
        /// <summary>Per edge float[Gh, Gw, 4]: target x, target y (pixels in J), confidence (0 = dropped), 0.</summary>
        internal float[][] Obs { get; }

        public double PrincipalX => (Width - 1) / 2.0;
        public double PrincipalY => (Height - 1) / 2.0;

        /// <summary>Processing-size pixel position of coarse pixel g (both axes).</summary>
        public double CellCenter(int g) => Stride * g + (Stride - 1) / 2.0;

        private float[] Observe(BundleEdge ed)
        {
            var o = new float[Cells * 4];
            var fl = ed.Flow.Data;
            var cf = ed.Confidence?.Data;
            for (int gy = 0; gy < Gh; gy++)
                for (int gx = 0; gx < Gw; gx++)
                {
                    double x = CellCenter(gx), y = CellCenter(gy);
                    int x0 = Math.Min((int)Math.Floor(x), Width - 2), y0 = Math.Min((int)Math.Floor(y), Height - 2);
                    double ax = x - x0, ay = y - y0;
                    // Confidence-weighted bilinear flow: a tap of confidence 0 (occluded, undefined) does not pull the target.
                    double u = 0, v = 0, c = 0;
                    for (int k = 0; k < 4; k++)
                    {
                        int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                        int i = yy * Width + xx;
                        double wc = ((k & 1) == 1 ? ax : 1 - ax) * ((k >> 1) == 1 ? ay : 1 - ay) * (cf == null ? 1.0 : Math.Max(0, cf[i]));
                        if (!(wc > 0)) continue;
                        u += wc * fl[2 * i]; v += wc * fl[2 * i + 1];
                        c += wc;
                    }
                    double tx = c > 0 ? x + u / c : double.NaN, ty = c > 0 ? y + v / c : double.NaN;
                    int b = 4 * (gy * Gw + gx);
                    bool ok = !double.IsNaN(tx) && !double.IsNaN(ty) && !double.IsInfinity(tx) && !double.IsInfinity(ty)
                              && tx >= 0 && ty >= 0 && tx <= Width - 1 && ty <= Height - 1 && c > 0;
                    o[b] = ok ? (float)tx : 0; o[b + 1] = ok ? (float)ty : 0;
                    o[b + 2] = ok ? (float)Math.Min(1.0, c) : 0;
                }
            return o;
        }
    }

    /// <summary>
    /// The variables: camera-to-world poses, inverse depth per keyframe (double[Gh * Gw], row-major, 1 / z-depth at the
    /// coarse pixel positions), one focal in pixels (fx = fy) and COLMAP SIMPLE_RADIAL k1.
    /// </summary>
    internal sealed class BundleState
    {
        public CameraPose[] Poses = Array.Empty<CameraPose>();
        public double[][] InverseDepth = Array.Empty<double[]>();
        public double Focal;
        public double K1;

        public BundleState Clone() => new BundleState
        {
            Poses = (CameraPose[])Poses.Clone(),
            InverseDepth = Array.ConvertAll(InverseDepth, a => (double[])a.Clone()),
            Focal = Focal,
            K1 = K1,
        };
    }

    internal sealed class BundleOptions
    {
        /// <summary>Gauss-Newton linearisations (each with up to <see cref="MaxRetries"/> damped re-solves when a step is rejected).</summary>
        public int Iterations = 8;
        /// <summary>
        /// Scale c of the robust loss, pixels: the fit's scale unless <see cref="ScaleFromResiduals"/>, and always the scale of
        /// the reported costs and cell confidences (<see cref="BundleResult.FinalCost"/>), so refinements stay comparable.
        /// </summary>
        public double RobustPx = 1.0;
        /// <summary>
        /// With <see cref="BundleRobust.Cauchy"/>: once the fit at <see cref="RobustPx"/> has converged, the scale is taken from
        /// the flow's own noise (<see cref="BundleAdjuster.NoiseSigma"/>: <see cref="BundleAdjuster.CauchyEfficiency"/> x
        /// sigma, between <see cref="MinRobustPx"/> and <see cref="RobustPx"/>) and the fit continues there, re-estimated
        /// while it shrinks by more than a tenth (at most <see cref="MaxScaleUpdates"/> times).
        /// </summary>
        public bool ScaleFromResiduals;
        /// <summary>Smallest fitted scale, pixels (flow is not more precise than a tenth of a pixel).</summary>
        public double MinRobustPx = 0.1;
        public int MaxScaleUpdates = 3;
        public BundleRobust Robust = BundleRobust.Huber;
        /// <summary>With <see cref="BundleRobust.Cauchy"/>: iterate with Huber first until that stage has converged (step gain
        /// under <see cref="LevelTolerance"/>), then with Cauchy (graduated non-convexity).</summary>
        public bool WarmStartHuber = true;
        /// <summary>The Huber warm start has converged when a step lowers its cost by less than this fraction.</summary>
        public double LevelTolerance = 1e-3;
        public bool RefineFocal = true;
        public bool RefineK1 = true;
        /// <summary>The first n keyframes' poses are held fixed (gauge). At least 1; with exactly 1 the scale is fixed by
        /// the baseline of the first free keyframe (see <see cref="BundleAdjuster"/>).</summary>
        public int FixedKeyframes = 1;
        public bool UseGpu;
        /// <summary>Initial Levenberg-Marquardt damping (multiplies the diagonal: H_ii (1 + lambda)).</summary>
        public double InitialDamping = 1e-4;
        public int MaxRetries = 6;
        /// <summary>Stop when a step lowers the robust cost by less than this fraction.</summary>
        public double RelativeTolerance = 1e-6;
    }

    internal sealed class BundleResult
    {
        public BundleState State = null!;
        public BundleProblem Problem = null!;
        /// <summary>Confidence-weighted RMS of the reprojection error norm over the valid residuals, pixels, at the start and end.</summary>
        public double InitialRmsPx, FinalRmsPx;
        /// <summary>Robust cost at the end per unit of confidence of the observations (comparable across problems).</summary>
        public double FinalMeanCost;
        public double InitialCost, FinalCost;
        /// <summary>Linearisations done.</summary>
        public int Iterations;
        /// <summary>Focal in pixels at the start and after each linearisation.</summary>
        public double[] FocalHistory = Array.Empty<double>();
        /// <summary>Robust cost (at <see cref="BundleOptions.RobustPx"/>) at the start and the end.</summary>
        public double[] CostHistory = Array.Empty<double>();
        /// <summary>One line per linearisation: robust scale, cost before and after, damping, focal (diagnostics).</summary>
        public string[] Trace = Array.Empty<string>();
        /// <summary>Per keyframe float[Gh * Gw]: mean over the keyframe's outgoing edges of confidence x robust weight at the final state.</summary>
        internal float[][] CellConfidence = Array.Empty<float[]>();
        /// <summary>Milliseconds spent linearising (residuals, Jacobians, accumulation), in the Schur/Cholesky solve and in trial costs.</summary>
        public double LinearizeMs, SolveMs, CostMs;

        /// <summary>z-depth float[H, W] of a keyframe: the coarse inverse depth bilinearly upsampled (clamped at the border), then inverted.</summary>
        public FloatImage DenseDepth(int keyframe) => Invert(Upsample(Array.ConvertAll(State.InverseDepth[keyframe], v => (float)v)));

        /// <summary>
        /// z-depth float[H, W] of a keyframe, its coarse inverse depth upsampled guided by the keyframe's image
        /// (<see cref="GuidedUpsampling.Upsample"/>; <paramref name="sigma"/> in RGB units of [0, 1]), then inverted.
        /// </summary>
        public FloatImage DenseDepth(int keyframe, RgbImage guide, double sigma) =>
            Invert(GuidedUpsampling.Upsample(Array.ConvertAll(State.InverseDepth[keyframe], v => (float)v), Problem.Gw, Problem.Gh, Problem.Stride, guide, sigma));

        private static FloatImage Invert(FloatImage inv)
        {
            for (int i = 0; i < inv.Data.Length; i++) inv.Data[i] = inv.Data[i] > 0 ? 1f / inv.Data[i] : 0f;
            return inv;
        }

        /// <summary>Confidence float[H, W] in [0, 1] of a keyframe's depth, from the final robust weights, bilinearly upsampled.</summary>
        public FloatImage DenseConfidence(int keyframe) => Upsample(CellConfidence[keyframe]);

        private FloatImage Upsample(float[] cells)
        {
            var p = Problem;
            var img = new FloatImage(p.Width, p.Height);
            double off = (p.Stride - 1) / 2.0;
            for (int y = 0; y < p.Height; y++)
            {
                double gyf = Math.Max(0, Math.Min(p.Gh - 1, (y - off) / p.Stride));
                int gy0 = Math.Min((int)gyf, Math.Max(0, p.Gh - 2)); double ay = p.Gh == 1 ? 0 : gyf - gy0;
                int gy1 = Math.Min(gy0 + 1, p.Gh - 1);
                for (int x = 0; x < p.Width; x++)
                {
                    double gxf = Math.Max(0, Math.Min(p.Gw - 1, (x - off) / p.Stride));
                    int gx0 = Math.Min((int)gxf, Math.Max(0, p.Gw - 2)); double ax = p.Gw == 1 ? 0 : gxf - gx0;
                    int gx1 = Math.Min(gx0 + 1, p.Gw - 1);
                    double v = (cells[gy0 * p.Gw + gx0] * (1 - ax) + cells[gy0 * p.Gw + gx1] * ax) * (1 - ay)
                             + (cells[gy1 * p.Gw + gx0] * (1 - ax) + cells[gy1 * p.Gw + gx1] * ax) * ay;
                    img.Data[y * p.Width + x] = (float)v;
                }
            }
            return img;
        }
    }
}
