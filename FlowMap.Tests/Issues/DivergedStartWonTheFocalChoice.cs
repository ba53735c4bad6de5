using FlowMap.Reconstruction;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found in review: the offline solve of an undetermined focal keeps the better of two refinements by their robust cost,
    /// and compared them with `guess.Cost &lt;= own.Cost ? guess : own`. A refinement that diverges falls back to descent's
    /// solution with no cost (NaN), and any comparison with NaN is false: a diverged own-focal start beat a guess that had
    /// converged. A start without a finite cost now never wins over one with a finite cost.
    /// </summary>
    public sealed class DivergedStartWonTheFocalChoice
    {
        private static KeyframeSolution Cost(double c) => new KeyframeSolution { RefineFinalCost = c, Focal = c };

        [Fact]
        public void A_refinement_without_a_finite_cost_never_wins()
        {
            Assert.Equal(1, KeyframeSolver.Better(Cost(1), Cost(double.NaN)).Focal);
            Assert.Equal(1, KeyframeSolver.Better(Cost(double.NaN), Cost(1)).Focal);
            Assert.Equal(2, KeyframeSolver.Better(Cost(double.PositiveInfinity), Cost(2)).Focal);
            Assert.Equal(1, KeyframeSolver.Better(Cost(1), Cost(2)).Focal);
            Assert.Equal(1, KeyframeSolver.Better(Cost(2), Cost(1)).Focal);
        }
    }
}
