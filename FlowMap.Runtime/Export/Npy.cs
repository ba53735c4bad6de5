using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace FlowMap.Export
{
    /// <summary>
    /// NumPy <c>.npy</c> files of float32 (<c>&lt;f4</c>, C order), as written by <c>numpy.save</c>: depth maps
    /// (float[H, W], z-depth) and confidence maps (float[H, W] in [0, 1]). Format: the NumPy format specification
    /// (numpy.lib.format, versions 1.0 to 3.0): magic "\x93NUMPY", version, header length, a Python dict literal
    /// padded with spaces to a multiple of 64 bytes and ended by '\n', then the raw data.
    /// </summary>
    internal static class Npy
    {
        private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

        /// <summary>Largest element count accepted when reading (guards against absurd headers): 2^28 floats.</summary>
        public const long MaxElements = 1L << 28;

        /// <summary>Writes a float[H, W] map (shape (H, W), little-endian float32).</summary>
        public static void Write(string path, FloatImage image)
        {
            if (image == null) throw new ArgumentNullException(nameof(image));
            Write(path, image.Data, new[] { image.Height, image.Width });
        }

        /// <summary>Writes float32 data of the given C-order shape (product of shape = data length).</summary>
        public static void Write(string path, float[] data, int[] shape)
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            if (shape == null || shape.Length == 0) throw new ArgumentException("A shape with at least one dimension is needed.", nameof(shape));
            long n = 1;
            foreach (var d in shape)
            {
                if (d < 0) throw new ArgumentException($"Negative dimension in shape ({string.Join(", ", shape)}).", nameof(shape));
                n *= d;
            }
            if (n != data.Length) throw new ArgumentException($"Shape ({string.Join(", ", shape)}) holds {n} values, data has {data.Length}.", nameof(shape));

            string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
            string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
            // Version 1.0: 10-byte preamble + header; total padded to a multiple of 64, ending with '\n'.
            int headerLen = dict.Length + 1;
            int pad = (64 - (10 + headerLen) % 64) % 64;
            var header = dict + new string(' ', pad) + "\n";
            if (header.Length > ushort.MaxValue) throw new ArgumentException("Shape too long for an .npy 1.0 header.");
            BinaryIo.WriteAtomically(path, s =>
            {
                s.Write(Magic, 0, Magic.Length);
                s.WriteByte(1); s.WriteByte(0);
                s.WriteByte((byte)(header.Length & 0xFF)); s.WriteByte((byte)(header.Length >> 8));
                var hb = Encoding.ASCII.GetBytes(header);
                s.Write(hb, 0, hb.Length);
                BinaryIo.WriteFloats(s, data);
            });
        }

        /// <summary>Reads a 2-D float32 map as a FloatImage (shape (H, W) gives Width = W, Height = H).</summary>
        public static FloatImage ReadFloatImage(string path)
        {
            var (data, shape) = Read(path);
            if (shape.Length != 2) throw new InvalidDataException($"'{path}' holds an array of shape ({string.Join(", ", shape)}), expected 2-D (H, W).");
            if (shape[0] < 1 || shape[1] < 1) throw new InvalidDataException($"'{path}' holds an empty {shape[0]}x{shape[1]} array.");
            return new FloatImage(shape[1], shape[0], data);
        }

        /// <summary>
        /// Reads a float32 array (C order; little- or big-endian <c>f4</c>; <c>&lt;f8</c> is converted to float32).
        /// Throws InvalidDataException naming the file when the file is not an .npy, has another dtype, is Fortran-ordered
        /// or is truncated.
        /// </summary>
        public static (float[] Data, int[] Shape) Read(string path)
        {
            using var s = BinaryIo.OpenRead(path);
            var pre = new byte[8];
            BinaryIo.ReadExactly(s, pre, 0, 8, path, "the .npy preamble");
            for (int i = 0; i < Magic.Length; i++)
                if (pre[i] != Magic[i]) throw new InvalidDataException($"'{path}' is not a NumPy .npy file (bad magic).");
            int major = pre[6];
            int headerLen;
            if (major == 1)
            {
                var b = new byte[2]; BinaryIo.ReadExactly(s, b, 0, 2, path, "the .npy header length");
                headerLen = b[0] | (b[1] << 8);
            }
            else if (major == 2 || major == 3)
            {
                var b = new byte[4]; BinaryIo.ReadExactly(s, b, 0, 4, path, "the .npy header length");
                headerLen = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
                if (headerLen < 0 || headerLen > 1 << 20) throw new InvalidDataException($"'{path}': implausible .npy header length {headerLen}.");
            }
            else throw new InvalidDataException($"'{path}': unsupported .npy version {major}.{pre[7]}.");
            var hdr = new byte[headerLen];
            BinaryIo.ReadExactly(s, hdr, 0, headerLen, path, "the .npy header");
            var text = (major == 3 ? Encoding.UTF8 : Encoding.ASCII).GetString(hdr);

            var descr = Regex.Match(text, @"'descr'\s*:\s*'([^']*)'");
            var fortran = Regex.Match(text, @"'fortran_order'\s*:\s*(True|False)");
            var shapeM = Regex.Match(text, @"'shape'\s*:\s*\(([^)]*)\)");
            if (!descr.Success || !fortran.Success || !shapeM.Success)
                throw new InvalidDataException($"'{path}': malformed .npy header '{text.Trim()}'.");
            if (fortran.Groups[1].Value == "True")
                throw new InvalidDataException($"'{path}': Fortran-ordered arrays are not supported (save with C order).");
            string dt = descr.Groups[1].Value;
            bool isF4 = dt == "<f4" || dt == ">f4";
            bool isF8 = dt == "<f8" || dt == ">f8";
            if (!isF4 && !isF8) throw new InvalidDataException($"'{path}' holds dtype '{dt}', expected float32 '<f4'.");
            bool bigEndian = dt[0] == '>';

            var dims = shapeM.Groups[1].Value.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(x => x.Trim()).Where(x => x.Length > 0).ToArray();
            var shape = new int[dims.Length];
            long count = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                if (!int.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                    throw new InvalidDataException($"'{path}': bad dimension '{dims[i]}' in the .npy shape.");
                count *= shape[i];
                if (count > MaxElements) throw new InvalidDataException($"'{path}': array of shape ({shapeM.Groups[1].Value}) is larger than {MaxElements} elements.");
            }
            var data = new float[count];
            if (isF4)
            {
                BinaryIo.ReadFloats(s, data, 0, (int)count, path, "the .npy data");
                if (bigEndian == BitConverter.IsLittleEndian)
                    for (int i = 0; i < data.Length; i++) data[i] = BinaryIo.SwapFloat(data[i]);
            }
            else
            {
                var b = new byte[8];
                for (long i = 0; i < count; i++)
                {
                    BinaryIo.ReadExactly(s, b, 0, 8, path, $"the .npy data (value {i} of {count})");
                    if (bigEndian == BitConverter.IsLittleEndian) Array.Reverse(b);
                    data[i] = (float)BitConverter.ToDouble(b, 0);
                }
            }
            if (s.Position != s.Length)
                throw new InvalidDataException($"'{path}' has {s.Length - s.Position} bytes after the array of shape ({shapeM.Groups[1].Value}).");
            return (data, shape);
        }
    }
}
