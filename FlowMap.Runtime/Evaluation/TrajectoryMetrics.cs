using System;
using System.Collections.Generic;

namespace FlowMap.Evaluation
{
    /// <summary>Pose accuracy of an estimated trajectory against ground truth (EVALUATION.md).</summary>
    /// <param name="Frames">Frames compared.</param>
    /// <param name="AteRmse">Absolute trajectory error: RMSE of camera centres after Sim(3) alignment, in ground-truth units (metres).</param>
    /// <param name="PathLength">Length of the ground-truth camera path (sum of consecutive centre distances), ground-truth units.</param>
    /// <param name="AtePercent">AteRmse as a percentage of PathLength (NaN when the path has no length).</param>
    /// <param name="RelativeRotationDeg">Mean angle of R_gt_rel^T R_est_rel over consecutive frame pairs, degrees.</param>
    /// <param name="Alignment">The similarity taking estimated centres onto ground truth.</param>
    internal sealed record TrajectoryAccuracy(int Frames, double AteRmse, double PathLength, double AtePercent, double RelativeRotationDeg, Similarity Alignment);

    /// <summary>Trajectory metrics of EVALUATION.md on camera-to-world poses matched frame by frame.</summary>
    internal static class TrajectoryMetrics
    {
        /// <summary>
        /// ATE after a Sim(3) alignment (Umeyama; see <see cref="Similarity.Align"/>) of the estimated camera centres onto the true
        /// ones, the ground-truth path length, ATE as % of it, and the mean relative rotation error between consecutive frames
        /// (invariant to the alignment: the angle of (R_gt,i^T R_gt,i+1)^T (R_est,i^T R_est,i+1)).
        /// </summary>
        public static TrajectoryAccuracy Evaluate(IReadOnlyList<CameraPose> estimated, IReadOnlyList<CameraPose> groundTruth)
        {
            if (estimated == null) throw new ArgumentNullException(nameof(estimated));
            if (groundTruth == null) throw new ArgumentNullException(nameof(groundTruth));
            if (estimated.Count != groundTruth.Count) throw new ArgumentException($"{estimated.Count} estimated poses for {groundTruth.Count} true ones.");
            int n = estimated.Count;
            if (n == 0) throw new ArgumentException("No poses to compare.");
            var est = new (double, double, double)[n];
            var gt = new (double, double, double)[n];
            for (int i = 0; i < n; i++) { est[i] = estimated[i].Center; gt[i] = groundTruth[i].Center; }
            var sim = Similarity.Align(est, gt, withScale: true);
            double se = 0, path = 0;
            for (int i = 0; i < n; i++)
            {
                var p = sim.Apply(est[i]);
                se += Sq(p.X - gt[i].Item1) + Sq(p.Y - gt[i].Item2) + Sq(p.Z - gt[i].Item3);
                if (i > 0) path += Math.Sqrt(Sq(gt[i].Item1 - gt[i - 1].Item1) + Sq(gt[i].Item2 - gt[i - 1].Item2) + Sq(gt[i].Item3 - gt[i - 1].Item3));
            }
            double ate = Math.Sqrt(se / n);
            return new TrajectoryAccuracy(n, ate, path, path > 0 ? 100 * ate / path : double.NaN, RelativeRotationErrorDeg(estimated, groundTruth), sim);
        }

        /// <summary>Mean relative rotation error between consecutive frames, degrees (0 for fewer than two frames).</summary>
        public static double RelativeRotationErrorDeg(IReadOnlyList<CameraPose> estimated, IReadOnlyList<CameraPose> groundTruth)
        {
            if (estimated.Count != groundTruth.Count) throw new ArgumentException($"{estimated.Count} estimated poses for {groundTruth.Count} true ones.");
            if (estimated.Count < 2) return 0;
            double sum = 0;
            for (int i = 0; i + 1 < estimated.Count; i++)
            {
                var relGt = RotationOnly(groundTruth[i]).Inverse().Compose(RotationOnly(groundTruth[i + 1]));
                var relEst = RotationOnly(estimated[i]).Inverse().Compose(RotationOnly(estimated[i + 1]));
                sum += Angle(relGt.Inverse().Compose(relEst));
            }
            return sum / (estimated.Count - 1) * 180 / Math.PI;
        }

        /// <summary>Signed relative focal error in percent: 100 (f_est - f_true) / f_true, both at the same image size.</summary>
        public static double FocalErrorPercent(double estimated, double truth)
        {
            if (!(truth > 0)) throw new ArgumentOutOfRangeException(nameof(truth), "The true focal must be positive.");
            return 100 * (estimated - truth) / truth;
        }

        /// <summary>
        /// Focal error of estimated intrinsics against true ones, in percent, using the mean of fx and fy; the estimate is first
        /// rescaled to the true image width when the sizes differ.
        /// </summary>
        public static double FocalErrorPercent(Intrinsics estimated, Intrinsics truth)
        {
            var e = estimated.Width == truth.Width && estimated.Height == truth.Height ? estimated : estimated.Resized(truth.Width, truth.Height);
            return FocalErrorPercent((e.Fx + e.Fy) / 2, (truth.Fx + truth.Fy) / 2);
        }

        /// <summary>
        /// Rotation angle in radians, as atan2(sin, cos) from the skew part and the trace: accurate near 0, where acos of the
        /// trace loses half the digits (a 1e-16 trace error would read as 1e-8 rad).
        /// </summary>
        public static double Angle(CameraPose p)
        {
            double sx = p.R(2, 1) - p.R(1, 2), sy = p.R(0, 2) - p.R(2, 0), sz = p.R(1, 0) - p.R(0, 1);
            double sin = 0.5 * Math.Sqrt(sx * sx + sy * sy + sz * sz), cos = 0.5 * (p.R(0, 0) + p.R(1, 1) + p.R(2, 2) - 1);
            return Math.Atan2(sin, cos);
        }

        private static CameraPose RotationOnly(CameraPose p) => new CameraPose(p.Rotation, new double[3]);
        private static double Sq(double x) => x * x;
    }
}
