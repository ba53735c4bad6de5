using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    /// <summary>
    /// <see cref="KeyframeSolver.DistortionHint"/>: a hint only when k1 free lowers the robust cost and moves the focal by more
    /// than the focal target (1 %) and twice the focal's own relative uncertainty.
    /// </summary>
    public sealed class DistortionHintTests
    {
        [Theory]
        // focal, cost, free focal, free k1, free cost, relStd, hinted
        [InlineData(282.8, 100.0, 256.3, -0.050, 99.1, 0.004, true)]   // the synthetic walk at k1 = -0.05: -9.3 %
        [InlineData(236.5, 100.0, 256.5, 0.051, 99.4, 0.004, true)]    // k1 = +0.05: +8.5 %
        [InlineData(266.3, 100.0, 265.3, -0.004, 99.9, 0.0025, false)] // ICL-NUIM: -0.4 %, below the 1 % target
        [InlineData(256.0, 100.0, 280.0, 0.060, 100.1, 0.004, false)]  // a higher cost with k1 free: no evidence for it
        [InlineData(256.0, 100.0, 270.0, 0.060, 99.0, 0.04, false)]    // +5.5 %, within twice a 4 % uncertainty
        [InlineData(256.0, 100.0, 270.0, 0.060, 99.0, null, true)]     // no uncertainty known: the 1 % target alone
        [InlineData(256.0, 100.0, double.NaN, 0.060, 99.0, 0.004, false)]
        public void Hints_only_where_k1_fits_better_and_moves_the_focal_beyond_its_uncertainty(double focal, double cost, double freeFocal, double freeK1, double freeCost, double? relStd, bool hinted)
        {
            var hint = KeyframeSolver.DistortionHint(focal, cost, freeFocal, freeK1, freeCost, relStd);
            Assert.Equal(hinted, hint != null);
            if (hint != null)
            {
                Assert.Contains("--estimate-k1", hint);
                Assert.Contains($"k1 = {freeK1.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)}", hint);
            }
        }
    }
}
