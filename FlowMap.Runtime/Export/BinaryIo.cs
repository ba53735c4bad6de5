using System;
using System.IO;
using System.Runtime.InteropServices;

namespace FlowMap.Export
{
    /// <summary>Little-endian float32 blocks and exact reads shared by the binary formats (works on netstandard2.1).</summary>
    internal static class BinaryIo
    {
        /// <summary>Reads exactly buffer.Length bytes or throws InvalidDataException naming the file (a truncated file).</summary>
        public static void ReadExactly(Stream s, byte[] buffer, int offset, int count, string path, string what)
        {
            int total = 0;
            while (total < count)
            {
                int n = s.Read(buffer, offset + total, count - total);
                if (n == 0)
                    throw new InvalidDataException($"'{path}' is truncated: {what} needs {count} bytes, the file ends after {total}.");
                total += n;
            }
        }

        /// <summary>Reads count little-endian float32 values, streaming in blocks.</summary>
        public static void ReadFloats(Stream s, float[] dst, int dstOffset, int count, string path, string what)
        {
            var buf = new byte[Math.Min(count, 1 << 16) * 4];
            int done = 0;
            while (done < count)
            {
                int n = Math.Min(count - done, buf.Length / 4);
                ReadExactly(s, buf, 0, n * 4, path, $"{what} (values {done}..{done + n - 1} of {count})");
                var src = MemoryMarshal.Cast<byte, float>(buf.AsSpan(0, n * 4));
                if (BitConverter.IsLittleEndian) src.CopyTo(dst.AsSpan(dstOffset + done, n));
                else for (int i = 0; i < n; i++) dst[dstOffset + done + i] = SwapFloat(src[i]);
                done += n;
            }
        }

        /// <summary>Writes float32 values little-endian.</summary>
        public static void WriteFloats(Stream s, ReadOnlySpan<float> src)
        {
            if (BitConverter.IsLittleEndian)
            {
                var bytes = MemoryMarshal.AsBytes(src);
                var buf = new byte[Math.Min(bytes.Length, 1 << 18)];
                for (int o = 0; o < bytes.Length; o += buf.Length)
                {
                    int n = Math.Min(buf.Length, bytes.Length - o);
                    bytes.Slice(o, n).CopyTo(buf);
                    s.Write(buf, 0, n);
                }
            }
            else
            {
                var b = new byte[4];
                foreach (var f in src)
                {
                    int bits = BitConverter.SingleToInt32Bits(f);
                    b[0] = (byte)bits; b[1] = (byte)(bits >> 8); b[2] = (byte)(bits >> 16); b[3] = (byte)(bits >> 24);
                    s.Write(b, 0, 4);
                }
            }
        }

        public static float SwapFloat(float f)
        {
            int bits = BitConverter.SingleToInt32Bits(f);
            bits = (int)(((uint)bits >> 24) | (((uint)bits >> 8) & 0xFF00u) | (((uint)bits << 8) & 0xFF0000u) | ((uint)bits << 24));
            return BitConverter.Int32BitsToSingle(bits);
        }

        /// <summary>Writes through a temporary file in the same folder and moves it into place, so a crash never leaves half a file.</summary>
        public static void WriteAtomically(string path, Action<Stream> write)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentException("No output path given.", nameof(path));
            var full = Path.GetFullPath(path);
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            var tmp = full + ".tmp" + Guid.NewGuid().ToString("N").Substring(0, 8);
            try
            {
                using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                    write(fs);
                if (File.Exists(full)) File.Delete(full);
                File.Move(tmp, full);
            }
            finally
            {
                if (File.Exists(tmp)) File.Delete(tmp);
            }
        }

        public static FileStream OpenRead(string path)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentException("No input path given.", nameof(path));
            if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
    }
}
