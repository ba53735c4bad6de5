using System;

namespace FlowMap.Core
{
    /// <summary>
    /// A coloured point cloud in world coordinates (the reconstruction's frame: frame 0's camera, OpenCV axes, arbitrary scale):
    /// Positions float[Count, 3] (x, y, z), Colors byte[Count, 3] (r, g, b), and an optional per-point Confidence float[Count] in [0, 1].
    /// </summary>
    public sealed class PointCloud
    {
        /// <summary>A cloud over the given arrays (not copied): positions float[N, 3], colours byte[N, 3], confidence float[N] or null.</summary>
        public PointCloud(float[] positions, byte[] colors, float[]? confidence = null)
        {
            if (positions == null) throw new ArgumentNullException(nameof(positions));
            if (colors == null) throw new ArgumentNullException(nameof(colors));
            if (positions.Length % 3 != 0) throw new ArgumentException("Positions must hold x, y, z triples.");
            if (colors.Length != positions.Length) throw new ArgumentException($"{positions.Length / 3} points need {positions.Length} colour bytes, got {colors.Length}.");
            if (confidence != null && confidence.Length != positions.Length / 3) throw new ArgumentException("One confidence per point.");
            Positions = positions; Colors = colors; Confidence = confidence;
        }

        /// <summary>A cloud with no points.</summary>
        public static PointCloud Empty => new PointCloud(Array.Empty<float>(), Array.Empty<byte>());

        /// <summary>Number of points N.</summary>
        public int Count => Positions.Length / 3;
        /// <summary>x, y, z of point i at 3 i .. 3 i + 2, world coordinates (OpenCV axes, the reconstruction's scale).</summary>
        public float[] Positions { get; }
        /// <summary>r, g, b (0-255) of point i at 3 i .. 3 i + 2.</summary>
        public byte[] Colors { get; }
        /// <summary>Confidence of point i in [0, 1], or null when the cloud carries none.</summary>
        public float[]? Confidence { get; }
    }
}
