using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowMap.Solve
{
    /// <summary>Where the descent runs.</summary>
    internal enum SolverBackend
    {
        /// <summary>Vulkan compute kernels, one batched submission per step.</summary>
        Gpu,
        /// <summary>The double-precision CPU reference (slow; for checks and machines without Vulkan).</summary>
        Cpu,
    }

    /// <summary>Creates window solvers (METHOD.md: closed-form Procrustes poses, softmin-then-free focal, induced-flow loss).</summary>
    internal static class WindowSolver
    {
        /// <summary>
        /// A solver on the given backend. <see cref="SolverBackend.Gpu"/> opens its own Vulkan device (FLOWMAP_DEVICE picks
        /// one by name) and throws <see cref="InvalidOperationException"/> when none is usable.
        /// </summary>
        public static IWindowSolver Create(SolverBackend backend = SolverBackend.Gpu)
        {
            switch (backend)
            {
                case SolverBackend.Cpu: return new CpuWindowSolver();
                case SolverBackend.Gpu: return GpuWindowSolver.CreateOwned();
                default: throw new ArgumentOutOfRangeException(nameof(backend));
            }
        }
    }

    /// <summary>What both backends share: parameter initialisation, the focal schedule, and turning fits into a result.</summary>
    internal static class SolverCommon
    {
        public static void Validate(SolverWindow window, SolverOptions options, SolverWarmStart? warm)
        {
            if (window == null) throw new ArgumentNullException(nameof(window));
            if (options == null) throw new ArgumentNullException(nameof(options));
            if (options.Steps < 0) throw new ArgumentOutOfRangeException(nameof(options), "Steps must be >= 0.");
            if (!(options.LearningRate > 0) || double.IsInfinity(options.LearningRate)) throw new ArgumentOutOfRangeException(nameof(options), "The learning rate must be positive and finite.");
            if (options.StepsPerSubmission < 1) throw new ArgumentOutOfRangeException(nameof(options), "StepsPerSubmission must be >= 1.");
            if (warm != null)
            {
                if (warm.FrozenFrames < 0 || warm.FrozenFrames > window.Count) throw new ArgumentException($"FrozenFrames {warm.FrozenFrames} is outside [0, {window.Count}].");
                if (warm.InitialDepth != null)
                {
                    if (warm.InitialDepth.Count != window.Count) throw new ArgumentException("The warm start needs one (possibly null) depth per frame.");
                    foreach (var d in warm.InitialDepth)
                        if (d != null && (d.Width != window.Width || d.Height != window.Height)) throw new ArgumentException("Warm-start depth must have the window's size.");
                }
                if (warm.Focal.HasValue && !(warm.Focal.Value > 0)) throw new ArgumentException("A warm-start focal must be positive.");
            }
        }

        /// <summary>Initial parameters: theta = 0 (inverse depth 1, or the prior scaled to median 1), or the warm-start depth.</summary>
        public static double[] InitialParameters(SolverProblem p, SolverWarmStart? warm, double initialFocal)
        {
            var prm = new double[p.ParamCount];
            for (int fr = 0; fr < p.N; fr++)
            {
                double logScale = 0;
                if (p.Prior != null)
                {
                    var sorted = (float[])p.Prior[fr].Clone();
                    Array.Sort(sorted);
                    logScale = -Math.Log(sorted[sorted.Length / 2]);
                    prm[p.ScaleOffset(fr)] = logScale;
                    prm[p.ShiftOffset(fr)] = 0;
                }
                var init = warm?.InitialDepth?[fr];
                if (init == null) continue;
                var g = p.Grid;
                for (int b = 0; b < g.GridHeight; b++)
                    for (int a = 0; a < g.GridWidth; a++)
                    {
                        int x = Math.Min(a * g.Cell, p.W - 1), y = Math.Min(b * g.Cell, p.H - 1);
                        double z = init[x, y];
                        if (!(z > 0) || double.IsInfinity(z)) continue;
                        double qPrior = p.Prior != null ? Depth.InverseDepthGrid.Pos(Math.Exp(logScale) * p.Prior[fr][y * p.W + x]) : 1;
                        prm[p.ThetaOffset(fr) + b * g.GridWidth + a] = Math.Log(1 / z / qPrior);
                    }
            }
            prm[p.FocalOffset] = Math.Log(initialFocal);
            return prm;
        }

        /// <summary>
        /// Which parameters descent may change: not the frozen frames' depth, not a fixed focal; with
        /// <paramref name="fineFree"/> false only the coarse grid level (coarse-to-fine: the first CoarseOnlyFraction of a fresh solve).
        /// </summary>
        public static bool[] Trainable(SolverProblem p, SolverWarmStart? warm, bool focalFree, bool fineFree = true)
        {
            var t = new bool[p.ParamCount];
            int frozen = warm?.FrozenFrames ?? 0;
            for (int fr = frozen; fr < p.N; fr++)
            {
                for (int i = fineFree ? 0 : p.Grid.FineCount; i < p.Nodes; i++) t[p.ThetaOffset(fr) + i] = true;
                if (p.Prior != null) { t[p.ScaleOffset(fr)] = true; t[p.ShiftOffset(fr)] = true; }
            }
            t[p.FocalOffset] = focalFree;
            return t;
        }

        /// <summary>Steps of a fresh solve during which only the coarse depth level is learned (0 when warm-started).</summary>
        public static int CoarseOnlySteps(SolverProblem p, SolverOptions o, SolverWarmStart? warm) =>
            warm?.InitialDepth != null ? 0 : (int)Math.Ceiling(o.Steps * p.Tuning.CoarseOnlyFraction);

        /// <summary>Steps during which the focal is the softmin over candidates (0 when the focal is known or warm-started).</summary>
        public static int SoftminSteps(SolverProblem p, SolverOptions o, SolverWarmStart? warm) =>
            p.FixedFocal.HasValue || warm?.Focal != null ? 0 : (int)Math.Ceiling(o.Steps * p.Tuning.SoftminFraction);

        /// <summary>
        /// The base learning rate of a solve: the options' rate, times <see cref="SolverTuning.WarmRateFactor"/> when the depth is
        /// warm-started (Adam's first steps move every parameter by about the rate whatever its gradient, which throws a
        /// near-converged start out of its basin: from the true depth and focal on the room walk at 160x120, rate 0.03 ended at
        /// focal -14.9 %, AbsRel 0.063; rate 0.003 at focal -0.4 %, AbsRel 0.005).
        /// </summary>
        public static double BaseRate(SolverTuning t, SolverOptions o, SolverWarmStart? warm) =>
            o.LearningRate * (warm?.InitialDepth != null && warm.InitialDepth.Any(d => d != null) ? t.WarmRateFactor : 1);

        /// <summary>Exponential learning-rate decay: factor 1 at the first step, FinalRateFactor at the last.</summary>
        public static double RateFactor(SolverTuning t, int step, int steps) =>
            steps <= 1 ? 1 : Math.Pow(t.FinalRateFactor, (double)step / (steps - 1));

        /// <summary>The focal (pixels) the solve starts from.</summary>
        public static double StartFocal(SolverProblem p, SolverWarmStart? warm) =>
            p.FixedFocal ?? warm?.Focal ?? Math.Sqrt(p.Tuning.FocalMin * p.Tuning.FocalMax) * p.Norm;

        /// <summary>Chains pair transforms (camera i to camera i+1) into camera-to-world poses, frame 0 = identity.</summary>
        public static CameraPose[] Chain(IReadOnlyList<(double[] R, double[] T)> pairs)
        {
            var poses = new CameraPose[pairs.Count + 1];
            poses[0] = CameraPose.Identity;
            for (int k = 0; k < pairs.Count; k++)
            {
                var rel = new CameraPose(pairs[k].R, pairs[k].T); // camera k -> camera k+1
                poses[k + 1] = poses[k].Compose(rel.Inverse());
            }
            return poses;
        }

        /// <summary>
        /// Per-pixel confidence: the flow confidence times exp(-(e/delta)^2 / 2) of the fitted induced-flow residual e
        /// (forward flow for frames with a successor, backward flow for the last frame).
        /// </summary>
        public static FloatImage[] Confidence(SolverProblem p, double[][] depth, IReadOnlyList<(double[] R, double[] T)> pairs, double f)
        {
            var res = new FloatImage[p.N];
            for (int fr = 0; fr < p.N; fr++)
            {
                bool fwd = fr < p.N - 1;
                int k = fwd ? fr : fr - 1;
                var flow = fwd ? p.Forward[k] : p.Backward[k];
                var conf = fwd ? p.ForwardConf[k] : p.BackwardConf[k];
                var r = pairs[k].R; var t = pairs[k].T;
                var img = new FloatImage(p.W, p.H);
                var z = depth[fr];
                for (int y = 0; y < p.H; y++)
                    for (int x = 0; x < p.W; x++)
                    {
                        int i = y * p.W + x;
                        double X0 = z[i] * (x - p.Cx) / f, X1 = z[i] * (y - p.Cy) / f, X2 = z[i], P0, P1, P2;
                        if (fwd)
                        {
                            P0 = r[0] * X0 + r[1] * X1 + r[2] * X2 + t[0];
                            P1 = r[3] * X0 + r[4] * X1 + r[5] * X2 + t[1];
                            P2 = r[6] * X0 + r[7] * X1 + r[8] * X2 + t[2];
                        }
                        else
                        {
                            double d0 = X0 - t[0], d1 = X1 - t[1], d2 = X2 - t[2];
                            P0 = r[0] * d0 + r[3] * d1 + r[6] * d2;
                            P1 = r[1] * d0 + r[4] * d1 + r[7] * d2;
                            P2 = r[2] * d0 + r[5] * d1 + r[8] * d2;
                        }
                        if (!(P2 > SolverReference.MinDepthRatio * X2)) continue;
                        double ex = f * P0 / P2 + p.Cx - x - flow[2 * i], ey = f * P1 / P2 + p.Cy - y - flow[2 * i + 1];
                        double e2 = (ex * ex + ey * ey) / (p.DeltaPx * p.DeltaPx);
                        img.Data[i] = (float)(conf[i] * Math.Exp(-0.5 * e2));
                    }
                res[fr] = img;
            }
            return res;
        }

        public static FloatImage[] ToImages(SolverProblem p, double[][] depth)
        {
            var res = new FloatImage[p.N];
            for (int fr = 0; fr < p.N; fr++)
            {
                var d = new float[p.Pixels];
                for (int i = 0; i < d.Length; i++) d[i] = (float)depth[fr][i];
                res[fr] = new FloatImage(p.W, p.H, d);
            }
            return res;
        }
    }
}
