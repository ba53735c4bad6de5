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
    internal sealed class GrayImage
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
    internal static class PngImage
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
            var png = ParsePng(bytes, path);
            if (png.ColorType != 0 || (png.Depth != 16 && png.Depth != 8))
                throw new InvalidDataException($"'{path}' is a PNG of colour type {png.ColorType} at {png.Depth} bits; expected 16-bit grayscale.");
            if (png.Interlace != 0) throw new InvalidDataException($"'{path}': interlaced 16-bit PNGs are not supported.");
            int w = png.W, h = png.H, bpp = png.Depth / 8, stride = w * bpp;
            var raw = Inflate(png.Idat, path, (long)(stride + 1) * h);
            UnfilterInPlace(raw, h, stride, bpp, path);
            var result = new ushort[w * h];
            for (int y = 0; y < h; y++)
            {
                int o = y * (stride + 1) + 1;
                for (int x = 0; x < w; x++)
                    result[y * w + x] = bpp == 2 ? (ushort)((raw[o + 2 * x] << 8) | raw[o + 2 * x + 1]) : raw[o + x];
            }
            width = w; height = h;
            return result;
        }

        /// <summary>
        /// Decodes a non-interlaced 8-bit PNG (grey, grey+alpha, RGB, RGBA or 8-bit palette) with the platform's zlib, several
        /// times faster than the managed decoder; alpha is dropped as StbImageSharp drops it. Returns null for other kinds
        /// (the caller falls back to StbImageSharp), and for colour images when grey output is wanted (luminance is stb's).
        /// </summary>
        private static byte[]? DecodePng8(PngInfo png, string name, int outChannels)
        {
            if (png.Depth != 8 || png.Interlace != 0) return null;
            int channels = png.ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
            if (channels == 0) return null;
            bool colour = png.ColorType == 2 || png.ColorType == 3 || png.ColorType == 6;
            if (outChannels == 1 && colour) return null;
            if (png.ColorType == 3 && (png.Palette == null || png.Palette.Length % 3 != 0)) throw new InvalidDataException($"'{name}': palette PNG without a valid PLTE chunk.");
            int w = png.W, h = png.H, stride = w * channels;
            var raw = Inflate(png.Idat, name, (long)(stride + 1) * h);
            UnfilterInPlace(raw, h, stride, channels, name);
            var px = new byte[(long)w * h * outChannels];
            var pal = png.Palette;
            int entries = pal == null ? 0 : pal.Length / 3;
            for (int y = 0; y < h; y++)
            {
                int o = y * (stride + 1) + 1, d = y * w * outChannels;
                switch (png.ColorType)
                {
                    case 2:
                        Buffer.BlockCopy(raw, o, px, d, stride);
                        break;
                    case 6:
                        for (int x = 0; x < w; x++) { px[d + 3 * x] = raw[o + 4 * x]; px[d + 3 * x + 1] = raw[o + 4 * x + 1]; px[d + 3 * x + 2] = raw[o + 4 * x + 2]; }
                        break;
                    case 3:
                        for (int x = 0; x < w; x++)
                        {
                            int i = raw[o + x];
                            if (i >= entries) throw new InvalidDataException($"'{name}': palette index {i} outside its {entries} entries.");
                            px[d + 3 * x] = pal![3 * i]; px[d + 3 * x + 1] = pal[3 * i + 1]; px[d + 3 * x + 2] = pal[3 * i + 2];
                        }
                        break;
                    default: // grey (0) or grey+alpha (4)
                        int step = channels;
                        if (outChannels == 1)
                            for (int x = 0; x < w; x++) px[d + x] = raw[o + step * x];
                        else
                            for (int x = 0; x < w; x++) { byte g = raw[o + step * x]; px[d + 3 * x] = g; px[d + 3 * x + 1] = g; px[d + 3 * x + 2] = g; }
                        break;
                }
            }
            return px;
        }

        /// <summary>
        /// Reverses the scanline filters in place; row y's filter byte is at y (stride + 1), its data follows
        /// (PNG specification, W3C 2nd ed., section 9; Paeth predictor from section 9.4).
        /// </summary>
        private static unsafe void UnfilterInPlace(byte[] raw, int h, int stride, int bpp, string path)
        {
            fixed (byte* basePtr = raw)
            {
                for (int y = 0; y < h; y++)
                {
                    byte* row = basePtr + (long)y * (stride + 1) + 1;
                    byte* prev = row - (stride + 1); // only read when y > 0
                    int filter = row[-1];
                    bool first = y == 0;
                    switch (filter)
                    {
                        case 0: break;
                        case 1:
                            for (int i = bpp; i < stride; i++) row[i] = (byte)(row[i] + row[i - bpp]);
                            break;
                        case 2:
                            if (!first) for (int i = 0; i < stride; i++) row[i] = (byte)(row[i] + prev[i]);
                            break;
                        case 3:
                            if (first)
                                for (int i = bpp; i < stride; i++) row[i] = (byte)(row[i] + (row[i - bpp] >> 1));
                            else
                            {
                                for (int i = 0; i < bpp; i++) row[i] = (byte)(row[i] + (prev[i] >> 1));
                                for (int i = bpp; i < stride; i++) row[i] = (byte)(row[i] + ((row[i - bpp] + prev[i]) >> 1));
                            }
                            break;
                        case 4:
                            if (first)
                                for (int i = bpp; i < stride; i++) row[i] = (byte)(row[i] + row[i - bpp]); // Paeth with b = c = 0 picks a
                            else
                            {
                                for (int i = 0; i < bpp; i++) row[i] = (byte)(row[i] + prev[i]);      // a = c = 0 picks b
                                for (int i = bpp; i < stride; i++)
                                {
                                    int a = row[i - bpp], b = prev[i], c = prev[i - bpp];
                                    int pa = b - c, pb = a - c, pc = pa + pb;
                                    pa = pa < 0 ? -pa : pa; pb = pb < 0 ? -pb : pb; pc = pc < 0 ? -pc : pc;
                                    row[i] = (byte)(row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
                                }
                            }
                            break;
                        default: throw new InvalidDataException($"'{path}': bad PNG filter type {filter} on row {y}.");
                    }
                }
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
            for (int i = 0; i < result.Length;)
            {
                int end = Math.Min(result.Length, i + 5552); // the largest run without overflow before the modulo (zlib's NMAX)
                for (; i < end; i++) { a += result[i]; b += a; }
                a %= 65521; b %= 65521;
            }
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(zlib.AsSpan(zlib.Length - 4));
            if (((b << 16) | a) != stored) throw new InvalidDataException($"'{path}': PNG image data fails its Adler-32 check (corrupt).");
            return result;
        }

        /// <summary>Walks the PNG chunks, checking every CRC and the IEND chunk; returns the header and the joined IDAT data.</summary>
        private sealed record PngInfo(int W, int H, int Depth, int ColorType, int Interlace, byte[] Idat, byte[]? Palette);

        private static PngInfo ParsePng(byte[] bytes, string path)
        {
            if (!IsPng(bytes)) throw new InvalidDataException($"'{path}' is not a PNG file.");
            int pos = 8, w = 0, h = 0, depth = 0, ct = 0, il = 0;
            bool sawHeader = false;
            byte[]? palette = null;
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
                else if (type == "PLTE") palette = data.ToArray();
                else if (type == "IEND")
                {
                    if (!sawHeader) throw new InvalidDataException($"'{path}': PNG has no header chunk.");
                    return new PngInfo(w, h, depth, ct, il, idat.ToArray(), palette);
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


        /// <summary>Checks the container (PNG chunks and CRCs; JPEG end marker), then decodes with StbImageSharp.</summary>
        private static ImageResult Decode(byte[] bytes, string name, StbImageSharp.ColorComponents comp)
        {
            if (IsPng(bytes))
            {
                var png = ParsePng(bytes, name);
                int outChannels = comp == StbImageSharp.ColorComponents.Grey ? 1 : 3;
                var fast = DecodePng8(png, name, outChannels);
                if (fast != null)
                    return new ImageResult { Width = png.W, Height = png.H, Data = fast, Comp = comp, SourceComp = comp };
            }
            else if (JpegMarkers.IsJpeg(bytes))
            {
                // Every segment inside the file and the end-of-image marker after the last scan (a cut JPEG would decode
                // with a grey bottom, and a segment length past the end hangs StbImageSharp's parser). Data after the
                // marker (some cameras append it) is allowed.
                JpegMarkers.Check(bytes, name);
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
            try { return File.ReadAllBytes(path); }
            catch (Exception e) when (e is FileNotFoundException || e is DirectoryNotFoundException)
            {
                // File.Exists is true for a symbolic link whose target is gone; the read then fails with the runtime's wording.
                throw new FileNotFoundException($"'{path}' does not exist (a link to a missing file?).", path, e);
            }
        }
    }
}
