using System;
using System.IO;

namespace FlowMap.Export
{
    /// <summary>
    /// Middlebury <c>.flo</c> optical flow files (Baker et al., "A Database and Evaluation Methodology for Optical Flow",
    /// flow-code README): float32 magic 202021.25 (the bytes "PIEH"), int32 width, int32 height, then float32 (u, v)
    /// interleaved, row-major, all little-endian. Values above <see cref="UnknownThreshold"/> in magnitude mean "unknown".
    /// </summary>
    internal static class FloFile
    {
        /// <summary>The magic number, stored as a float32 (bytes 'P','I','E','H').</summary>
        public const float Magic = 202021.25f;
        /// <summary>Flow components larger than this in magnitude mark an unknown flow vector (Middlebury convention).</summary>
        public const float UnknownThreshold = 1e9f;
        /// <summary>Largest width or height accepted (a sanity limit on the header).</summary>
        public const int MaxSide = 1 << 15;

        /// <summary>Writes a flow field (u, v in pixels, frame a to frame b).</summary>
        public static void Write(string path, FlowField flow)
        {
            if (flow == null) throw new ArgumentNullException(nameof(flow));
            BinaryIo.WriteAtomically(path, s =>
            {
                var header = new byte[12];
                BitConverter.GetBytes(BitConverter.IsLittleEndian ? Magic : BinaryIo.SwapFloat(Magic)).CopyTo(header, 0);
                WriteInt(header, 4, flow.Width);
                WriteInt(header, 8, flow.Height);
                s.Write(header, 0, 12);
                BinaryIo.WriteFloats(s, flow.Data);
            });
        }

        /// <summary>
        /// Reads a .flo file. Throws InvalidDataException naming the file when the magic is wrong, the size is not
        /// plausible (1..<see cref="MaxSide"/>), or the file is truncated or longer than its header says.
        /// </summary>
        public static FlowField Read(string path)
        {
            using var s = BinaryIo.OpenRead(path);
            var header = new byte[12];
            BinaryIo.ReadExactly(s, header, 0, 12, path, "the .flo header");
            float magic = BitConverter.ToSingle(header, 0);
            if (!BitConverter.IsLittleEndian) magic = BinaryIo.SwapFloat(magic);
            if (magic != Magic)
                throw new InvalidDataException($"'{path}' is not a Middlebury .flo file (magic {magic}, expected {Magic} 'PIEH').");
            int w = ReadInt(header, 4), h = ReadInt(header, 8);
            if (w < 1 || h < 1 || w > MaxSide || h > MaxSide)
                throw new InvalidDataException($"'{path}': implausible flow size {w}x{h} (allowed 1..{MaxSide} per side).");
            long expected = 12 + 8L * w * h;
            if (s.Length < expected)
                throw new InvalidDataException($"'{path}' is truncated: a {w}x{h} flow needs {expected} bytes, the file has {s.Length}.");
            if (s.Length > expected)
                throw new InvalidDataException($"'{path}' has {s.Length - expected} bytes more than a {w}x{h} flow needs.");
            var data = new float[2 * w * h];
            BinaryIo.ReadFloats(s, data, 0, data.Length, path, "the .flo data");
            return new FlowField(w, h, data);
        }

        /// <summary>True when (u, v) is a known flow vector (finite and not marked unknown).</summary>
        public static bool IsKnown(float u, float v) =>
            !float.IsNaN(u) && !float.IsNaN(v) && Math.Abs(u) <= UnknownThreshold && Math.Abs(v) <= UnknownThreshold;

        private static void WriteInt(byte[] b, int o, int v)
        {
            b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); b[o + 2] = (byte)(v >> 16); b[o + 3] = (byte)(v >> 24);
        }

        private static int ReadInt(byte[] b, int o) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
    }
}
