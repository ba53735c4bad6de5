using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.IO.Hashing;
using StbImageSharp;
using StbImageWriteSharp;

namespace FlowMap.Export
{
    /// <summary>An 8-bit single-channel image: byte[Height, Width] row-major (masks: 0 = no, 255 = yes).</summary>
    public sealed class GrayImage
    {
        public GrayImage(int width, int height, byte[] pixels)
        {
            if (width < 1 || height < 1) throw new ArgumentException($"Image size {width}x{height} is empty.");
            if (pixels == null) throw new ArgumentNullException(nameof(pixels));
            if (pixels.Length != checked(width * height)) throw new ArgumentException($"A {width}x{height} image needs {width * height} bytes, got {pixels.Length}.");
            Width = width; Height = height; Pixels = pixels;
        }

        public int Width { get; }
        public int Height { get; }
        public byte[] Pixels { get; }
        public byte this[int x, int y] => Pixels[y * Width + x];
    }

    /// <summary>
    /// Image files: 8-bit RGB PNG/JPEG reading (StbImageSharp) and PNG writing (StbImageWriteSharp), 8-bit masks, and
    /// 16-bit grayscale PNG reading (depth maps; decoded here). Damage is an InvalidDataException naming the file, never a
    /// silently wrong image: PNG chunk CRCs, the zlib Adler-32 and the IEND chunk are checked, and a JPEG must end with
    /// its end-of-image marker (a cut JPEG would otherwise decode with a grey bottom).
    /// </summary>
    public static class PngImage
    {
        /// <summary>Largest width or height accepted when reading.</summary>
        public const int MaxSide = 1 << 14;

        private static readonly byte[] PngSignature = { 137, 80, 78, 71, 13, 10, 26, 10 };

        /// <summary>Reads an 8-bit RGB image from a PNG or JPEG file (grey and alpha are converted to RGB).</summary>
        public static RgbImage ReadRgb(string path) => DecodeRgb(ReadAll(path), path);

        /// <summary>Decodes PNG or JPEG bytes; <paramref name="name"/> is used in messages.</summary>
        public static RgbImage DecodeRgb(byte[] bytes, string name)
        {
            var img = Decode(bytes, name, StbImageSharp.ColorComponents.RedGreenBlue);
            return new RgbImage(img.Width, img.Height, img.Data);
        }

        /// <summary>Reads an 8-bit single-channel image (a colour file is converted to luminance).</summary>
        public static GrayImage ReadGray8(string path)
        {
            var img = Decode(ReadAll(path), path, StbImageSharp.ColorComponents.Grey);
            return new GrayImage(img.Width, img.Height, img.Data);
        }

        /// <summary>Reads a mask: true where the pixel value is at least 128 (Sintel occlusion/invalid masks: 255 = set).</summary>
        public static bool[] ReadMask(string path, out int width, out int height)
        {
            var g = ReadGray8(path);
            width = g.Width; height = g.Height;
            var m = new bool[g.Pixels.Length];
            for (int i = 0; i < m.Length; i++) m[i] = g.Pixels[i] >= 128;
            return m;
        }

        /// <summary>Writes an 8-bit RGB PNG.</summary>
        public static void WriteRgb(string path, RgbImage image)
        {
            if (image == null) throw new ArgumentNullException(nameof(image));
            WritePng(path, image.Pixels, image.Width, image.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue);
        }

        /// <summary>Writes an 8-bit grayscale PNG.</summary>
        public static void WriteGray8(string path, GrayImage image)
        {
            if (image == null) throw new ArgumentNullException(nameof(image));
            WritePng(path, image.Pixels, image.Width, image.Height, StbImageWriteSharp.ColorComponents.Grey);
        }

        /// <summary>Writes a mask as an 8-bit grayscale PNG: 255 where set, 0 elsewhere (bool[Height, Width] row-major).</summary>
        public static void WriteMask(string path, bool[] mask, int width, int height)
        {
            if (mask == null) throw new ArgumentNullException(nameof(mask));
            if (width < 1 || height < 1 || mask.Length != (long)width * height)
                throw new ArgumentException($"A {width}x{height} mask needs {(long)width * height} values, got {mask.Length}.");
            var px = new byte[mask.Length];
            for (int i = 0; i < px.Length; i++) px[i] = mask[i] ? (byte)255 : (byte)0;
            WritePng(path, px, width, height, StbImageWriteSharp.ColorComponents.Grey);
        }

