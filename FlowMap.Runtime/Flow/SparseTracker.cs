using System;
using System.Collections.Generic;
using FlowMap.Flow.Kernels;
using FlowMap.Gpu;
using FlowMap.Gpu.Kernels;

namespace FlowMap.Flow
{
    /// <summary>Settings of <see cref="SparseTracker"/>.</summary>
    internal sealed class SparseTrackerOptions
    {
        /// <summary>Window half side (pixels of each level); the window is 2 r + 1 square.</summary>
        public int Radius { get; set; } = 3;
        /// <summary>Gauss-Newton steps per level at most.</summary>
        public int Iterations { get; set; } = 10;
        /// <summary>About this many points per keyframe: one per cell of a grid over the image.</summary>
        public int TargetPoints { get; set; } = 200;
        /// <summary>The coarsest level is the last whose smaller side is at least this many pixels.</summary>
        public int MinCoarsestSize { get; set; } = 24;
        public int MaxLevels { get; set; } = 5;
        /// <summary>Confidence exp(-(fb / tau)^2) exp(-(rms / sigma)^2): the forward-backward tolerance tau (px) and the photometric sigma.</summary>
        public double FbTolerance { get; set; } = 0.5;
        public double PhotoSigma { get; set; } = 0.05;

        internal void Validate()
        {
            if (Radius < 1 || Radius > LucasKanade.MaxRadius) throw new ArgumentException($"Radius must be 1 to {LucasKanade.MaxRadius}.");
            if (Iterations < 1 || TargetPoints < 1 || MinCoarsestSize < 2 * Radius + 1 || MaxLevels < 1) throw new ArgumentException("Invalid sparse tracker settings.");
            if (!(FbTolerance > 0) || !(PhotoSigma > 0)) throw new ArgumentException("Tolerances must be positive.");
        }
    }

    /// <summary>
    /// The keyframe's points and where a frame put them: per grid cell the keyframe pixel (<see cref="Kx"/>, <see cref="Ky"/>),
    /// its position in the frame (<see cref="U"/>, <see cref="V"/>) and a confidence in [0, 1] (0: no point, or lost).
    /// </summary>
    internal sealed class SparseTracks
    {
        public SparseTracks(float[] kx, float[] ky, float[] u, float[] v, float[] confidence)
        {
            Kx = kx; Ky = ky; U = u; V = v; Confidence = confidence;
        }

        public float[] Kx { get; }
        public float[] Ky { get; }
        public float[] U { get; }
        public float[] V { get; }
        public float[] Confidence { get; }
        public int Cells => Kx.Length;

        /// <summary>Cells whose confidence exceeds <paramref name="min"/>.</summary>
        public int Tracked(double min = 0.05)
        {
            int n = 0;
            foreach (var c in Confidence) if (c > min) n++;
            return n;
        }

        /// <summary>Median displacement length over the tracked cells (0 when none).</summary>
        public double MedianDisplacement(double min = 0.05)
        {
            var d = new List<double>();
            for (int i = 0; i < Cells; i++)
                if (Confidence[i] > min) d.Add(Math.Sqrt((U[i] - Kx[i]) * (U[i] - Kx[i]) + (V[i] - Ky[i]) * (V[i] - Ky[i])));
            if (d.Count == 0) return 0;
            d.Sort();
            return d.Count % 2 == 1 ? d[d.Count / 2] : 0.5 * (d[d.Count / 2 - 1] + d[d.Count / 2]);
        }
    }

    /// <summary>
    /// Sparse tracking of a keyframe's well-textured points into frames (the live tracker's motion estimate): Shi-Tomasi
    /// points, the strongest of each grid cell, chosen once per keyframe on the CPU; per frame one submission builds the
    /// frame's luminance pyramid and tracks every point with pyramidal Lucas-Kanade forwards and back
    /// (<see cref="LucasKanade"/>), from where the previous frame put it. About ten dispatches per frame where the dense
    /// flow records a hundred. Not thread-safe: one caller at a time.
    /// </summary>
    internal sealed class SparseTracker : IDisposable
    {
        private readonly GpuContext _ctx;
        private readonly SparseTrackerOptions _o;
        private Workspace? _ws;
        private float[]? _points;         // vec4 per cell: (x, y, guess dx, guess dy)
        private int _gridWidth, _gridHeight;
        private RgbImage? _key;
        private bool _keyDirty;
        private SparseTracks? _last;

        public SparseTracker(GpuContext ctx, SparseTrackerOptions? options = null)
        {
            _ctx = ctx ?? throw new ArgumentNullException(nameof(ctx));
            _o = options ?? new SparseTrackerOptions();
            _o.Validate();
        }

