using System;
using System.Collections.Generic;
using FlowMap.Depth;

namespace FlowMap.Solve
{
    /// <summary>
    /// One window in the flat layout both backends use, and the layout of the parameter vector:
    /// [theta of frame 0 (Gh x Gw), ..., theta of frame N-1, (log scale, shift) x N when there is a prior, log focal].
    /// </summary>
    internal sealed class SolverProblem
    {
        /// <param name="normFrames">
        /// The frames the loss is normalised by (<see cref="NormFrames"/>; 0: the window's own). A window cut to the part
        /// descent can change (<see cref="GpuWindowSolver"/> on a frozen prefix) keeps the whole window's, so its gradients
        /// are the whole window's.
        /// </param>
        public SolverProblem(SolverWindow window, SolverTuning tuning, int normFrames = 0)
        {
            W = window.Width; H = window.Height; N = window.Count;
            if (normFrames < 0) throw new ArgumentOutOfRangeException(nameof(normFrames));
            NormFrames = normFrames > 0 ? normFrames : N;
            Tuning = tuning;
            Grid = new InverseDepthGrid(W, H, tuning.Cell > 0 ? tuning.Cell : AutoCell(W, H));
            Cx = (W - 1) / 2.0; Cy = (H - 1) / 2.0;
            Norm = Math.Sqrt((double)W * H);
            DeltaPx = tuning.HuberDelta * Norm;
            Forward = new float[N - 1][]; Backward = new float[N - 1][];
            ForwardConf = new float[N - 1][]; BackwardConf = new float[N - 1][];
            for (int k = 0; k < N - 1; k++)
            {
                var p = window.Pairs[k];
                Forward[k] = CheckFinite(p.Forward.Data, "forward flow", k);
                Backward[k] = CheckFinite(p.Backward.Data, "backward flow", k);
                ForwardConf[k] = CheckConfidence(p.ForwardConfidence.Data, "forward confidence", k);
                BackwardConf[k] = CheckConfidence(p.BackwardConfidence.Data, "backward confidence", k);
            }
            if (window.PriorInverseDepth != null)
            {
                Prior = new float[N][];
                for (int i = 0; i < N; i++)
                {
                    var d = window.PriorInverseDepth[i];
                    if (d.Width != W || d.Height != H) throw new ArgumentException($"Depth prior {i} is {d.Width}x{d.Height}, the window {W}x{H}.");
                    foreach (var v in d.Data)
                        if (!(v > 0) || float.IsInfinity(v)) throw new ArgumentException($"Depth prior {i} has a value {v}: it must be finite and positive.");
                    Prior[i] = d.Data;
                }
            }
            FixedFocal = window.FixedFocal;
        }

        /// <summary>Grid cell for a size: about 30 cells across the short side, 2 to 8 pixels (8 at 320x240).</summary>
        public static int AutoCell(int w, int h) => Math.Max(2, Math.Min(8, (int)Math.Round(Math.Min(w, h) / 30.0)));

        private static float[] CheckFinite(float[] a, string what, int pair)
        {
            foreach (var v in a)
                if (float.IsNaN(v) || float.IsInfinity(v)) throw new ArgumentException($"Pair {pair}: the {what} has a non-finite value.");
            return a;
        }

        private static float[] CheckConfidence(float[] a, string what, int pair)
        {
            foreach (var v in a)
                if (!(v >= 0 && v <= 1)) throw new ArgumentException($"Pair {pair}: the {what} has a value {v} outside [0, 1].");
            return a;
        }

        public int W { get; }
        public int H { get; }
        public int N { get; }
        public int Pixels => W * H;
        public SolverTuning Tuning { get; }
        public InverseDepthGrid Grid { get; }
        public double Cx { get; }
        public double Cy { get; }
        /// <summary>sqrt(W H): the unit of normalised coordinates (focal = f_norm * Norm, Huber delta = delta * Norm).</summary>
        public double Norm { get; }
        public double DeltaPx { get; }
        /// <summary>Flow of pair k from frame k to k + 1 (float[H, W, 2], pixels) and back, with their confidences.</summary>
        public float[][] Forward { get; }
        public float[][] Backward { get; }
        public float[][] ForwardConf { get; }
        public float[][] BackwardConf { get; }
        public float[][]? Prior { get; }
        public double? FixedFocal { get; }

