using System;
using System.IO;
using FlowMap.Export;
using FlowMap.Viewer.Cli;

namespace FlowMap.Viewer.Bench
{
    /// <summary>
    /// Image and Middlebury .flo files for the flow command and benchmark, through the Runtime's readers
    /// (FlowMap.Export.PngImage, FloFile); damaged or missing files become one-line <see cref="CliException"/>s.
    /// </summary>
    internal static class FlowIo
    {
        private static T Guarded<T>(string path, Func<T> read)
        {
            if (!File.Exists(path)) throw new CliException($"{path}: no such file.");
            try { return read(); }
            catch (Exception e) when (e is InvalidDataException || e is IOException || e is ArgumentException || e is InvalidOperationException)
            {
                throw new CliException($"{path}: not a readable image or flow file ({e.Message}).", 2, e);
            }
        }

        public static RgbImage ReadImage(string path) => Guarded(path, () => PngImage.ReadRgb(path));

        /// <summary>A mask PNG: 1 where the pixel is at least 128 (Sintel occlusion / invalid masks), else 0.</summary>
        public static FloatImage ReadMask(string path)
        {
            var m = Guarded(path, () => (Mask: PngImage.ReadMask(path, out int w, out int h), W: w, H: h));
            var img = new FloatImage(m.W, m.H);
            for (int i = 0; i < img.Data.Length; i++) img.Data[i] = m.Mask[i] ? 1 : 0;
            return img;
        }

        public static void WritePng(string path, RgbImage img) => PngImage.WriteRgb(path, img);

        /// <summary>A [0, 1] float image as an 8-bit grey PNG.</summary>
        public static void WriteGreyPng(string path, FloatImage img)
        {
            var px = new byte[img.Data.Length];
            for (int i = 0; i < px.Length; i++) px[i] = (byte)Math.Clamp(Math.Round(img.Data[i] * 255), 0, 255);
            PngImage.WriteGray8(path, new GrayImage(img.Width, img.Height, px));
        }

        public static void WriteFlo(string path, FlowField f) => FloFile.Write(path, f);

        public static FlowField ReadFlo(string path) => Guarded(path, () => FloFile.Read(path));
    }
}