        private static void WritePng(string path, byte[] px, int w, int h, StbImageWriteSharp.ColorComponents comp)
        {
            BinaryIo.WriteAtomically(path, s => new ImageWriter().WritePng(px, w, h, comp, s));
        }

        /// <summary>
        /// Reads a 16-bit grayscale PNG (non-interlaced; e.g. depth in millimetres): ushort[Height, Width] row-major.
        /// An 8-bit grayscale PNG is accepted too (values 0..255).
        /// </summary>
        public static ushort[] ReadGray16(string path, out int width, out int height)
        {
            var bytes = ReadAll(path);
            var (w, h, depth, colorType, interlace, idat) = ParsePng(bytes, path);
            if (colorType != 0 || (depth != 16 && depth != 8))
                throw new InvalidDataException($"'{path}' is a PNG of colour type {colorType} at {depth} bits; expected 16-bit grayscale.");
            if (interlace != 0) throw new InvalidDataException($"'{path}': interlaced 16-bit PNGs are not supported.");
            int bpp = depth / 8, stride = w * bpp;
            var raw = Inflate(idat, path, (long)(stride + 1) * h);
            var cur = new byte[stride];
            var prev = new byte[stride];
            var result = new ushort[w * h];
            for (int y = 0; y < h; y++)
            {
                int o = y * (stride + 1);
                int filter = raw[o];
                Buffer.BlockCopy(raw, o + 1, cur, 0, stride);
                Unfilter(filter, cur, prev, bpp, path, y);
                for (int x = 0; x < w; x++)
                    result[y * w + x] = depth == 16 ? (ushort)((cur[2 * x] << 8) | cur[2 * x + 1]) : cur[x];
                var t = prev; prev = cur; cur = t;
            }
            width = w; height = h;
            return result;
        }

