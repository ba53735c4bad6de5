using FlowMap.Tests.Solve.Geometry;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found by CI on a fresh seed (1543717543): `TwoViewGeometryTests.Fundamental_and_pose_survive_30_percent_outliers_and_noise`
    /// failed with a rotation error of 0.104 deg against a bound of 0.1 deg, while the translation direction was off by
    /// 1.34 deg (bound 2 deg). The estimate was right; the test's bound was not: with a 0.3-unit baseline at 2-6 units of
    /// depth a rotation of |t| d / Z undoes most of a direction error d (the bas-relief ambiguity), so the rotation error
    /// carries up to 0.15 x the direction error, which the bound now includes. The seed, kept.
    /// </summary>
    public sealed class RotationBoundIgnoredTheBasReliefCoupling
    {
        private readonly ITestOutputHelper _out;
        public RotationBoundIgnoredTheBasReliefCoupling(ITestOutputHelper output) { _out = output; }

        [Fact]
        public void The_seed_that_failed_passes_with_the_coupled_bound() => TwoViewGeometryTests.OutliersAndNoise(1543717543, _out.WriteLine);
    }
}
