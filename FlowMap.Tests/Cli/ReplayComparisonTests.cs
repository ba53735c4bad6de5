using FlowMap.Viewer.Cli;
using Xunit;

namespace FlowMap.Tests.Cli
{
    public sealed class ReplayComparisonTests
    {
        [Fact]
        public void Rotation_difference_is_exactly_zero_for_equal_poses_and_exact_for_small_angles()
        {
            var a = CameraPose.FromQuaternion(0.1, -0.2, 0.3, 0.9, 1, 2, 3);
            Assert.Equal(0.0, ReplayCommand.RotationDifferenceDeg(a, a)); // acos of the trace would give ~1e-6 deg here
            double half = 0.005 * System.Math.PI / 180 / 2;            // 0.01 deg about z
            var dz = CameraPose.FromQuaternion(0, 0, System.Math.Sin(half), System.Math.Cos(half), 0, 0, 0);
            Assert.Equal(0.01, ReplayCommand.RotationDifferenceDeg(a, a.Compose(dz)) * 2, 9);
        }
    }
}
