using System;

namespace FlowMap.Core
{
    /// <summary>An 8-bit RGB image: byte[Height, Width, 3] row-major, tightly packed (row stride = 3 * Width).</summary>
    public sealed class RgbImage
    {
        /// <summary>An image over <paramref name="pixels"/> (not copied; 3 * width * height bytes).</summary>
        public RgbImage(int width, int height, byte[] pixels)
        {
            if (width < 1 || height < 1) throw new ArgumentException($"Image size {width}x{height} is empty.");
            if (pixels == null) throw new ArgumentNullException(nameof(pixels));
            if (pixels.Length != checked(width * height * 3))
                throw new ArgumentException($"An RGB image of {width}x{height} needs {width * height * 3} bytes, got {pixels.Length}.");
            Width = width; Height = height; Pixels = pixels;
        }

        /// <summary>A black image.</summary>
        public RgbImage(int width, int height) : this(width, height, new byte[checked(width * height * 3)]) { }

        /// <summary>Pixels per row.</summary>
        public int Width { get; }
        /// <summary>Rows.</summary>
        public int Height { get; }
        /// <summary>R, G, B of pixel (x, y) at index 3 * (y * Width + x).</summary>
        public byte[] Pixels { get; }
    }

    /// <summary>A float image: float[Height, Width] row-major (depth in metres or scene units, confidence in [0, 1], luminance in [0, 1]).</summary>
    public sealed class FloatImage
    {
        /// <summary>An image over <paramref name="data"/> (not copied; width * height values).</summary>
        public FloatImage(int width, int height, float[] data)
        {
            if (width < 1 || height < 1) throw new ArgumentException($"Image size {width}x{height} is empty.");
            if (data == null) throw new ArgumentNullException(nameof(data));
            if (data.Length != checked(width * height))
                throw new ArgumentException($"A {width}x{height} image needs {width * height} values, got {data.Length}.");
            Width = width; Height = height; Data = data;
        }

        /// <summary>An image of zeros.</summary>
        public FloatImage(int width, int height) : this(width, height, new float[checked(width * height)]) { }

        /// <summary>Pixels per row.</summary>
        public int Width { get; }
        /// <summary>Rows.</summary>
        public int Height { get; }
        /// <summary>Value of pixel (x, y) at index y * Width + x.</summary>
        public float[] Data { get; }
        /// <summary>Value of pixel (x, y): column x, row y (top row 0).</summary>
        public float this[int x, int y] { get => Data[y * Width + x]; set => Data[y * Width + x] = value; }
    }

    /// <summary>
    /// Dense optical flow from frame a to frame b: float[Height, Width, 2] row-major, (u, v) in pixels, so pixel (x, y) of a
    /// moves to (x + u, y + v) in b. Pixel centres at integer coordinates, x right, y down.
    /// </summary>
    public sealed class FlowField
    {
        /// <summary>A flow over <paramref name="data"/> (not copied; 2 * width * height values).</summary>
        public FlowField(int width, int height, float[] data)
        {
            if (width < 1 || height < 1) throw new ArgumentException($"Flow size {width}x{height} is empty.");
            if (data == null) throw new ArgumentNullException(nameof(data));
            if (data.Length != checked(width * height * 2))
                throw new ArgumentException($"A {width}x{height} flow needs {width * height * 2} values, got {data.Length}.");
            Width = width; Height = height; Data = data;
        }

        /// <summary>A zero flow.</summary>
        public FlowField(int width, int height) : this(width, height, new float[checked(width * height * 2)]) { }

        /// <summary>Pixels per row.</summary>
        public int Width { get; }
        /// <summary>Rows.</summary>
        public int Height { get; }
        /// <summary>u of pixel (x, y) at 2 * (y * Width + x), v at the next index.</summary>
        public float[] Data { get; }
        /// <summary>Horizontal flow of pixel (x, y), pixels, positive to the right.</summary>
        public float U(int x, int y) => Data[2 * (y * Width + x)];
        /// <summary>Vertical flow of pixel (x, y), pixels, positive downwards.</summary>
        public float V(int x, int y) => Data[2 * (y * Width + x) + 1];
    }

    /// <summary>One frame of an input stream.</summary>
    /// <param name="Index">0-based position in the stream.</param>
    /// <param name="TimestampSeconds">Capture time in seconds from the start of the stream.</param>
    /// <param name="Image">The RGB pixels.</param>
    /// <param name="Name">Source name: the file name for an image folder, else "NNNNNN.png" by index.</param>
    public sealed record Frame(int Index, double TimestampSeconds, RgbImage Image, string Name);
}
