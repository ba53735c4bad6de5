using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.IO.Hashing;
using System.Linq;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Export
{
    public sealed class PngImageTests
    {
        internal static RgbImage RandomImage(Random r, int w, int h)
        {
            var px = new byte[w * h * 3];
            r.NextBytes(px);
            return new RgbImage(w, h, px);
        }

        [Fact]
        public void Rgb_and_mask_round_trip_exactly()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var img = RandomImage(r, 37, 23);
            PngImage.WriteRgb(tmp.File("c.png"), img);
            var back = PngImage.ReadRgb(tmp.File("c.png"));
            Assert.Equal(37, back.Width);
            Assert.Equal(23, back.Height);
            Assert.True(img.Pixels.AsSpan().SequenceEqual(back.Pixels), $"seed {seed}");

            var mask = new bool[37 * 23];
            for (int i = 0; i < mask.Length; i++) mask[i] = r.Next(3) == 0;
            PngImage.WriteMask(tmp.File("m.png"), mask, 37, 23);
            Assert.Equal(mask, PngImage.ReadMask(tmp.File("m.png"), out int w, out int h));
            Assert.Equal((37, 23), (w, h));
            var gray = PngImage.ReadGray8(tmp.File("m.png"));
            Assert.Equal(mask[5] ? 255 : 0, gray.Pixels[5]);
        }

        /// <summary>A 16-bit grayscale PNG encoded here with every scanline filter type, to check the decoder's unfiltering.</summary>
        private static byte[] Encode16(ushort[] v, int w, int h)
        {
            int stride = 2 * w;
            var raw = new MemoryStream();
            var prev = new byte[stride];
            for (int y = 0; y < h; y++)
            {
                var cur = new byte[stride];
                for (int x = 0; x < w; x++) BinaryPrimitives.WriteUInt16BigEndian(cur.AsSpan(2 * x), v[y * w + x]);
                int f = y % 5;
                raw.WriteByte((byte)f);
                for (int i = 0; i < stride; i++)
                {
                    int a = i >= 2 ? cur[i - 2] : 0, b = prev[i], c = i >= 2 ? prev[i - 2] : 0;
                    int pred = f switch
                    {
                        0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2,
                        _ => Math.Abs(b - c) <= Math.Abs(a - c) && Math.Abs(b - c) <= Math.Abs(a + b - 2 * c) ? a : Math.Abs(a - c) <= Math.Abs(a + b - 2 * c) ? b : c,
                    };
                    raw.WriteByte((byte)(cur[i] - pred));
                }
                prev = cur;
            }
            var z = new MemoryStream();
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
            var png = new MemoryStream();
            png.Write(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
            var ihdr = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(ihdr, w); BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
            ihdr[8] = 16; ihdr[9] = 0;
            Chunk(png, "IHDR", ihdr); Chunk(png, "IDAT", z.ToArray()); Chunk(png, "IEND", Array.Empty<byte>());
            return png.ToArray();
        }

        private static void Chunk(Stream s, string type, byte[] data)
        {
            var len = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(len, data.Length); s.Write(len);
            var td = new byte[4 + data.Length];
            System.Text.Encoding.ASCII.GetBytes(type).CopyTo(td, 0); data.CopyTo(td, 4);
            s.Write(td);
            var crc = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(td)); s.Write(crc);
        }

        [Fact]
        public void Sixteen_bit_grayscale_decodes_every_filter_type()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            int w = 29, h = 17;
            var v = new ushort[w * h];
            for (int i = 0; i < v.Length; i++) v[i] = (ushort)r.Next(65536);
            File.WriteAllBytes(tmp.File("d16.png"), Encode16(v, w, h));
            var back = PngImage.ReadGray16(tmp.File("d16.png"), out int bw, out int bh);
            Assert.Equal((w, h), (bw, bh));
            Assert.True(v.AsSpan().SequenceEqual(back), $"seed {seed}");
        }

        [Fact]
        public void Sixteen_bit_ICL_NUIM_depth_matches_OpenCV()
        {
            var icl = Repo.SharedData("icl_nuim_livingroom1");
            if (icl == null) Assert.Skip("../shared/data/icl_nuim_livingroom1 is absent.");
            if (!ExternalTools.PythonHas("cv2", "numpy")) Assert.Skip("/usr/bin/python3 with OpenCV is not installed (Debian python3-opencv).");
            var path = Path.Combine(icl, "depth", "00010.png");
            var d = PngImage.ReadGray16(path, out int w, out int h);
            var (code, stdout, stderr) = ExternalTools.PythonScript(
                "import cv2, sys\nd = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)\nprint(d.dtype, d.shape[1], d.shape[0], int(d.astype('int64').sum()), int(d[100, 200]), int(d[479, 639]))", path);
            Assert.True(code == 0, stderr);
            long sum = 0; foreach (var x in d) sum += x;
            Assert.Equal($"uint16 {w} {h} {sum} {d[100 * w + 200]} {d[479 * w + 639]}", stdout.Trim());
        }

        private static RgbImage Smooth(int w, int h, int seed)
        {
            var r = new Random(seed);
            var img = new RgbImage(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < 3; c++)
                        img.Pixels[3 * (y * w + x) + c] = (byte)(x * (c + 1) + y * 2 + (int)(40 * Math.Sin(0.1 * x * y + c)) + r.Next(3));
            return img;
        }

        private static void AssertMatchesStb(string path)
        {
            var bytes = File.ReadAllBytes(path);
            var stb = StbImageSharp.ImageResult.FromMemory(bytes, StbImageSharp.ColorComponents.RedGreenBlue);
            var ours = PngImage.ReadRgb(path);
            Assert.Equal((stb.Width, stb.Height), (ours.Width, ours.Height));
            Assert.True(stb.Data.AsSpan().SequenceEqual(ours.Pixels), $"{Path.GetFileName(path)}: RGB differs from StbImageSharp");
            var stbGrey = StbImageSharp.ImageResult.FromMemory(bytes, StbImageSharp.ColorComponents.Grey);
            Assert.True(stbGrey.Data.AsSpan().SequenceEqual(PngImage.ReadGray8(path).Pixels), $"{Path.GetFileName(path)}: grey differs from StbImageSharp");
        }

        /// <summary>The zlib-based PNG decoder must give exactly StbImageSharp's pixels, whatever the filters, channels and sizes.</summary>
        [Fact]
        public void Fast_PNG_decoding_matches_StbImageSharp_exactly()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            int k = 0;
            foreach (var (w, h) in new[] { (1, 1), (37, 23), (200, 3), (3, 90) })
            {
                var noise = RandomImage(r, w, h);
                var smooth = Smooth(w, h, seed + k);
                foreach (var img in new[] { noise, smooth })
                {
                    PngImage.WriteRgb(tmp.File($"rgb{k}.png"), img);
                    AssertMatchesStb(tmp.File($"rgb{k}.png"));
                    PngImage.WriteGray8(tmp.File($"g{k}.png"), new GrayImage(w, h, img.Pixels.Where((_, i) => i % 3 == 1).ToArray()));
                    AssertMatchesStb(tmp.File($"g{k}.png"));
                    var rgba = new byte[w * h * 4];
                    for (int i = 0; i < w * h; i++) { rgba[4 * i] = img.Pixels[3 * i]; rgba[4 * i + 1] = img.Pixels[3 * i + 1]; rgba[4 * i + 2] = img.Pixels[3 * i + 2]; rgba[4 * i + 3] = (byte)i; }
                    using (var fs = File.Create(tmp.File($"a{k}.png")))
                        new StbImageWriteSharp.ImageWriter().WritePng(rgba, w, h, StbImageWriteSharp.ColorComponents.RedGreenBlueAlpha, fs);
                    AssertMatchesStb(tmp.File($"a{k}.png"));
                    k++;
                }
            }
            // libpng-written files (ImageMagick): palette, grey+alpha, interlaced (the last decoded by StbImageSharp).
            var convert = ExternalTools.Which("convert");
            if (convert != null)
            {
                PngImage.WriteRgb(tmp.File("src.png"), Smooth(64, 40, seed));
                foreach (var (name, args) in new[] { ("pal.png", new[] { "-colors", "16", "PNG8:" }), ("ga.png", new[] { "-colorspace", "Gray", "-alpha", "on", "-define", "png:color-type=4", "" }),
                                                     ("il.png", new[] { "-interlace", "PNG", "" }) })
                {
                    var a = new[] { tmp.File("src.png") }.Concat(args.Take(args.Length - 1)).Append(args[^1] + tmp.File(name)).ToArray();
                    var (code, _, err) = ExternalTools.Run(convert, a);
                    Assert.True(code == 0, err);
                    AssertMatchesStb(tmp.File(name));
                }
            }
            var sintel = Repo.SharedData("sintel");
            if (sintel != null)
            {
                AssertMatchesStb(Path.Combine(sintel, "final", "cave_2", "frame_0001.png"));
                AssertMatchesStb(Path.Combine(sintel, "occlusions", "cave_2", "frame_0002.png"));
            }
            if (convert == null || sintel == null) Assert.Skip("partly skipped: " + (convert == null ? "ImageMagick convert is not installed; " : "") + (sintel == null ? "../shared/data/sintel is absent" : ""));
        }

        [Fact]
        public void Corrupt_and_truncated_images_are_errors_naming_the_file()
        {
            using var tmp = new TempDir();
            var img = RandomImage(new Random(3), 40, 30);
            var png = tmp.File("good.png");
            PngImage.WriteRgb(png, img);
            var bytes = File.ReadAllBytes(png);

            var cut = tmp.File("cut.png");
            File.WriteAllBytes(cut, bytes.AsSpan(0, bytes.Length * 2 / 3).ToArray());
            var e = Assert.Throws<InvalidDataException>(() => PngImage.ReadRgb(cut));
            Assert.Contains("cut.png", e.Message);
            Assert.Contains("truncated", e.Message);

            var flipped = (byte[])bytes.Clone();
            flipped[bytes.Length / 2] ^= 0x40; // inside IDAT
            var bad = tmp.File("bad.png");
            File.WriteAllBytes(bad, flipped);
            Assert.Contains("bad.png", Assert.Throws<InvalidDataException>(() => PngImage.ReadRgb(bad)).Message);

            var jpg = tmp.File("good.jpg");
            using (var fs = File.Create(jpg)) new StbImageWriteSharp.ImageWriter().WriteJpg(img.Pixels, 40, 30, StbImageWriteSharp.ColorComponents.RedGreenBlue, fs, 90);
            Assert.Equal(40, PngImage.ReadRgb(jpg).Width);
            var jb = File.ReadAllBytes(jpg);
            var padded = tmp.File("padded.jpg");   // data appended after the end marker (some cameras do this) is fine
            File.WriteAllBytes(padded, jb.Concat(Enumerable.Repeat((byte)0x55, 500)).ToArray());
            Assert.True(PngImage.ReadRgb(jpg).Pixels.AsSpan().SequenceEqual(PngImage.ReadRgb(padded).Pixels));
            var cutJpg = tmp.File("cut.jpg");
            File.WriteAllBytes(cutJpg, jb.AsSpan(0, jb.Length - 100).ToArray());
            var je = Assert.Throws<InvalidDataException>(() => PngImage.ReadRgb(cutJpg));
            Assert.Contains("cut.jpg", je.Message);

            var junk = tmp.File("junk.png");
            File.WriteAllText(junk, "not an image at all");
            Assert.Contains("junk.png", Assert.Throws<InvalidDataException>(() => PngImage.ReadRgb(junk)).Message);
        }
    }
}