        public int Nodes => Grid.NodeCount;
        public int ThetaOffset(int frame) => frame * Nodes;
        public int ScaleOffset(int frame) => N * Nodes + 2 * frame;
        public int ShiftOffset(int frame) => N * Nodes + 2 * frame + 1;
        public int FocalOffset => N * Nodes + (Prior != null ? 2 * N : 0);
        public int ParamCount => FocalOffset + 1;

        /// <summary>Pixel stride of the candidate-focal scoring: about 4800 samples per candidate (1 at 64x48, 4 at 320x240).</summary>
        public int CandidateStride => Math.Max(1, (int)Math.Round(Math.Sqrt(Pixels / 4800.0)));

        /// <summary>Total number of flow terms (both directions, every pair): the loss is a mean over them.</summary>
        public double FlowTerms => 2.0 * (NormFrames - 1) * W * H;

        /// <summary>
        /// Frames of the window the loss is normalised over: the flow terms (<see cref="FlowTerms"/>) and the smoothness's
        /// lambda / (frames x nodes). <see cref="N"/> unless the problem is a cut of a larger window.
        /// </summary>
        public int NormFrames { get; }

        /// <summary>The smoothness weight per squared second difference: lambda / (NormFrames x nodes).</summary>
        public double SmoothnessWeight => Tuning.Smoothness / (NormFrames * (double)Nodes);
    }

    /// <summary>
    /// Internal constants of the method (not tuned per dataset). Exposed to tests so variants can be measured.
    /// </summary>
    internal sealed class SolverTuning
    {
        /// <summary>Pixels per cell of the coarse inverse-depth grid; 0 picks <see cref="SolverProblem.AutoCell"/>.</summary>
        public int Cell { get; set; } = 0;
        /// <summary>Huber delta on the end-point error, in normalised units (pixels / sqrt(W H)).</summary>
        public double HuberDelta { get; set; } = 0.01;
        /// <summary>Weight of the second-order smoothness of the log-inverse-depth grid (mean over nodes and frames).</summary>
        public double Smoothness { get; set; } = 0.02;
        /// <summary>Candidate focals (normalised, f_px = f Norm), log-spaced in [0.5, 2].</summary>
        public int FocalCandidates { get; set; } = 60;
        public double FocalMin { get; set; } = 0.5;
        public double FocalMax { get; set; } = 2.0;
        /// <summary>Fraction of the steps during which the focal is the softmin over candidates; afterwards it is free.</summary>
        public double SoftminFraction { get; set; } = 0.5;
        /// <summary>Fraction of the steps of a fresh solve that learn only the coarse depth level (coarse-to-fine). Off: measured
        /// mixed (room walk 160x120 focal error 16.6 % -> 7.8 % at 0.3, analytic walk 64x48 1.4 % -> 3.9 %).</summary>
        public double CoarseOnlyFraction { get; set; } = 0;
        /// <summary>During the softmin phase the candidates are re-scored every this many steps (the focal moves slowly).</summary>
        public int SoftminEvery { get; set; } = 4;
        /// <summary>Softmin sharpness on the relative error: weights exp(-k (E_c / E_min - 1)).</summary>
        public double SoftminSharpness { get; set; } = 10;
        /// <summary>Learning-rate factor reached at the last step (exponential decay from 1).</summary>
        public double FinalRateFactor { get; set; } = 0.1;
        /// <summary>Learning-rate factor of warm-started solves (see SolverCommon.BaseRate).</summary>
        public double WarmRateFactor { get; set; } = 0.1;
        /// <summary>Learning rate of the log focal relative to the options' rate.</summary>
        public double FocalRateScale { get; set; } = 0.5;
    }
}