        /// <summary>The keyframe being tracked from, or null.</summary>
        public RgbImage? Keyframe => _key;

        /// <summary>Points chosen on the keyframe (cells with a point).</summary>
        public int PointCount { get; private set; }

        /// <summary>Starts tracking from <paramref name="key"/>: its points are chosen now, its pyramid is built with the next frame's submission.</summary>
        public void SetKeyframe(RgbImage key)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            if (key.Width < 2 * _o.Radius + 4 || key.Height < 2 * _o.Radius + 4)
                throw new ArgumentException($"Images of {key.Width}x{key.Height} are too small for sparse tracking.");
            if (_ws == null || _ws.Width != key.Width || _ws.Height != key.Height)
            {
                _ws?.Dispose();
                _ws = null;
                _ws = new Workspace(_ctx, _o, key.Width, key.Height);
            }
            int cell = CellSize(key.Width, key.Height, _o.TargetPoints);
            _points = SelectPoints(LuminanceOf(key), key.Width, key.Height, _o.Radius, cell, out _gridWidth, out _gridHeight);
            PointCount = 0;
            for (int c = 0; c < _gridWidth * _gridHeight; c++) if (_points[4 * c] >= 0) PointCount++;
            _key = key;
            _keyDirty = true;
            _last = null;
        }

        /// <summary>
        /// Tracks the keyframe's points into <paramref name="frame"/> (same size as the keyframe), each starting from where
        /// the previous frame put it (a lost one from the previous frame's median motion).
        /// </summary>
        public SparseTracks Track(RgbImage frame)
        {
            if (_key == null || _ws == null || _points == null) throw new InvalidOperationException("SetKeyframe first.");
            if (frame == null) throw new ArgumentNullException(nameof(frame));
            if (frame.Width != _key.Width || frame.Height != _key.Height)
                throw new ArgumentException($"The frame ({frame.Width}x{frame.Height}) differs in size from the keyframe ({_key.Width}x{_key.Height}).");
            var ws = _ws;
            int cells = _gridWidth * _gridHeight;
            // Guesses: the previous frame's displacement per point, else its median displacement.
            var pts = (float[])_points.Clone();
            if (_last != null)
            {
                var (mx, my) = MedianMotion(_last);
                for (int c = 0; c < cells; c++)
                {
                    if (pts[4 * c] < 0) continue;
                    bool ok = _last.Confidence[c] > 0.05f;
                    pts[4 * c + 2] = ok ? _last.U[c] - _last.Kx[c] : mx;
                    pts[4 * c + 3] = ok ? _last.V[c] - _last.Ky[c] : my;
                }
            }
            ws.Points.Write<float>(pts);
            ws.FrameRgb.Write<byte>(frame.Pixels);
            if (_keyDirty) ws.KeyRgb.Write<byte>(_key.Pixels);
            using (var batch = _ctx.BeginBatch("sparse-track"))
            {
                if (_keyDirty) RecordPyramid(batch, ws, ws.KeyRgb, ws.KeyPyramid);
                RecordPyramid(batch, ws, ws.FrameRgb, ws.FramePyramid);
                LucasKanade.Record(batch, _ctx, ws.KeyPyramid, ws.FramePyramid, ws.Points, ws.Output, new LucasKanade.Push
                {
                    Width = ws.Width, Height = ws.Height, Levels = ws.Levels, GridWidth = _gridWidth, GridHeight = _gridHeight,
                    Radius = _o.Radius, Iterations = _o.Iterations,
                });
                batch.Submit();
                batch.Wait();
            }
            _keyDirty = false;
            var o = ws.Output.ReadAll<float>(4 * cells);
            _last = Tracks(pts, o, cells, ws.Width, ws.Height, _o.FbTolerance, _o.PhotoSigma);
            return _last;
        }