        // PNG specification (W3C, 2nd ed.), section 9: scanline filters 0..4; Paeth predictor from section 9.4.
        private static void Unfilter(int filter, byte[] cur, byte[] prev, int bpp, string path, int y)
        {
            int n = cur.Length;
            switch (filter)
            {
                case 0: break;
                case 1: for (int i = bpp; i < n; i++) cur[i] += cur[i - bpp]; break;
                case 2: for (int i = 0; i < n; i++) cur[i] += prev[i]; break;
                case 3:
                    for (int i = 0; i < n; i++) cur[i] += (byte)(((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
                    break;
                case 4:
                    for (int i = 0; i < n; i++)
                    {
                        int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                        cur[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                    }
                    break;
                default: throw new InvalidDataException($"'{path}': bad PNG filter type {filter} on row {y}.");
            }
        }

        private static byte[] Inflate(byte[] zlib, string path, long expected)
        {
            if (zlib.Length < 6 || (zlib[0] & 0x0F) != 8 || ((zlib[0] << 8) | zlib[1]) % 31 != 0 || (zlib[1] & 0x20) != 0)
                throw new InvalidDataException($"'{path}': PNG image data is not a valid zlib stream.");
            var result = new byte[expected];
            int got = 0;
            try
            {
                using var ds = new DeflateStream(new MemoryStream(zlib, 2, zlib.Length - 6), CompressionMode.Decompress);
                while (got < expected)
                {
                    int n = ds.Read(result, got, (int)Math.Min(expected - got, 1 << 20));
                    if (n == 0) break;
                    got += n;
                }
            }
            catch (InvalidDataException e) { throw new InvalidDataException($"'{path}': PNG image data is corrupt ({e.Message}).", e); }
            if (got < expected) throw new InvalidDataException($"'{path}': PNG image data holds {got} of {expected} bytes (truncated).");
            // Adler-32 of the uncompressed data (RFC 1950).
            uint a = 1, b = 0;
            for (int i = 0; i < result.Length; i++) { a = (a + result[i]) % 65521; b = (b + a) % 65521; }
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(zlib.AsSpan(zlib.Length - 4));
            if (((b << 16) | a) != stored) throw new InvalidDataException($"'{path}': PNG image data fails its Adler-32 check (corrupt).");
            return result;
        }

        /// <summary>Walks the PNG chunks, checking every CRC and the IEND chunk; returns the header and the joined IDAT data.</summary>
        private static (int W, int H, int Depth, int ColorType, int Interlace, byte[] Idat) ParsePng(byte[] bytes, string path)
        {
            if (!IsPng(bytes)) throw new InvalidDataException($"'{path}' is not a PNG file.");
            int pos = 8, w = 0, h = 0, depth = 0, ct = 0, il = 0;
            bool sawHeader = false;
            var idat = new MemoryStream();
            while (true)
            {
                if (pos + 12 > bytes.Length) throw new InvalidDataException($"'{path}' is truncated: the PNG ends at byte {bytes.Length} without its IEND chunk.");
                uint len = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos));
                if (len > int.MaxValue || pos + 12 + (long)len > bytes.Length)
                    throw new InvalidDataException($"'{path}' is truncated: a PNG chunk of {len} bytes at byte {pos} runs past the end of the file ({bytes.Length} bytes).");
                var typeAndData = bytes.AsSpan(pos + 4, 4 + (int)len);
                uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos + 8 + (int)len));
                if (Crc32.HashToUInt32(typeAndData) != crc)
                    throw new InvalidDataException($"'{path}' is corrupt: PNG chunk '{System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4)}' at byte {pos} fails its CRC.");
                string type = System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4);
                var data = bytes.AsSpan(pos + 8, (int)len);
                if (type == "IHDR")
                {
                    if (len != 13) throw new InvalidDataException($"'{path}': bad PNG header chunk.");
                    w = (int)BinaryPrimitives.ReadUInt32BigEndian(data); h = (int)BinaryPrimitives.ReadUInt32BigEndian(data.Slice(4));
                    depth = data[8]; ct = data[9]; il = data[12];
                    if (w < 1 || h < 1 || w > MaxSide || h > MaxSide) throw new InvalidDataException($"'{path}': implausible PNG size {w}x{h}.");
                    sawHeader = true;
                }
                else if (type == "IDAT") idat.Write(bytes, pos + 8, (int)len);
                else if (type == "IEND")
                {
                    if (!sawHeader) throw new InvalidDataException($"'{path}': PNG has no header chunk.");
                    return (w, h, depth, ct, il, idat.ToArray());
                }
                pos += 12 + (int)len;
            }
        }

        private static bool IsPng(byte[] b)
        {
            if (b.Length < 8) return false;
            for (int i = 0; i < 8; i++) if (b[i] != PngSignature[i]) return false;
            return true;
        }

        private static bool IsJpeg(byte[] b) => b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;

        /// <summary>Checks the container (PNG chunks and CRCs; JPEG end marker), then decodes with StbImageSharp.</summary>
        private static ImageResult Decode(byte[] bytes, string name, StbImageSharp.ColorComponents comp)
        {
            if (IsPng(bytes)) ParsePng(bytes, name);
            else if (IsJpeg(bytes))
            {
                // A complete JPEG ends with the EOI marker FF D9 (possibly followed by a little padding).
                int end = bytes.Length - 1;
                while (end > 1 && bytes.Length - end < 64 && bytes[end] != 0xD9) end--;
                if (!(bytes[end] == 0xD9 && bytes[end - 1] == 0xFF))
                    throw new InvalidDataException($"'{name}' is truncated: the JPEG has no end-of-image marker.");
            }
            else if (bytes.Length == 0) throw new InvalidDataException($"'{name}' is empty.");
            ImageResult img;
            try { img = ImageResult.FromMemory(bytes, comp); }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                throw new InvalidDataException($"'{name}' cannot be decoded as an image: {e.Message}", e);
            }
            if (img == null || img.Data == null || img.Width < 1 || img.Height < 1)
                throw new InvalidDataException($"'{name}' cannot be decoded as an image.");
            if (img.Width > MaxSide || img.Height > MaxSide) throw new InvalidDataException($"'{name}': implausible image size {img.Width}x{img.Height}.");
            return img;
        }

        private static byte[] ReadAll(string path)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentException("No image path given.", nameof(path));
            if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
            return File.ReadAllBytes(path);
        }
    }
}
