using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace FlowMap.Solve
{
    /// <summary>Adam (Kingma and Ba, 2015): the reference of FlowMap.Shaders/solve/adam.comp.</summary>
    internal static class Adam
    {
        public const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

        /// <summary>One update of step <paramref name="step"/> (1-based) for the entries with trainable[i], rate lr * rateScale[i].</summary>
        public static void Step(double[] prm, double[] grad, double[] m, double[] v, bool[] trainable, double[] rate, int step, double rateFactor = 1)
        {
            double c1 = 1 - Math.Pow(Beta1, step), c2 = 1 - Math.Pow(Beta2, step);
            for (int i = 0; i < prm.Length; i++)
            {
                if (!trainable[i]) continue;
                double g = grad[i];
                m[i] = Beta1 * m[i] + (1 - Beta1) * g;
                v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
                prm[i] -= rateFactor * rate[i] * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + Epsilon);
            }
        }
    }

    /// <summary>The solver on the CPU in double precision (the reference backend).</summary>
    internal sealed class CpuWindowSolver : IWindowSolver
    {
        public SolverTuning Tuning { get; } = new SolverTuning();

        /// <summary>Optional: called after every step with (step, loss, focal), for measurements.</summary>
        public Action<int, double, double>? OnStep { get; set; }

        public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default)
        {
            SolverCommon.Validate(window, options, warmStart);
            var total = Stopwatch.StartNew();
            var p = new SolverProblem(window, Tuning);
            double f = SolverCommon.StartFocal(p, warmStart);
            var prm = SolverCommon.InitialParameters(p, warmStart, f);
            int softmin = SolverCommon.SoftminSteps(p, options, warmStart);
            bool focalKnown = p.FixedFocal.HasValue;
            int coarseOnly = SolverCommon.CoarseOnlySteps(p, options, warmStart);
            var trainable = SolverCommon.Trainable(p, warmStart, focalFree: false, fineFree: coarseOnly == 0);
            var rate = new double[p.ParamCount];
            double baseRate = SolverCommon.BaseRate(Tuning, options, warmStart);
            for (int i = 0; i < rate.Length; i++) rate[i] = baseRate;
            rate[p.FocalOffset] = baseRate * Tuning.FocalRateScale;
            var m = new double[p.ParamCount]; var v = new double[p.ParamCount];
            var candidates = SolverReference.FocalCandidates(p);
            var ms = new Dictionary<string, double> { ["focal"] = 0, ["step"] = 0 };
            SolverReference.Evaluation? ev = null;
            var sw = new Stopwatch();
            var loop = Stopwatch.StartNew();
            for (int step = 0; step < options.Steps; step++)
            {
                token.ThrowIfCancellationRequested();
                if (step < softmin && step % Math.Max(1, Tuning.SoftminEvery) == 0)
                {
                    sw.Restart();
                    f = SolverReference.SoftminFocal(p, SolverReference.Depths(p, prm), candidates, out _);
                    ms["focal"] += sw.Elapsed.TotalMilliseconds;
                }
                // From the end of the softmin phase the focal is free, starting from the last soft estimate.
                if (step == softmin && !focalKnown) trainable[p.FocalOffset] = true;
                if (step == coarseOnly && coarseOnly > 0)
                {
                    bool focal = trainable[p.FocalOffset];
                    trainable = SolverCommon.Trainable(p, warmStart, focal);
                }
                prm[p.FocalOffset] = Math.Log(f);
                sw.Restart();
                ev = SolverReference.Evaluate(p, prm, f, options.GradientThroughPoses);
                Adam.Step(prm, ev.Grad, m, v, trainable, rate, step + 1, SolverCommon.RateFactor(Tuning, step, options.Steps));
                if (trainable[p.FocalOffset]) f = Math.Exp(prm[p.FocalOffset]);
                ms["step"] += sw.Elapsed.TotalMilliseconds;
                OnStep?.Invoke(step, ev.Loss, f);
            }
            ms["steps"] = loop.Elapsed.TotalMilliseconds;
            // Final state: poses from the final parameters.
            ev = SolverReference.Evaluate(p, prm, f, options.GradientThroughPoses, gradient: false);
            var pairs = new List<(double[] R, double[] T)>();
            foreach (var fit in ev.Fits) pairs.Add((fit.R, fit.T));
            ms["total"] = total.Elapsed.TotalMilliseconds;
            return new SolverResult
            {
                Poses = SolverCommon.Chain(pairs),
                Focal = f,
                Depth = SolverCommon.ToImages(p, ev.Depth),
                Confidence = SolverCommon.Confidence(p, ev.Depth, pairs, f),
                FinalLoss = ev.Loss,
                Steps = options.Steps,
                StageMilliseconds = ms,
            };
        }

        public void Dispose() { }
    }
}
