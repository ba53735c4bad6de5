using System;

namespace FlowMap.Depth
{
    /// <summary>
    /// The learnable depth of one frame: a coarse grid of log inverse depth, bilinearly upsampled to the pixels, optionally
    /// on top of a frozen prior. Per pixel u (double precision, the reference of FlowMap.Shaders/solve/depth_forward.comp):
    ///   no prior:   q(u) = exp(g(u))
    ///   with prior: q(u) = pos(exp(s) d(u) + b) exp(g(u))
    /// where g is the sum of the bilinear upsamplings of a fine grid theta[Gh, Gw] (node (a, b) sits on pixel (a * Cell, b * Cell))
    /// and a coarse grid with cells CoarseRatio times larger (so that large regions move together early in the descent),
    /// d the prior's relative inverse depth, s and b the per-frame scale (log) and shift, and pos(x) = x for x &gt;= eps,
    /// eps exp(x / eps - 1) below (positive, C1). z = 1 / q is the z-depth.
    /// </summary>
    internal readonly struct InverseDepthGrid
    {
        public const double PosEps = 1e-3;

        /// <summary>Ratio of the cell sizes of the two levels: the coarse level has cells of <see cref="CoarseRatio"/> x Cell pixels.</summary>
        public const int CoarseRatio = 4;

        public InverseDepthGrid(int width, int height, int cell)
        {
            if (width < 1 || height < 1) throw new ArgumentException("Empty image.");
            if (cell < 1) throw new ArgumentOutOfRangeException(nameof(cell));
            Width = width; Height = height; Cell = cell;
            GridWidth = (width - 1 + cell - 1) / cell + 1;
            GridHeight = (height - 1 + cell - 1) / cell + 1;
            int cc = cell * CoarseRatio;
            CoarseWidth = (width - 1 + cc - 1) / cc + 1;
            CoarseHeight = (height - 1 + cc - 1) / cc + 1;
        }

        public int Width { get; }
        public int Height { get; }
        /// <summary>Pixels per cell of the fine level.</summary>
        public int Cell { get; }
        public int GridWidth { get; }
        public int GridHeight { get; }
        public int CoarseWidth { get; }
        public int CoarseHeight { get; }
        /// <summary>Fine nodes (Gh x Gw, row-major) followed by coarse nodes: the parameters of one frame.</summary>
        public int NodeCount => GridWidth * GridHeight + CoarseWidth * CoarseHeight;
        public int FineCount => GridWidth * GridHeight;

        /// <summary>g(x, y): sum of the bilinear upsamplings of the fine and the coarse level (coarse-to-fine in one descent).</summary>
        public double Upsample(ReadOnlySpan<double> theta, int x, int y) =>
            Bilinear(theta, GridWidth, GridHeight, Cell, x, y) + Bilinear(theta.Slice(FineCount), CoarseWidth, CoarseHeight, Cell * CoarseRatio, x, y);

        private static double Bilinear(ReadOnlySpan<double> theta, int gw, int gh, int cell, int x, int y)
        {
            double gx = (double)x / cell, gy = (double)y / cell;
            int a0 = Math.Min((int)gx, gw - 1), b0 = Math.Min((int)gy, gh - 1);
            int a1 = Math.Min(a0 + 1, gw - 1), b1 = Math.Min(b0 + 1, gh - 1);
            double fx = gx - a0, fy = gy - b0;
            return (theta[b0 * gw + a0] * (1 - fx) + theta[b0 * gw + a1] * fx) * (1 - fy)
                 + (theta[b1 * gw + a0] * (1 - fx) + theta[b1 * gw + a1] * fx) * fy;
        }

        /// <summary>Weight of node (a, b) of a level with cells of <paramref name="cell"/> pixels at pixel (x, y) (the transpose of the upsampling).</summary>
        public static double NodeWeight(int cell, int a, int b, int x, int y)
        {
            double wx = 1 - Math.Abs((double)x / cell - a), wy = 1 - Math.Abs((double)y / cell - b);
            return wx > 0 && wy > 0 ? wx * wy : 0;
        }

        public static double Pos(double x) => x >= PosEps ? x : PosEps * Math.Exp(x / PosEps - 1);
        public static double PosDerivative(double x) => x >= PosEps ? 1 : Math.Exp(x / PosEps - 1);

        /// <summary>Inverse depth q and z-depth of every pixel.</summary>
        public void Forward(ReadOnlySpan<double> theta, ReadOnlySpan<float> prior, double logScale, double shift, double[] q, double[] z)
        {
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    int i = y * Width + x;
                    double e = Math.Exp(Upsample(theta, x, y));
                    double v = prior.IsEmpty ? e : Pos(Math.Exp(logScale) * prior[i] + shift) * e;
                    q[i] = v;
                    z[i] = 1 / v;
                }
        }

        /// <summary>
        /// From dL/dz per pixel to dL/dtheta (added into gTheta, one value per node, gathered in a fixed order) and
        /// dL/d(log scale), dL/dshift (returned; zero without a prior).
        /// </summary>
        public (double GScale, double GShift) Backward(ReadOnlySpan<double> theta, ReadOnlySpan<float> prior, double logScale, double shift,
            ReadOnlySpan<double> gz, Span<double> gTheta)
        {
            // dL/dg(u) = dL/dz * dz/dq * dq/dg = gz * (-1/q^2) * q = -gz / q = -gz z.
            var gg = new double[Width * Height];
            double gs = 0, gb = 0;
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    int i = y * Width + x;
                    double e = Math.Exp(Upsample(theta, x, y));
                    double q = e;
                    if (!prior.IsEmpty)
                    {
                        double arg = Math.Exp(logScale) * prior[i] + shift;
                        double p = Pos(arg);
                        q = p * e;
                        double gq = -gz[i] / (q * q);
                        double gArg = gq * e * PosDerivative(arg);
                        gs += gArg * Math.Exp(logScale) * prior[i];
                        gb += gArg;
                    }
                    gg[i] = -gz[i] / q;
                }
            Gather(gg, GridWidth, GridHeight, Cell, gTheta);
            Gather(gg, CoarseWidth, CoarseHeight, Cell * CoarseRatio, gTheta.Slice(FineCount));
            return (gs, gb);
        }

        /// <summary>Per node, the weighted sum of the per-pixel gradient over its support (fixed order).</summary>
        private void Gather(double[] gg, int gw, int gh, int cell, Span<double> gTheta)
        {
            for (int b = 0; b < gh; b++)
                for (int a = 0; a < gw; a++)
                {
                    int x0 = Math.Max(0, (a - 1) * cell + 1), x1 = Math.Min(Width - 1, (a + 1) * cell - 1);
                    int y0 = Math.Max(0, (b - 1) * cell + 1), y1 = Math.Min(Height - 1, (b + 1) * cell - 1);
                    double s = 0;
                    for (int y = y0; y <= y1; y++)
                        for (int x = x0; x <= x1; x++)
                            s += NodeWeight(cell, a, b, x, y) * gg[y * Width + x];
                    gTheta[b * gw + a] += s;
                }
        }
    }
}
