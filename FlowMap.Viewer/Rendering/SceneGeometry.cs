using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Viewer.Scenes;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// A robust size of the scene: centre = per-axis median, radius = 90th percentile distance from it, over a sample of the
    /// points and the camera centres; ground = the 95th percentile of y (world y points down, so that is near the floor);
    /// and a robust box, the 2nd to 98th percentile per axis (what the default view frames: a few stray points far out do
    /// not shrink the scene to a speck).
    /// </summary>
    public readonly struct SceneBounds
    {
        public SceneBounds((double X, double Y, double Z) center, double radius, double groundY)
            : this(center, radius, groundY, (center.X - radius, center.Y - radius, center.Z - radius), (center.X + radius, center.Y + radius, center.Z + radius))
        {
        }

        public SceneBounds((double X, double Y, double Z) center, double radius, double groundY, (double X, double Y, double Z) lo, (double X, double Y, double Z) hi)
        {
            Center = center; Radius = radius; GroundY = groundY; Lo = lo; Hi = hi;
        }

        public (double X, double Y, double Z) Center { get; }
        public double Radius { get; }
        public double GroundY { get; }
        /// <summary>Corners of the robust box (2nd and 98th percentile per axis), world units.</summary>
        public (double X, double Y, double Z) Lo { get; }
        public (double X, double Y, double Z) Hi { get; }
        /// <summary>Half the diagonal of the robust box (at least 1e-3): the scene's extent for sizing what is drawn in it.</summary>
        public double BoxRadius => Math.Max(1e-3, 0.5 * Math.Sqrt((Hi.X - Lo.X) * (Hi.X - Lo.X) + (Hi.Y - Lo.Y) * (Hi.Y - Lo.Y) + (Hi.Z - Lo.Z) * (Hi.Z - Lo.Z)));

        public static SceneBounds Of(IReadOnlyList<(double X, double Y, double Z)> sample)
        {
            var finite = sample.Where(p => IsFinite(p.X) && IsFinite(p.Y) && IsFinite(p.Z)).ToList();
            if (finite.Count == 0) return new SceneBounds((0, 0, 1), 1, 1);
            double Median(IEnumerable<double> v) { var s = v.OrderBy(x => x).ToList(); return s[s.Count / 2]; }
            var c = (Median(finite.Select(p => p.X)), Median(finite.Select(p => p.Y)), Median(finite.Select(p => p.Z)));
            var d = finite.Select(p => Math.Sqrt((p.X - c.Item1) * (p.X - c.Item1) + (p.Y - c.Item2) * (p.Y - c.Item2) + (p.Z - c.Item3) * (p.Z - c.Item3)))
                .OrderBy(x => x).ToList();
            double r = Math.Max(1e-3, d[(int)(0.9 * (d.Count - 1))]);
            var xs = finite.Select(p => p.X).OrderBy(x => x).ToList();
            var ys = finite.Select(p => p.Y).OrderBy(x => x).ToList();
            var zs = finite.Select(p => p.Z).OrderBy(x => x).ToList();
            int lo = (int)(0.02 * (finite.Count - 1)), hi = (int)Math.Ceiling(0.98 * (finite.Count - 1));
            return new SceneBounds(c, r, ys[(int)(0.95 * (ys.Count - 1))], (xs[lo], ys[lo], zs[lo]), (xs[hi], ys[hi], zs[hi]));
        }

        private static bool IsFinite(double v) => !double.IsNaN(v) && !double.IsInfinity(v);
    }

    /// <summary>Builds the line layers (grid, axes, trajectory, frustums) and the overlay quads (inset, text) on the CPU.</summary>
    internal static class SceneGeometry
    {
        public static readonly uint GridColor = ColorVertex.Pack(70, 74, 82);
        public static readonly uint TrajectoryColor = ColorVertex.Pack(255, 150, 40);
        public static readonly uint KeyframeColor = ColorVertex.Pack(80, 160, 255);
        public static readonly uint CurrentColor = ColorVertex.Pack(255, 255, 60);

        /// <summary>Grid spacing: a power of ten near a fifth of the radius.</summary>
        public static double GridStep(SceneBounds b) => Math.Pow(10, Math.Floor(Math.Log10(b.Radius / 2)));

        public static void Lines(List<ColorVertex> o, ViewerSnapshot s, SceneBounds b, RenderSettings settings)
        {
            double step = GridStep(b);
            if (settings.ShowGrid)
            {
                const int n = 12;
                double cx = Math.Round(b.Center.X / step) * step, cz = Math.Round(b.Center.Z / step) * step, y = b.GroundY;
                for (int i = -n; i <= n; i++)
                {
                    Line(o, (cx + i * step, y, cz - n * step), (cx + i * step, y, cz + n * step), GridColor);
                    Line(o, (cx - n * step, y, cz + i * step), (cx + n * step, y, cz + i * step), GridColor);
                }
            }
            if (settings.ShowAxes)
            {
                Line(o, (0, 0, 0), (step, 0, 0), ColorVertex.Pack(230, 50, 50));
                Line(o, (0, 0, 0), (0, step, 0), ColorVertex.Pack(50, 210, 50));
                Line(o, (0, 0, 0), (0, 0, step), ColorVertex.Pack(60, 90, 255));
            }
            var traj = s.Trajectory;
            if (settings.ShowTrajectory)
                for (int i = 1; i < traj.Count; i++)
                    Line(o, traj[i - 1].Center, traj[i].Center, TrajectoryColor);
            if (settings.ShowFrustums && traj.Count > 0)
            {
                IEnumerable<int> marked = s.Keyframes.Count > 0 ? s.Keyframes : EveryKth(traj.Count, 24);
                var list = marked.Where(i => i >= 0 && i < traj.Count).ToList();
                if (list.Count > 400) list = list.Where((_, k) => k % (list.Count / 400 + 1) == 0).ToList();
                double size = FrustumSize(b, traj, list);
                foreach (int i in list)
                    if (i != s.CurrentFrame) Frustum(o, traj[i], s.Intrinsics, size, KeyframeColor);
                if (s.CurrentFrame >= 0 && s.CurrentFrame < traj.Count)
                    Frustum(o, traj[s.CurrentFrame], s.Intrinsics, size * 1.5, CurrentColor);
            }
        }

        /// <summary>
        /// Frustum depth sized to the scene: 0.8 times the median distance between consecutive marked cameras (neighbours do
        /// not hide each other and the trajectory), kept between a fiftieth and a twentieth of the robust box's half-diagonal
        /// (<see cref="SceneBounds.BoxRadius"/>; the current camera is drawn half again as large).
        /// </summary>
        internal static double FrustumSize(SceneBounds b, IReadOnlyList<CameraPose> traj, IReadOnlyList<int> marked)
        {
            double hi = 0.05 * b.BoxRadius, lo = 0.02 * b.BoxRadius;
            if (marked.Count < 2) return hi;
            var gaps = new List<double>(marked.Count - 1);
            for (int i = 1; i < marked.Count; i++)
            {
                var (ax, ay, az) = traj[marked[i - 1]].Center; var (bx, by, bz) = traj[marked[i]].Center;
                double d = Math.Sqrt((ax - bx) * (ax - bx) + (ay - by) * (ay - by) + (az - bz) * (az - bz));
                if (double.IsFinite(d)) gaps.Add(d);
            }
            if (gaps.Count == 0) return hi;
            gaps.Sort();
            return Math.Clamp(0.8 * gaps[gaps.Count / 2], lo, hi);
        }

        private static IEnumerable<int> EveryKth(int count, int maxMarks)
        {
            int k = Math.Max(1, (count + maxMarks - 1) / maxMarks);
            for (int i = 0; i < count; i += k) yield return i;
        }

        /// <summary>Camera centre to the four image corners at z = <paramref name="depth"/>, and the image rectangle; a tick marks "up".</summary>
        public static void Frustum(List<ColorVertex> o, CameraPose pose, Intrinsics? k, double depth, uint color)
        {
            k ??= Intrinsics.Centered(640, 480, 525);
            var corners = new (double, double)[] { (-0.5, -0.5), (k.Width - 0.5, -0.5), (k.Width - 0.5, k.Height - 0.5), (-0.5, k.Height - 0.5) };
            var w = corners.Select(c =>
            {
                var p = k.Unproject(c.Item1, c.Item2, depth);
                return pose.Transform(p.X, p.Y, p.Z);
            }).ToArray();
            var c0 = pose.Center;
            for (int i = 0; i < 4; i++)
            {
                Line(o, c0, w[i], color);
                Line(o, w[i], w[(i + 1) % 4], color);
            }
            // A small triangle above the top edge shows which way is up in the image.
            var top = k.Unproject((k.Width - 1) / 2.0, -0.5 - 0.25 * k.Height, depth);
            var tw = pose.Transform(top.X, top.Y, top.Z);
            Line(o, w[0], tw, color);
            Line(o, tw, w[1], color);
        }

        public static void Line(List<ColorVertex> o, (double X, double Y, double Z) a, (double X, double Y, double Z) b, uint color)
        {
            o.Add(new ColorVertex((float)a.X, (float)a.Y, (float)a.Z, color));
            o.Add(new ColorVertex((float)b.X, (float)b.Y, (float)b.Z, color));
        }

        /// <summary>Axis-aligned screen quad as two triangles.</summary>
        public static void Quad(List<OverlayVertex> o, float x0, float y0, float x1, float y1, float u0, float v0, float u1, float v1, uint color)
        {
            o.Add(new OverlayVertex(x0, y0, u0, v0, color));
            o.Add(new OverlayVertex(x1, y0, u1, v0, color));
            o.Add(new OverlayVertex(x1, y1, u1, v1, color));
            o.Add(new OverlayVertex(x0, y0, u0, v0, color));
            o.Add(new OverlayVertex(x1, y1, u1, v1, color));
            o.Add(new OverlayVertex(x0, y1, u0, v1, color));
        }

        /// <summary>Text lines from (x, y) down, each on a translucent panel; glyphs <paramref name="scale"/> pixels per font pixel.</summary>
        public static void Text(List<OverlayVertex> o, IReadOnlyList<string> lines, float x, float y, int scale)
        {
            float lineH = (BitmapFont.GlyphHeight + 3) * scale, adv = (BitmapFont.GlyphWidth + 1) * scale;
            var solid = BitmapFont.CellUv(0, solid: true);
            // Sample the middle of the solid cell so filtering never reaches a neighbour.
            float su = (solid.U0 + solid.U1) / 2, sv = (solid.V0 + solid.V1) / 2;
            for (int l = 0; l < lines.Count; l++)
            {
                float ly = y + l * lineH;
                if (lines[l].Length > 0)
                    Quad(o, x - 2 * scale, ly - scale, x + lines[l].Length * adv + scale, ly + lineH - scale, su, sv, su, sv, ColorVertex.Pack(0, 0, 0, 150));
                float cx = x;
                foreach (char ch in lines[l])
                {
                    int cell = BitmapFont.CellOf(ch);
                    if (cell >= 0)
                    {
                        var uv = BitmapFont.CellUv(cell);
                        Quad(o, cx, ly, cx + BitmapFont.GlyphWidth * scale, ly + BitmapFont.GlyphHeight * scale, uv.U0, uv.V0, uv.U1, uv.V1,
                            ColorVertex.Pack(235, 235, 235));
                    }
                    cx += adv;
                }
            }
        }
    }
}
