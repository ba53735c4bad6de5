using System;

namespace FlowMap
{
    /// <summary>
    /// A coloured point cloud in world coordinates (the reconstruction's frame: frame 0's camera, OpenCV axes, arbitrary scale):
    /// Positions float[Count, 3] (x, y, z), Colors byte[Count, 3] (r, g, b), and an optional per-point Confidence float[Count] in [0, 1].
    /// </summary>
    public sealed class PointCloud
    {
        public PointCloud(float[] positions, byte[] colors, float[]? confidence = null)
        {
            if (positions == null) throw new ArgumentNullException(nameof(positions));
            if (colors == null) throw new ArgumentNullException(nameof(colors));
            if (positions.Length % 3 != 0) throw new ArgumentException("Positions must hold x, y, z triples.");
            if (colors.Length != positions.Length) throw new ArgumentException($"{positions.Length / 3} points need {positions.Length} colour bytes, got {colors.Length}.");
            if (confidence != null && confidence.Length != positions.Length / 3) throw new ArgumentException("One confidence per point.");
            Positions = positions; Colors = colors; Confidence = confidence;
        }

        public static PointCloud Empty => new PointCloud(Array.Empty<float>(), Array.Empty<byte>());

        public int Count => Positions.Length / 3;
        public float[] Positions { get; }
        public byte[] Colors { get; }
        public float[]? Confidence { get; }
    }
}