        /// <summary>
        /// The kernel's output as tracks: confidence exp(-(fb / tau)^2) exp(-(rms / sigma)^2), 0 for cells without a point,
        /// lost points, non-finite values or positions outside the image.
        /// </summary>
        internal static SparseTracks Tracks(float[] pts, float[] o, int cells, int width, int height, double tau, double sigma)
        {
            var kx = new float[cells]; var ky = new float[cells]; var u = new float[cells]; var v = new float[cells]; var conf = new float[cells];
            for (int c = 0; c < cells; c++)
            {
                kx[c] = pts[4 * c]; ky[c] = pts[4 * c + 1];
                float x = o[4 * c], y = o[4 * c + 1], fb = o[4 * c + 2], rms = o[4 * c + 3];
                bool ok = kx[c] >= 0 && fb >= 0 && float.IsFinite(x) && float.IsFinite(y) && float.IsFinite(fb) && float.IsFinite(rms)
                    && x >= 0 && y >= 0 && x <= width - 1 && y <= height - 1;
                u[c] = ok ? x : kx[c]; v[c] = ok ? y : ky[c];
                conf[c] = ok ? (float)(Math.Exp(-(fb / tau) * (fb / tau)) * Math.Exp(-(rms / sigma) * (rms / sigma))) : 0f;
            }
            return new SparseTracks(kx, ky, u, v, conf);
        }

        private static (float X, float Y) MedianMotion(SparseTracks t)
        {
            var xs = new List<float>(); var ys = new List<float>();
            for (int c = 0; c < t.Cells; c++)
                if (t.Confidence[c] > 0.05f) { xs.Add(t.U[c] - t.Kx[c]); ys.Add(t.V[c] - t.Ky[c]); }
            if (xs.Count == 0) return (0, 0);
            xs.Sort(); ys.Sort();
            return (xs[xs.Count / 2], ys[ys.Count / 2]);
        }

        private void RecordPyramid(CommandBatch batch, Workspace ws, GpuBuffer rgb, GpuBuffer pyramid)
        {
            Luminance.Record(batch, _ctx, rgb, ws.Level[0], 3, 3 * ws.Width);
            for (int l = 1; l < ws.Levels; l++) Downsample.Record(batch, _ctx, ws.Level[l - 1], ws.Level[l]);
            for (int l = 0; l < ws.Levels; l++)
            {
                var (off, w, h) = LucasKanade.Level(ws.Width, ws.Height, l);
                batch.Copy(ws.Level[l].Buffer, 0, pyramid, (long)off * sizeof(float), (long)w * h * sizeof(float));
            }
        }

        /// <summary>Grid cell side for about <paramref name="target"/> cells over a width x height image (at least 8 px).</summary>
        public static int CellSize(int width, int height, int target) => Math.Max(8, (int)Math.Round(Math.Sqrt((double)width * height / target)));

        /// <summary>Pyramid levels for a width x height image: halved while the smaller side stays at least <paramref name="minCoarsest"/>.</summary>
        public static int Levels(int width, int height, int minCoarsest, int maxLevels)
        {
            int levels = 1;
            while (levels < maxLevels)
            {
                var (w, h) = Downsample.SizeOf(width, height);
                if (Math.Min(w, h) < minCoarsest) break;
                width = w; height = h; levels++;
            }
            return levels;
        }

        /// <summary>Luminance (Rec. 601, [0, 1]) of an RGB image, as <see cref="Luminance.Reference"/> in float.</summary>
        public static float[] LuminanceOf(RgbImage img)
        {
            var p = img.Pixels;
            var y = new float[img.Width * img.Height];
            for (int i = 0; i < y.Length; i++) y[i] = (float)((0.299 * p[3 * i] + 0.587 * p[3 * i + 1] + 0.114 * p[3 * i + 2]) / 255.0);
            return y;
        }

