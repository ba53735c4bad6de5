using System;

namespace FlowMap.Gpu
{
    /// <summary>A float image on the GPU: float[Height, Width, Channels] row-major (channels interleaved).</summary>
    internal sealed class GpuImage : IDisposable
    {
        /// <param name="guardFloats">Extra floats after the image (tests fill them with a guard pattern to catch out-of-bounds writes).</param>
        public GpuImage(GpuContext ctx, int width, int height, int channels = 1, string name = "image", int guardFloats = 0)
        {
            if (width < 1 || height < 1) throw new ArgumentException($"Image size {width}x{height} is empty.");
            Width = width; Height = height; Channels = channels;
            GuardFloats = guardFloats;
            Buffer = new GpuBuffer(ctx, ((long)width * height * channels + guardFloats) * sizeof(float), name);
        }

        public int Width { get; }
        public int Height { get; }
        public int Channels { get; }
        public int PixelCount => Width * Height;
        public int GuardFloats { get; }
        public GpuBuffer Buffer { get; }

        public void Upload(ReadOnlySpan<float> data)
        {
            if (data.Length != PixelCount * Channels) throw new ArgumentException($"Expected {PixelCount * Channels} floats, got {data.Length}.");
            Buffer.Write(data);
        }

        public float[] Download()
        {
            var a = new float[PixelCount * Channels];
            Buffer.Read<float>(a);
            return a;
        }

        /// <summary>The image followed by its guard region (buffer size rounds up to 16 bytes; the tail holds whatever was filled).</summary>
        public float[] DownloadWithGuard()
        {
            var a = new float[Buffer.SizeBytes / sizeof(float)];
            Buffer.Read<float>(a);
            return a;
        }

        public void Dispose() => Buffer.Dispose();
    }
}
