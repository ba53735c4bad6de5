using System;
using FlowMap.Gpu;

namespace FlowMap.Solve.Refine
{
    internal sealed class GpuBundleLinearizer : IBundleLinearizer
    {
        public GpuBundleLinearizer(GpuContext ctx, BundleProblem p, BundleOptions o) => throw new NotSupportedException("GPU bundle adjustment is not built yet.");
        public void Linearize(BundleState s, BundleRobust kind, double robustPx, BundleLinearization into, bool jacobians) => throw new NotSupportedException();
        public void Dispose() { }
    }
}