        /// <summary>
        /// Shi-Tomasi points: per <paramref name="cell"/>-pixel grid cell the pixel whose window (2 r + 1 square; gradients by
        /// central differences, taken about their window mean as the tracker does) has the largest smaller eigenvalue of
        /// the structure tensor, if that is at least 1 % of the image's largest and 1e-5 per window pixel (texture the tracker
        /// can lock on). Pixels closer than r + 1 to the border are not chosen. Returns vec4 per cell (x, y, 0, 0), x = -1 for
        /// a cell without a point.
        /// </summary>
        public static float[] SelectPoints(float[] lum, int width, int height, int radius, int cell, out int gridWidth, out int gridHeight)
        {
            gridWidth = (width + cell - 1) / cell; gridHeight = (height + cell - 1) / cell;
            int side = 2 * radius + 1;
            double n = side * side;
            // Integral images of gx, gy, gx^2, gx gy, gy^2 (gradients zero on the border row and column).
            int W1 = width + 1;
            var I = new double[5][];
            for (int k = 0; k < 5; k++) I[k] = new double[W1 * (height + 1)];
            for (int y = 0; y < height; y++)
            {
                var row = new double[5];
                for (int x = 0; x < width; x++)
                {
                    double gx = x > 0 && x < width - 1 ? 0.5 * (lum[y * width + x + 1] - lum[y * width + x - 1]) : 0;
                    double gy = y > 0 && y < height - 1 ? 0.5 * (lum[(y + 1) * width + x] - lum[(y - 1) * width + x]) : 0;
                    row[0] += gx; row[1] += gy; row[2] += gx * gx; row[3] += gx * gy; row[4] += gy * gy;
                    for (int k = 0; k < 5; k++) I[k][(y + 1) * W1 + x + 1] = I[k][y * W1 + x + 1] + row[k];
                }
            }
            double Box(int k, int x, int y) // window centred at (x, y)
            {
                int x0 = x - radius, y0 = y - radius, x1 = x + radius + 1, y1 = y + radius + 1;
                var a = I[k];
                return a[y1 * W1 + x1] - a[y0 * W1 + x1] - a[y1 * W1 + x0] + a[y0 * W1 + x0];
            }
            int cells = gridWidth * gridHeight;
            var best = new double[cells]; var bx = new int[cells]; var by = new int[cells];
            for (int c = 0; c < cells; c++) { best[c] = -1; bx[c] = -1; }
            double globalMax = 0;
            int m = radius + 1;
            for (int y = m; y < height - m; y++)
                for (int x = m; x < width - m; x++)
                {
                    double sx = Box(0, x, y), sy = Box(1, x, y);
                    double hxx = Box(2, x, y) - sx * sx / n, hxy = Box(3, x, y) - sx * sy / n, hyy = Box(4, x, y) - sy * sy / n;
                    double tr = hxx + hyy, det = hxx * hyy - hxy * hxy;
                    double lmin = 0.5 * (tr - Math.Sqrt(Math.Max(tr * tr - 4 * det, 0)));
                    int c = (y / cell) * gridWidth + x / cell;
                    if (lmin > best[c]) { best[c] = lmin; bx[c] = x; by[c] = y; }
                    if (lmin > globalMax) globalMax = lmin;
                }
            double threshold = Math.Max(0.01 * globalMax, 1e-5 * n);
            var pts = new float[4 * cells];
            for (int c = 0; c < cells; c++)
            {
                bool ok = bx[c] >= 0 && best[c] >= threshold;
                pts[4 * c] = ok ? bx[c] : -1; pts[4 * c + 1] = ok ? by[c] : -1;
            }
            return pts;
        }

        public void Dispose()
        {
            _ws?.Dispose();
            _ws = null;
        }

        /// <summary>The GPU buffers for one image size.</summary>
        private sealed class Workspace : IDisposable
        {
            private readonly List<IDisposable> _owned = new List<IDisposable>();
            public readonly int Width, Height, Levels;
            public readonly GpuBuffer KeyRgb, FrameRgb, KeyPyramid, FramePyramid, Points, Output;
            public readonly GpuImage[] Level;

            public Workspace(GpuContext ctx, SparseTrackerOptions o, int width, int height)
            {
                Width = width; Height = height;
                Levels = SparseTracker.Levels(width, height, o.MinCoarsestSize, o.MaxLevels);
                int cell = CellSize(width, height, o.TargetPoints);
                int cells = ((width + cell - 1) / cell) * ((height + cell - 1) / cell);
                try
                {
                    KeyRgb = Own(new GpuBuffer(ctx, (long)width * height * 3, "track.keyRgb"));
                    FrameRgb = Own(new GpuBuffer(ctx, (long)width * height * 3, "track.frameRgb"));
                    int floats = LucasKanade.PyramidFloats(width, height, Levels);
                    KeyPyramid = Own(new GpuBuffer(ctx, (long)floats * sizeof(float), "track.keyPyramid"));
                    FramePyramid = Own(new GpuBuffer(ctx, (long)floats * sizeof(float), "track.framePyramid"));
                    Points = Own(new GpuBuffer(ctx, (long)cells * 4 * sizeof(float), "track.points"));
                    Output = Own(new GpuBuffer(ctx, (long)cells * 4 * sizeof(float), "track.output"));
                    Level = new GpuImage[Levels];
                    for (int l = 0; l < Levels; l++)
                    {
                        var (_, w, h) = LucasKanade.Level(width, height, l);
                        Level[l] = Own(new GpuImage(ctx, w, h, 1, $"track.level{l}"));
                    }
                }
                catch
                {
                    Dispose();
                    throw;
                }
            }

            private T Own<T>(T d) where T : IDisposable { _owned.Add(d); return d; }

            public void Dispose()
            {
                foreach (var d in _owned) d.Dispose();
                _owned.Clear();
            }
        }
    }
}
