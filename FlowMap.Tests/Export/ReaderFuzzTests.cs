using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using CsCheck;
using FlowMap.Capture.Sessions;
using FlowMap.Datasets;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Export
{
    /// <summary>
    /// Property tests of every reader of outside data (issue 13): fed truncated, bit-flipped, overwritten, token-spliced
    /// and random versions of a valid file, each reader returns a result or throws its documented
    /// <see cref="InvalidDataException"/> with a message; any other exception type (IndexOutOfRange, Overflow,
    /// OutOfMemory, NullReference, ArgumentException, ...) fails the test with the input that caused it.
    /// Budget: <see cref="Iterations"/> inputs per reader (200 in the normal suite); FLOWMAP_FUZZ_ITERATIONS raises it
    /// (README: the long fuzz run), FLOWMAP_FUZZ_SEED repeats a CsCheck seed it printed.
    /// </summary>
    public sealed class ReaderFuzzTests
    {
        private static long Iterations =>
            long.TryParse(Environment.GetEnvironmentVariable("FLOWMAP_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 200;

        private static string? Seed => Environment.GetEnvironmentVariable("FLOWMAP_FUZZ_SEED") is { Length: > 0 } s ? s : null;

        /// <summary>Text tokens that break parsers written for well-formed numbers.</summary>
        private static readonly string[] Tokens =
        {
            "nan", "NaN", "inf", "-inf", "Infinity", "-1", "0", "1e308", "-1e308", "1e-320", "99999999999999999999", "2147483648",
            "-2147483649", "", " ", "\n", "\t", "#", "\"", "{", "}", "[", "]", ",", ":", "null", "true", "x", "\0", "é",
        };

        /// <summary>Damaged versions of <paramref name="valid"/>: cut, bits flipped, a run overwritten, a token spliced in, random bytes, a random tail.</summary>
        private static Gen<byte[]> Damaged(byte[] valid)
        {
            int n = valid.Length;
            var truncated = Gen.Int[0, n - 1].Select(k => valid[..k]);
            var flipped = Gen.Select(Gen.Int[0, n - 1].Array[1, 4], Gen.Int[0, 7].Array[4], (at, bits) =>
            {
                var b = (byte[])valid.Clone();
                for (int i = 0; i < at.Length; i++) b[at[i]] ^= (byte)(1 << bits[i]);
                return b;
            });
            var overwritten = Gen.Select(Gen.Int[0, n - 1], Gen.Byte.Array[1, 24], (at, junk) =>
            {
                var b = (byte[])valid.Clone();
                for (int i = 0; i < junk.Length && at + i < n; i++) b[at + i] = junk[i];
                return b;
            });
            var spliced = Gen.Select(Gen.Int[0, n], Gen.Int[0, 8], Gen.Int[0, Tokens.Length - 1], (at, drop, t) =>
                valid[..at].Concat(Encoding.UTF8.GetBytes(Tokens[t])).Concat(valid[Math.Min(n, at + drop)..]).ToArray());
            var random = Gen.Byte.Array[0, 2 * n + 16];
            var tail = Gen.Select(Gen.Int[0, n], Gen.Byte.Array[0, 64], (k, junk) => valid[..k].Concat(junk).ToArray());
            return Gen.OneOf(truncated, flipped, overwritten, spliced, spliced, random, tail);
        }

        /// <summary>Runs <paramref name="read"/> on each damaged input written to <paramref name="file"/>.</summary>
        private static void Fuzz(string file, byte[] valid, Action<string> read)
        {
            Damaged(valid).Sample(bytes =>
            {
                File.WriteAllBytes(file, bytes);
                try { read(file); }
                catch (InvalidDataException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message), "an InvalidDataException without a message");
                }
            }, seed: Seed, iter: Iterations, threads: 1, print: b => $"{b.Length} bytes: {Convert.ToBase64String(b)}");
        }

        [Fact]
        public void Png_decoding()
        {
            using var tmp = new TempDir();
            var png = tmp.File("a.png");
            PngImage.WriteRgb(png, IssueInputs.Textured(13, 7));
            Fuzz(tmp.File("d.png"), File.ReadAllBytes(png), p => PngImage.DecodeRgb(File.ReadAllBytes(p), p));
            PngImage.WriteMask(png, Enumerable.Range(0, 35).Select(i => i % 3 == 0).ToArray(), 7, 5);
            Fuzz(tmp.File("d.png"), File.ReadAllBytes(png), p => PngImage.ReadGray16(p, out _, out _));
        }

        [Fact]
        public void Jpeg_decoding()
        {
            using var tmp = new TempDir();
            var img = IssueInputs.Textured(17, 9);
            using var ms = new MemoryStream();
            new StbImageWriteSharp.ImageWriter().WriteJpg(img.Pixels, img.Width, img.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, ms, 90);
            Fuzz(tmp.File("d.jpg"), ms.ToArray(), p => PngImage.ReadRgb(p));
        }

        [Fact]
        public void Session_files()
        {
            using var tmp = new TempDir();
            var path = IssueInputs.Session(tmp.File("a.fmsession"), 2, 8, 6, results: true);
            Fuzz(tmp.File("d.fmsession"), File.ReadAllBytes(path), p =>
            {
                using var r = new SessionReader(p);
                foreach (var f in r.Frames()) Assert.Equal(r.Info.Width * r.Info.Height * 3, f.Image.Pixels.Length);
            });
        }

        [Fact]
        public void Ply_point_clouds()
        {
            using var tmp = new TempDir();
            var path = tmp.File("a.ply");
            PlyFile.Write(path, new PointCloud(new float[] { 0, 1, 2, 3, 4, 5, -1, 0.5f, 9 }, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }));
            Fuzz(tmp.File("d.ply"), File.ReadAllBytes(path), p => PlyFile.Read(p));
        }

        [Fact]
        public void Npy_arrays()
        {
            using var tmp = new TempDir();
            var path = tmp.File("a.npy");
            Npy.Write(path, new FloatImage(5, 3, Enumerable.Range(0, 15).Select(i => i * 0.5f).ToArray()));
            Fuzz(tmp.File("d.npy"), File.ReadAllBytes(path), p => { Npy.Read(p); Npy.ReadFloatImage(p); });
        }

        [Fact]
        public void Flo_flow_fields()
        {
            using var tmp = new TempDir();
            var path = tmp.File("a.flo");
            FloFile.Write(path, new FlowField(4, 3, Enumerable.Range(0, 24).Select(i => i - 12f).ToArray()));
            Fuzz(tmp.File("d.flo"), File.ReadAllBytes(path), p => FloFile.Read(p));
        }

        [Fact]
        public void Tum_trajectories()
        {
            using var tmp = new TempDir();
            var path = tmp.File("a.txt");
            TumTrajectory.Write(path, TrajectoryMetricsPoses());
            Fuzz(tmp.File("d.txt"), File.ReadAllBytes(path), p => TumTrajectory.Read(p));
        }

        [Fact]
        public void Intrinsics_json()
        {
            using var tmp = new TempDir();
            var path = tmp.File("a.json");
            var k = new Intrinsics(32, 24, 30, 31, 15.5, 11.5);
            IntrinsicsJson.Write(path, k, k.Resized(16, 12));
            Fuzz(tmp.File("d.json"), File.ReadAllBytes(path), p => IntrinsicsJson.Read(p));
        }

        [Fact]
        public void Colmap_text_models()
        {
            using var tmp = new TempDir();
            var good = tmp.Sub("good");
            var k = new Intrinsics(32, 24, 30, 30, 15.5, 11.5);
            ColmapTextModel.FromReconstruction(k, new[] { "a.png", "b.png" }, TrajectoryMetricsPoses().Take(2).ToList(),
                new PointCloud(new float[] { 0, 0, 2, 1, 1, 3 }, new byte[6]), 1).Write(good);
            foreach (var name in new[] { "cameras.txt", "images.txt", "points3D.txt" })
            {
                var bad = tmp.Sub("bad_" + name);
                foreach (var f in Directory.GetFiles(good)) File.Copy(f, Path.Combine(bad, Path.GetFileName(f)), true);
                Fuzz(Path.Combine(bad, name), File.ReadAllBytes(Path.Combine(good, name)), _ => ColmapTextModel.Read(bad));
            }
        }

        [Fact]
        public void Open3d_logs()
        {
            using var tmp = new TempDir();
            var path = tmp.File("a.log");
            Open3DLog.Write(path, TrajectoryMetricsPoses());
            Fuzz(tmp.File("d.log"), File.ReadAllBytes(path), p => Open3DLog.Read(p));
        }

        [Fact]
        public void Report_json()
        {
            using var tmp = new TempDir();
            var path = tmp.File("report.json");
            ReportJson.Write(path, new ReconstructionReport { FramesIn = 3, FramesOut = 3, Mode = "online", ProcessingSize = new[] { 32, 24 }, Warnings = new List<string> { "w" } });
            Fuzz(tmp.File("d.json"), File.ReadAllBytes(path), p => ReportJson.Read(p));
        }

        /// <summary>Three fixed camera-to-world poses (a small turn and move), exact in text.</summary>
        private static List<CameraPose> TrajectoryMetricsPoses()
        {
            double c = Math.Cos(0.1), s = Math.Sin(0.1);
            return new List<CameraPose>
            {
                CameraPose.Identity,
                new CameraPose(new[] { c, 0, s, 0, 1, 0, -s, 0, c }, new[] { 0.1, 0, 0 }),
                new CameraPose(new[] { c, -s, 0, s, c, 0, 0, 0, 1 }, new[] { 0.2, 0.05, -0.1 }),
            };
        }
    }
}
