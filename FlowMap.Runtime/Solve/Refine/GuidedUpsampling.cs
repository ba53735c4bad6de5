using System;

namespace FlowMap.Solve.Refine
{
    /// <summary>
    /// A coarse per-cell map (the refinement's inverse depth, one value per stride x stride block) brought to full size guided
    /// by the image: joint bilateral upsampling (Kopf et al., SIGGRAPH 2007) restricted to the bilinear neighbourhood. Each
    /// pixel takes its four bilinear cells with their bilinear weights, each multiplied by
    /// exp(-|rgb(pixel) - mean rgb(cell)|^2 / (2 sigma^2)), normalised. On a uniform image that is the bilinear upsampling;
    /// where a depth edge runs along an image edge inside a cell, a pixel takes the depth of the cells that look like it
    /// instead of the blend of both sides. Cell centres and border clamping as the bilinear upsampling of the refinement.
    /// </summary>
    internal static class GuidedUpsampling
    {
        /// <param name="cells">float[gh * gw], row-major.</param>
        /// <param name="stride">Pixels per cell side; the image is at least gw x stride by gh x stride (extra pixels take the last cells).</param>
        /// <param name="guide">The image at full size.</param>
        /// <param name="sigma">Colour distance scale in RGB units of [0, 1] (Euclidean over the three channels); positive.</param>
        public static FloatImage Upsample(float[] cells, int gw, int gh, int stride, RgbImage guide, double sigma)
        {
            if (cells == null) throw new ArgumentNullException(nameof(cells));
            if (guide == null) throw new ArgumentNullException(nameof(guide));
            if (gw < 1 || gh < 1 || stride < 1 || cells.Length != gw * gh) throw new ArgumentException($"{cells.Length} cells for a {gw}x{gh} grid.");
            if (guide.Width < gw * stride || guide.Height < gh * stride) throw new ArgumentException($"A {guide.Width}x{guide.Height} guide is smaller than {gw}x{gh} cells of {stride} px.");
            if (!(sigma > 0) || double.IsInfinity(sigma)) throw new ArgumentException("sigma must be positive and finite.", nameof(sigma));
            int w = guide.Width, h = guide.Height;
            var px = guide.Pixels;
            // Mean colour of each cell's block.
            var mean = new double[3 * gw * gh];
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                {
                    double r = 0, g = 0, b = 0;
                    for (int y = gy * stride; y < gy * stride + stride; y++)
                        for (int x = gx * stride; x < gx * stride + stride; x++)
                        {
                            int i = 3 * (y * w + x);
                            r += px[i]; g += px[i + 1]; b += px[i + 2];
                        }
                    double n = 255.0 * stride * stride;
                    int o = 3 * (gy * gw + gx);
                    mean[o] = r / n; mean[o + 1] = g / n; mean[o + 2] = b / n;
                }
            var img = new FloatImage(w, h);
            double off = (stride - 1) / 2.0, k = 1 / (2 * sigma * sigma);
            for (int y = 0; y < h; y++)
            {
                double gyf = Math.Max(0, Math.Min(gh - 1, (y - off) / stride));
                int gy0 = Math.Min((int)gyf, Math.Max(0, gh - 2)); double ay = gh == 1 ? 0 : gyf - gy0;
                int gy1 = Math.Min(gy0 + 1, gh - 1);
                for (int x = 0; x < w; x++)
                {
                    double gxf = Math.Max(0, Math.Min(gw - 1, (x - off) / stride));
                    int gx0 = Math.Min((int)gxf, Math.Max(0, gw - 2)); double ax = gw == 1 ? 0 : gxf - gx0;
                    int gx1 = Math.Min(gx0 + 1, gw - 1);
                    int pi = 3 * (y * w + x);
                    double pr = px[pi] / 255.0, pg = px[pi + 1] / 255.0, pb = px[pi + 2] / 255.0;
                    double sum = 0, wsum = 0;
                    Take(gy0 * gw + gx0, (1 - ax) * (1 - ay));
                    Take(gy0 * gw + gx1, ax * (1 - ay));
                    Take(gy1 * gw + gx0, (1 - ax) * ay);
                    Take(gy1 * gw + gx1, ax * ay);
                    // All four colours far from the pixel's (weights underflow): the bilinear value.
                    img.Data[y * w + x] = (float)(wsum > 1e-300 ? sum / wsum
                        : (cells[gy0 * gw + gx0] * (1 - ax) + cells[gy0 * gw + gx1] * ax) * (1 - ay) + (cells[gy1 * gw + gx0] * (1 - ax) + cells[gy1 * gw + gx1] * ax) * ay);

                    void Take(int c, double bilinear)
                    {
                        int o = 3 * c;
                        double dr = pr - mean[o], dg = pg - mean[o + 1], db = pb - mean[o + 2];
                        double wt = bilinear * Math.Exp(-(dr * dr + dg * dg + db * db) * k);
                        sum += wt * cells[c]; wsum += wt;
                    }
                }
            }
            return img;
        }
    }
}
