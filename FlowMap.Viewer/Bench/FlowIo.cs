using System;
using System.IO;
using FlowMap.Viewer.Cli;
using StbImageSharp;
using StbImageWriteSharp;

namespace FlowMap.Viewer.Bench
{
    /// <summary>Image and Middlebury .flo files for the flow command and benchmark (user errors become <see cref="CliException"/>).</summary>
    internal static class FlowIo
    {
        public static RgbImage ReadImage(string path)
        {
            if (!File.Exists(path)) throw new CliException($"{path}: no such file.");
            try
            {
                var r = ImageResult.FromMemory(File.ReadAllBytes(path), StbImageSharp.ColorComponents.RedGreenBlue);
                return new RgbImage(r.Width, r.Height, r.Data);
            }
            catch (Exception e) when (e is not CliException)
            {
                throw new CliException($"{path}: not a readable image ({e.Message}).");
            }
        }

        /// <summary>A mask PNG (any channel count): value &gt; 127 becomes 1.</summary>
        public static FloatImage ReadMask(string path)
        {
            var r = ImageResult.FromMemory(File.ReadAllBytes(path), StbImageSharp.ColorComponents.Grey);
            var m = new FloatImage(r.Width, r.Height);
            for (int i = 0; i < m.Data.Length; i++) m.Data[i] = r.Data[i] > 127 ? 1 : 0;
            return m;
        }

        public static void WritePng(string path, RgbImage img)
        {
            using var s = File.Create(path);
            new ImageWriter().WritePng(img.Pixels, img.Width, img.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, s);
        }

        /// <summary>A [0, 1] float image as an 8-bit grey PNG.</summary>
        public static void WriteGreyPng(string path, FloatImage img)
        {
            var px = new byte[img.Data.Length];
            for (int i = 0; i < px.Length; i++) px[i] = (byte)Math.Clamp(Math.Round(img.Data[i] * 255), 0, 255);
            using var s = File.Create(path);
            new ImageWriter().WritePng(px, img.Width, img.Height, StbImageWriteSharp.ColorComponents.Grey, s);
        }

        /// <summary>Middlebury .flo: "PIEH", int32 width, int32 height, float32 (u, v) per pixel, row-major, little-endian.</summary>
        public static void WriteFlo(string path, FlowField f)
        {
            using var w = new BinaryWriter(File.Create(path));
            w.Write(202021.25f);
            w.Write(f.Width); w.Write(f.Height);
            var bytes = new byte[f.Data.Length * 4];
            Buffer.BlockCopy(f.Data, 0, bytes, 0, bytes.Length);
            w.Write(bytes);
        }

        public static FlowField ReadFlo(string path)
        {
            if (!File.Exists(path)) throw new CliException($"{path}: no such file.");
            var data = File.ReadAllBytes(path);
            if (data.Length < 12 || BitConverter.ToSingle(data, 0) != 202021.25f) throw new CliException($"{path}: not a Middlebury .flo file (bad magic).");
            int w = BitConverter.ToInt32(data, 4), h = BitConverter.ToInt32(data, 8);
            if (w < 1 || h < 1 || w > 1 << 16 || h > 1 << 16 || data.Length != 12 + 8L * w * h)
                throw new CliException($"{path}: .flo header says {w}x{h} but the file has {data.Length} bytes.");
            var f = new float[2 * w * h];
            Buffer.BlockCopy(data, 12, f, 0, f.Length * 4);
            return new FlowField(w, h, f);
        }
    }
}
