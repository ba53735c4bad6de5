using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>False-colour images for the inset: depth through a colour ramp, flow through a colour wheel.</summary>
    public static class ColorMaps
    {
        // Ramp stops (near -> far): yellow, orange, magenta, blue, near-black. Chosen by hand to read well on dark grey.
        private static readonly (double T, double R, double G, double B)[] s_ramp =
        {
            (0.00, 1.00, 0.95, 0.35), (0.25, 0.98, 0.60, 0.15), (0.50, 0.85, 0.20, 0.45), (0.75, 0.30, 0.15, 0.75), (1.00, 0.05, 0.05, 0.25),
        };

        /// <summary>Colour of t in [0, 1] on the depth ramp (0 = near).</summary>
        public static (byte R, byte G, byte B) Ramp(double t)
        {
            if (double.IsNaN(t)) return (0, 0, 0);
            t = Math.Max(0, Math.Min(1, t));
            for (int i = 1; i < s_ramp.Length; i++)
            {
                if (t <= s_ramp[i].T)
                {
                    var a = s_ramp[i - 1];
                    var b = s_ramp[i];
                    double s = (t - a.T) / (b.T - a.T);
                    return (To8(a.R + s * (b.R - a.R)), To8(a.G + s * (b.G - a.G)), To8(a.B + s * (b.B - a.B)));
                }
            }
            var l = s_ramp[s_ramp.Length - 1];
            return (To8(l.R), To8(l.G), To8(l.B));
        }

        /// <summary>
        /// Depth as RGBA: inverse depth mapped linearly between its 2nd and 98th percentiles over valid pixels (finite, &gt; 0);
        /// invalid pixels black. byte[H, W, 4].
        /// </summary>
        public static byte[] DepthToRgba(FloatImage depth)
        {
            var inv = new List<float>(depth.Data.Length);
            foreach (var d in depth.Data) if (d > 0 && !float.IsInfinity(d)) inv.Add(1f / d);
            var rgba = new byte[depth.Width * depth.Height * 4];
            double lo = 0, hi = 1;
            if (inv.Count > 0)
            {
                inv.Sort();
                lo = inv[(int)(0.02 * (inv.Count - 1))];
                hi = inv[(int)(0.98 * (inv.Count - 1))];
                if (!(hi > lo)) hi = lo + 1e-6;
            }
            for (int i = 0; i < depth.Data.Length; i++)
            {
                float d = depth.Data[i];
                var c = d > 0 && !float.IsInfinity(d) ? Ramp(1 - (1 / d - lo) / (hi - lo)) : ((byte)0, (byte)0, (byte)0);
                rgba[4 * i] = c.Item1; rgba[4 * i + 1] = c.Item2; rgba[4 * i + 2] = c.Item3; rgba[4 * i + 3] = 255;
            }
            return rgba;
        }

        /// <summary>
        /// Colour-wheel of a flow vector: hue = direction (angle of (u, v) in image axes, x right, y down), saturation =
        /// length / <paramref name="maxMagnitude"/> (clamped), full value; white = no motion. NaN = black.
        /// </summary>
        public static (byte R, byte G, byte B) Wheel(double u, double v, double maxMagnitude)
        {
            if (double.IsNaN(u) || double.IsNaN(v) || double.IsInfinity(u) || double.IsInfinity(v)) return (0, 0, 0);
            double mag = Math.Sqrt(u * u + v * v);
            double s = maxMagnitude > 0 ? Math.Min(1, mag / maxMagnitude) : 0;
            double hue = (Math.Atan2(v, u) / (2 * Math.PI) + 1) % 1 * 6; // [0, 6)
            int sector = (int)Math.Floor(hue) % 6;
            double f = hue - Math.Floor(hue);
            // HSV with V = 1: p = 1 - s, q = 1 - s f, t = 1 - s (1 - f).
            double p = 1 - s, q = 1 - s * f, t = 1 - s * (1 - f);
            var rgb = sector switch
            {
                0 => (1.0, t, p), 1 => (q, 1.0, p), 2 => (p, 1.0, t), 3 => (p, q, 1.0), 4 => (t, p, 1.0), _ => (1.0, p, q),
            };
            return (To8(rgb.Item1), To8(rgb.Item2), To8(rgb.Item3));
        }

        /// <summary>Flow as RGBA through <see cref="Wheel"/>, normalised by the 98th percentile of its magnitude. byte[H, W, 4].</summary>
        public static byte[] FlowToRgba(FlowField flow)
        {
            int n = flow.Width * flow.Height;
            var mags = new List<double>(n);
            for (int i = 0; i < n; i++)
            {
                double u = flow.Data[2 * i], v = flow.Data[2 * i + 1];
                double m = Math.Sqrt(u * u + v * v);
                if (!double.IsNaN(m) && !double.IsInfinity(m)) mags.Add(m);
            }
            double max = 1;
            if (mags.Count > 0) { mags.Sort(); max = Math.Max(1e-6, mags[(int)(0.98 * (mags.Count - 1))]); }
            var rgba = new byte[n * 4];
            for (int i = 0; i < n; i++)
            {
                var c = Wheel(flow.Data[2 * i], flow.Data[2 * i + 1], max);
                rgba[4 * i] = c.R; rgba[4 * i + 1] = c.G; rgba[4 * i + 2] = c.B; rgba[4 * i + 3] = 255;
            }
            return rgba;
        }

        public static byte[] RgbToRgba(RgbImage img)
        {
            int n = img.Width * img.Height;
            var rgba = new byte[n * 4];
            for (int i = 0; i < n; i++)
            {
                rgba[4 * i] = img.Pixels[3 * i]; rgba[4 * i + 1] = img.Pixels[3 * i + 1]; rgba[4 * i + 2] = img.Pixels[3 * i + 2]; rgba[4 * i + 3] = 255;
            }
            return rgba;
        }

        /// <summary>
        /// The inset strip: the given panels (frame, depth, flow; nulls skipped) scaled (nearest) to <paramref name="panelHeight"/>
        /// rows and placed side by side with a 2-pixel gap. Returns null when there is nothing to show.
        /// </summary>
        public static (byte[] Rgba, int Width, int Height)? ComposeInset(RgbImage? image, FloatImage? depth, FlowField? flow, int panelHeight)
        {
            var panels = new List<(byte[] Rgba, int W, int H)>();
            if (image != null) panels.Add((RgbToRgba(image), image.Width, image.Height));
            if (depth != null) panels.Add((DepthToRgba(depth), depth.Width, depth.Height));
            if (flow != null) panels.Add((FlowToRgba(flow), flow.Width, flow.Height));
            if (panels.Count == 0) return null;
            const int gap = 2;
            var widths = panels.Select(p => Math.Max(1, (int)Math.Round((double)p.W * panelHeight / p.H))).ToList();
            int total = widths.Sum() + gap * (panels.Count - 1);
            var outRgba = new byte[total * panelHeight * 4];
            int x0 = 0;
            for (int k = 0; k < panels.Count; k++)
            {
                var p = panels[k];
                int w = widths[k];
                for (int y = 0; y < panelHeight; y++)
                {
                    int sy = Math.Min(p.H - 1, (int)((y + 0.5) * p.H / panelHeight));
                    for (int x = 0; x < w; x++)
                    {
                        int sx = Math.Min(p.W - 1, (int)((x + 0.5) * p.W / w));
                        int s = (sy * p.W + sx) * 4, d = (y * total + x0 + x) * 4;
                        outRgba[d] = p.Rgba[s]; outRgba[d + 1] = p.Rgba[s + 1]; outRgba[d + 2] = p.Rgba[s + 2]; outRgba[d + 3] = 255;
                    }
                }
                x0 += w + gap;
            }
            return (outRgba, total, panelHeight);
        }

        private static byte To8(double v) => (byte)Math.Max(0, Math.Min(255, Math.Round(v * 255)));
    }
}
