using System;

namespace FlowMap.Gpu
{
    /// <summary>A float image on the GPU: float[Height, Width, Channels] row-major (channels interleaved).</summary>
    internal sealed class GpuImage : IDisposable
    {
        public GpuImage(GpuContext ctx, int width, int height, int channels = 1, string name = "image")
        {
            if (width < 1 || height < 1) throw new ArgumentException($"Image size {width}x{height} is empty.");
            Width = width; Height = height; Channels = channels;
            Buffer = new GpuBuffer(ctx, (long)width * height * channels * sizeof(float), name);
        }

        public int Width { get; }
        public int Height { get; }
        public int Channels { get; }
        public int PixelCount => Width * Height;
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

        public void Dispose() => Buffer.Dispose();
    }
}
