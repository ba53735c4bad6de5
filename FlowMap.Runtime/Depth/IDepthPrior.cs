using System;

namespace FlowMap.Depth
{
    /// <summary>
    /// A frozen monocular depth prior: relative inverse depth (disparity-like: larger is nearer, positive, arbitrary
    /// scale and shift) for one RGB frame. The solver learns a per-frame scale, shift and coarse residual on top of it.
    /// </summary>
    internal interface IDepthPrior : IDisposable
    {
        /// <summary>Short name for reports, e.g. "onnx:depth_anything_v2_vits.onnx (depth-anything-v2)".</summary>
        string Name { get; }

        /// <summary>
        /// Relative inverse depth of <paramref name="image"/>, resampled to <paramref name="width"/> x <paramref name="height"/>.
        /// Finite and positive everywhere; a model that produces NaN or infinities raises <see cref="InvalidOperationException"/>
        /// naming the model.
        /// </summary>
        FloatImage PredictInverseDepth(RgbImage image, int width, int height);
    }
}
