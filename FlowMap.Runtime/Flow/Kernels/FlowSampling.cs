using System;

namespace FlowMap.Flow.Kernels
{
    /// <summary>Double-precision sampling helpers shared by the flow kernels' CPU references (same rules as the shaders).</summary>
    internal static class FlowSampling
    {
        /// <summary>Bilinear sample of channel <paramref name="c"/> of a [h, w, channels] image, clamp-to-edge.</summary>
        public static double Bilinear(ReadOnlySpan<float> src, int w, int h, int channels, int c, double px, double py)
        {
            px = Math.Clamp(px, 0, w - 1);
            py = Math.Clamp(py, 0, h - 1);
            int x0 = Math.Min((int)Math.Floor(px), w - 1), y0 = Math.Min((int)Math.Floor(py), h - 1);
            int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
            double ax = px - x0, ay = py - y0;
            double v00 = src[(y0 * w + x0) * channels + c], v10 = src[(y0 * w + x1) * channels + c];
            double v01 = src[(y1 * w + x0) * channels + c], v11 = src[(y1 * w + x1) * channels + c];
            double top = v00 * (1 - ax) + v10 * ax;
            double bot = v01 * (1 - ax) + v11 * ax;
            return top * (1 - ay) + bot * ay;
        }

        public static double Bilinear(ReadOnlySpan<double> src, int w, int h, int channels, int c, double px, double py)
        {
            px = Math.Clamp(px, 0, w - 1);
            py = Math.Clamp(py, 0, h - 1);
            int x0 = Math.Min((int)Math.Floor(px), w - 1), y0 = Math.Min((int)Math.Floor(py), h - 1);
            int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
            double ax = px - x0, ay = py - y0;
            double v00 = src[(y0 * w + x0) * channels + c], v10 = src[(y0 * w + x1) * channels + c];
            double v01 = src[(y1 * w + x0) * channels + c], v11 = src[(y1 * w + x1) * channels + c];
            double top = v00 * (1 - ax) + v10 * ax;
            double bot = v01 * (1 - ax) + v11 * ax;
            return top * (1 - ay) + bot * ay;
        }

        public static bool Inside(double px, double py, int w, int h) => px >= 0 && py >= 0 && px <= w - 1 && py <= h - 1;

        public static double Finite(double v) => double.IsNaN(v) || double.IsInfinity(v) ? 0 : v;
    }
}
