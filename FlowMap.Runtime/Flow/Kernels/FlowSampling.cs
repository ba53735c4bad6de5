using System;

namespace FlowMap.Flow.Kernels
{
    /// <summary>Double-precision sampling helpers shared by the flow kernels' CPU references (same rules as the shaders).</summary>
    internal static class FlowSampling
    {
        /// <summary>Bilinear sample of channel <paramref name="c"/> of a [h, w, channels] image, clamp-to-edge.</summary>
        public static double Bilinear(ReadOnlySpan<float> src, int w, int h, int channels, int c, double px, double py)
        {
            Corners(w, h, px, py, out int i00, out int i10, out int i01, out int i11, out double ax, out double ay);
            return Mix(src[i00 * channels + c], src[i10 * channels + c], src[i01 * channels + c], src[i11 * channels + c], ax, ay);
        }

        /// <summary>The same for a double-precision image.</summary>
        public static double Bilinear(ReadOnlySpan<double> src, int w, int h, int channels, int c, double px, double py)
        {
            Corners(w, h, px, py, out int i00, out int i10, out int i01, out int i11, out double ax, out double ay);
            return Mix(src[i00 * channels + c], src[i10 * channels + c], src[i01 * channels + c], src[i11 * channels + c], ax, ay);
        }

        /// <summary>Pixel indices of the four neighbours of (px, py) after clamping to the image, and the weights.</summary>
        private static void Corners(int w, int h, double px, double py, out int i00, out int i10, out int i01, out int i11, out double ax, out double ay)
        {
            px = Math.Clamp(px, 0, w - 1);
            py = Math.Clamp(py, 0, h - 1);
            int x0 = Math.Min((int)Math.Floor(px), w - 1), y0 = Math.Min((int)Math.Floor(py), h - 1);
            int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
            ax = px - x0; ay = py - y0;
            i00 = y0 * w + x0; i10 = y0 * w + x1; i01 = y1 * w + x0; i11 = y1 * w + x1;
        }

        private static double Mix(double v00, double v10, double v01, double v11, double ax, double ay) =>
            (v00 * (1 - ax) + v10 * ax) * (1 - ay) + (v01 * (1 - ax) + v11 * ax) * ay;

        public static bool Inside(double px, double py, int w, int h) => px >= 0 && py >= 0 && px <= w - 1 && py <= h - 1;

        public static double Finite(double v) => double.IsNaN(v) || double.IsInfinity(v) ? 0 : v;
    }
}
