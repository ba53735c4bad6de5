using System;
using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found by the long live run at ICL-NUIM's pace (`./flowmap bench live --skip-paced --long-motion 0.3 --long-frames
    /// 4000`): with mapping behind, the poses delivered live had no figure from frame 3,000 on (a camera too far out to
    /// measure), with culling or the cap's rule alike. Printed at every window solve (scratch prints on cc2c8b4): the waiting keyframes, re-chained
    /// onto the solved window's last keyframe (<see cref="KeyframeMapper.Rechained"/>), were 6-8 units from it for 12
    /// solves, then 8, 24, 617, 2.7e5, 1e11, 1e21, 1e43, 1e87, infinity, NaN: the largest |R^T R - I| of their rotations
    /// doubled at every solve, 4.5e-8 -> 1.3e-7 -> 3.2e-7 -> ... -> 0.1 after 20. A solve starts the rotations a little off
    /// (descent runs in float precision), every waiting keyframe descends from re-chained ones, and re-chaining composes
    /// with the inverse of the solved keyframe's old pose, taken as R^T: for R = s Q that multiplies by s instead of
    /// dividing, so each re-chaining squares the departure. Now re-chained poses are brought back onto the rotations
    /// (<see cref="CameraPose.Orthonormalized"/>).
    /// </summary>
    public sealed class RechainedKeyframePosesLeftTheRotations
    {
        // A pose whose R is a rotation scaled by (1 + eps): what a float-precision solve hands on, at eps ~ 1e-7.
        private static CameraPose Off(double rx, double ry, double rz, double[] t, double eps)
        {
            var r = FramePoseEstimator.Rodrigues(rx, ry, rz);
            for (int i = 0; i < 9; i++) r[i] *= 1 + eps;
            return new CameraPose(r, t);
        }

        private static double Departure(CameraPose p)
        {
            var r = p.Rotation;
            double e = 0;
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    e = Math.Max(e, Math.Abs(r[3 * a] * r[3 * b] + r[3 * a + 1] * r[3 * b + 1] + r[3 * a + 2] * r[3 * b + 2] - (a == b ? 1 : 0)));
            return e;
        }

        /// <summary>
        /// The mapper's lineage: at each solve the last solved keyframe (before: a re-chained waiting keyframe; after: its
        /// solved pose, 1e-7 off) and a waiting keyframe re-chained onto it, the next solve's last keyframe descending from
        /// that. The departure of composing raw doubles per solve (the premise: past 1e-2 within 25 solves);
        /// <see cref="KeyframeMapper.Rechained"/> keeps it at the solve's own (a few times 1e-7, rounding after the
        /// orthonormalisation is 1e-16).
        /// </summary>
        [Fact]
        public void Re_chaining_at_every_solve_keeps_the_poses_rotations()
        {
            const double eps = 1e-7;
            CameraPose rawOld = Off(0.1, -0.2, 0.05, new[] { 0.3, -0.1, 2.0 }, eps), fixedOld = rawOld;
            CameraPose rawK = Off(0.12, -0.25, 0.06, new[] { 0.5, -0.2, 2.6 }, eps), fixedK = rawK;
            double rawWorst = 0, fixedWorst = 0;
            for (int solve = 0; solve < 25; solve++)
            {
                // The solve moves the last keyframe a little and hands back a pose 1e-7 off the rotations.
                var solved = Off(0.1 + 0.01 * solve, -0.2, 0.05, new[] { 0.3 + 0.02 * solve, -0.1, 2.0 }, eps);
                double sb = solve % 2 == 0 ? 1.15 : 0.87;
                var rawNext = solved.Compose(KeyframeSolver.Scaled(rawOld.Inverse().Compose(rawK), sb));
                var fixedNext = KeyframeMapper.Rechained(solved, fixedOld, fixedK, sb);
                // The next solve's last keyframe is this waiting one; the next waiting one descends from it (tracking
                // composes its motion onto it, a true rotation).
                var step = new CameraPose(FramePoseEstimator.Rodrigues(0.01, 0.02, 0), new[] { 0.05, 0, 0.1 });
                (rawOld, rawK) = (rawNext, rawNext.Compose(step));
                (fixedOld, fixedK) = (fixedNext, fixedNext.Compose(step));
                rawWorst = Math.Max(rawWorst, Departure(rawK));
                fixedWorst = Math.Max(fixedWorst, Departure(fixedK));
            }
            Assert.True(rawWorst > 1e-2, $"composing raw stayed within {rawWorst} of the rotations: the premise fails");
            Assert.True(fixedWorst < 1e-12, $"re-chained poses {fixedWorst} off the rotations");
        }

        [Fact]
        public void Orthonormalized_gives_the_nearest_rotation_and_keeps_the_centre()
        {
            var q = FramePoseEstimator.Rodrigues(0.3, -0.7, 1.1);
            var t = new[] { 1.5, -2.0, 0.25 };
            // A scaled rotation's polar factor is the rotation itself.
            var scaled = Off(0.3, -0.7, 1.1, t, 3e-3).Orthonormalized();
            for (int i = 0; i < 9; i++) Assert.InRange(scaled.Rotation[i] - q[i], -1e-14, 1e-14);
            Assert.Equal(t, scaled.Translation);
            // A sheared one lands on a rotation (det +1, R^T R = I to rounding), idempotently.
            var r = (double[])q.Clone();
            r[1] += 2e-3; r[5] -= 1e-3;
            var sheared = new CameraPose(r, t).Orthonormalized();
            Assert.True(Departure(sheared) < 1e-14, $"{Departure(sheared)}");
            var again = sheared.Orthonormalized();
            for (int i = 0; i < 9; i++) Assert.InRange(again.Rotation[i] - sheared.Rotation[i], -1e-14, 1e-14);
            // A rotation stays where it is. (Tolerances: a few Newton steps' rounding, well under 1e-14 for entries below 1.)
            var exact = new CameraPose(q, t).Orthonormalized();
            for (int i = 0; i < 9; i++) Assert.InRange(exact.Rotation[i] - q[i], -1e-14, 1e-14);
        }
    }
}
