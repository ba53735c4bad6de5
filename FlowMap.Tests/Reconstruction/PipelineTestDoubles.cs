using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FlowMap.Flow;
using FlowMap.Solve;

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>
    /// A scene with exact geometry for pipeline tests (test project only): a textured plane at depth Z facing the
    /// camera, the camera translating along x (and optionally rotating about y only when Rotate is set... not used),
    /// frames identified by their index written into the first pixel. Flow and solver doubles return the truth.
    /// </summary>
    internal sealed class PlaneScene
    {
        public PlaneScene(int w, int h, double focal, double z, double stepX, int frames)
        {
            W = w; H = h; F = focal; Z = z; StepX = stepX; Frames = frames;
        }

        public int W { get; }
        public int H { get; }
        public double F { get; }
        public double Z { get; }
        public double StepX { get; set; }
        public int Frames { get; }

        public CameraPose Pose(int i) => new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { StepX * i, 0, 0 });

        public Frame Frame(int i)
        {
            var img = new RgbImage(W, H);
            double shift = F * StepX * i / Z; // the texture moves left by this many pixels
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    double u = x + shift;
                    int o = 3 * (y * W + x);
                    img.Pixels[o] = (byte)(128 + 100 * Math.Sin(u * 0.7) * Math.Cos(y * 0.5));
                    img.Pixels[o + 1] = (byte)(128 + 100 * Math.Cos(u * 0.3 + y * 0.2));
                    img.Pixels[o + 2] = 90;
                }
            img.Pixels[0] = (byte)i; img.Pixels[1] = 7; img.Pixels[2] = 7; // the frame tag
            return new Frame(i, i / 30.0, img, $"{i:D6}.png");
        }

        public static int Tag(RgbImage img) => img.Pixels[0];

        /// <summary>
        /// An online reconstruction's unit in the truth's: its first window puts the first two keyframes one unit apart
        /// (the gauge, <c>KeyframeSolver</c> stage 7), so its unit is their true distance. <paramref name="keyframes"/>: the
        /// keyframes' frame indices in order.
        /// </summary>
        public double Unit(IEnumerable<int> keyframes)
        {
            using var k = keyframes.GetEnumerator();
            if (!k.MoveNext()) throw new InvalidOperationException("no keyframe");
            var a = Pose(k.Current).Center;
            if (!k.MoveNext()) throw new InvalidOperationException("one keyframe: no unit");
            var b = Pose(k.Current).Center;
            return Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));
        }

        /// <summary>
        /// A reconstruction's unit in the truth's from its own first two keyframes (the true distance over theirs): the
        /// gauge's unit where the first window's solution stands; where a provisional first window was solved again, the
        /// new solution is chained to the provisional depth's scale (the mapper's depth ratio), still one scale for all.
        /// </summary>
        public double Unit(IEnumerable<(int Frame, CameraPose Pose)> keyframes)
        {
            var k = keyframes.Take(2).ToArray();
            if (k.Length < 2) throw new InvalidOperationException("fewer than two keyframes: no unit");
            var a = k[0].Pose.Center;
            var b = k[1].Pose.Center;
            return Unit(k.Select(x => x.Frame)) / Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));
        }

        /// <summary>A reconstruction's pose in the truth's units (its translation times <paramref name="unit"/>, see <see cref="Unit"/>).</summary>
        public static CameraPose InTruthUnits(CameraPose p, double unit) => FlowMap.Reconstruction.KeyframeSolver.Scaled(p, unit);

        /// <summary>
        /// A mapper window of <paramref name="count"/> keyframes from keyframe <paramref name="first"/>, keyframe k being frame
        /// 2k, each with the flow from the previous one.
        /// </summary>
        public List<FlowMap.Reconstruction.KeyframeSolver.Input> KeyframeWindow(TruthFlow flow, int first, int count)
        {
            var win = new List<FlowMap.Reconstruction.KeyframeSolver.Input>();
            for (int k = first; k < first + count; k++)
            {
                var img = Frame(2 * k).Image;
                win.Add(new FlowMap.Reconstruction.KeyframeSolver.Input
                {
                    FrameIndex = 2 * k, Image = img,
                    FromPrevious = k == first ? null : flow.Estimate(Frame(2 * (k - 1)).Image, img),
                });
            }
            return win;
        }

        /// <summary>Flow from frame a to frame b: all pixels move by -f (tx_b - tx_a) / Z in x.</summary>
        public FlowField Flow(int a, int b)
        {
            var f = new FlowField(W, H);
            float u = (float)(-F * StepX * (b - a) / Z);
            for (int i = 0; i < W * H; i++) f.Data[2 * i] = u;
            return f;
        }

        public FloatImage InsideConfidence(FlowField f)
        {
            var c = new FloatImage(W, H);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    double px = x + f.U(x, y);
                    c[x, y] = px >= 0 && px <= W - 1 ? 1f : 0f;
                }
            return c;
        }
    }

    /// <summary>Truth flow of a <see cref="PlaneScene"/> behind <see cref="IFlowEstimator"/>.</summary>
    internal sealed class TruthFlow : IFlowEstimator
    {
        private readonly PlaneScene _s;
        public TruthFlow(PlaneScene s) { _s = s; }
        public int Calls { get; private set; }
        public string Name => "truth";
        public FlowResult Estimate(RgbImage a, RgbImage b, CancellationToken token = default)
        {
            Calls++;
            int ia = PlaneScene.Tag(a), ib = PlaneScene.Tag(b);
            var f = _s.Flow(ia, ib); var g = _s.Flow(ib, ia);
            return new FlowResult(f, g, _s.InsideConfidence(f), _s.InsideConfidence(g));
        }
        public void Dispose() { }
    }

    /// <summary>
    /// Returns the true poses and depth of a window, each solve in its own arbitrary scale (1, 1.5, 2, ...), so the
    /// pipeline must chain windows at a consistent scale by itself. Records what it was asked.
    /// </summary>
    internal sealed class TruthSolver : IWindowSolver
    {
        private readonly PlaneScene _s;
        public TruthSolver(PlaneScene s, bool varyScale = true) { _s = s; _vary = varyScale; }
        private readonly bool _vary;
        public List<(int[] Frames, int Steps, SolverWarmStart? Warm)> Calls { get; } = new List<(int[], int, SolverWarmStart?)>();
        public List<int> PriorsSeen { get; } = new List<int>();

        public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default)
        {
            var idx = new int[window.Count];
            for (int j = 0; j < window.Count; j++) idx[j] = PlaneScene.Tag(window.Images[j]);
            double scale = _vary ? 1 + 0.5 * Calls.Count : 1;
            Calls.Add((idx, options.Steps, warmStart));
            PriorsSeen.Add(window.PriorInverseDepth?.Count ?? 0);
            var p0inv = _s.Pose(idx[0]).Inverse();
            var poses = new CameraPose[window.Count];
            var depth = new FloatImage[window.Count];
            var conf = new FloatImage[window.Count];
            for (int j = 0; j < window.Count; j++)
            {
                var rel = p0inv.Compose(_s.Pose(idx[j]));
                var t = rel.Translation;
                poses[j] = new CameraPose(rel.Rotation, new[] { t[0] * scale, t[1] * scale, t[2] * scale });
                depth[j] = new FloatImage(window.Width, window.Height);
                Array.Fill(depth[j].Data, (float)(_s.Z * scale));
                conf[j] = new FloatImage(window.Width, window.Height);
                Array.Fill(conf[j].Data, 1f);
            }
            return new SolverResult { Poses = poses, Depth = depth, Confidence = conf, Focal = _s.F, Steps = options.Steps,
                StageMilliseconds = new Dictionary<string, double> { ["loss"] = 0.5 } };
        }

        public void Dispose() { }
    }
}

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>A depth prior double: inverse depth 1 / Z everywhere; counts calls.</summary>
    internal sealed class ConstantPrior : FlowMap.Depth.IDepthPrior
    {
        private int _calls;
        public int Calls => _calls;
        public string Name => "constant";
        public FloatImage PredictInverseDepth(RgbImage image, int width, int height)
        {
            System.Threading.Interlocked.Increment(ref _calls);
            var d = new FloatImage(width, height);
            System.Array.Fill(d.Data, 0.25f);
            return d;
        }
        public void Dispose() { }
    }
}
