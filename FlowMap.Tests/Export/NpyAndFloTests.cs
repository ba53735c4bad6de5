using System;
using System.IO;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Export
{
    public sealed class NpyTests
    {
        [Fact]
        public void Float_map_round_trips_bit_exact_with_a_64_byte_aligned_header()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var img = new FloatImage(37, 23, Rng.Floats(r, 37 * 23, -5, 5));
            img.Data[3] = float.NaN; img.Data[4] = float.PositiveInfinity; img.Data[5] = -0f;
            var path = tmp.File("d.npy");
            Npy.Write(path, img);
            var back = Npy.ReadFloatImage(path);
            Assert.Equal(37, back.Width);
            Assert.Equal(23, back.Height);
            for (int i = 0; i < img.Data.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(img.Data[i]) == BitConverter.SingleToInt32Bits(back.Data[i]), $"seed {seed}: value {i} differs");
            Assert.Equal(0, (new FileInfo(path).Length - 37 * 23 * 4) % 64);
        }

        [Fact]
        public void NumPy_reads_what_we_write_and_we_read_what_NumPy_writes()
        {
            if (!ExternalTools.PythonHas("numpy")) Assert.Skip("/usr/bin/python3 with numpy is not installed (Debian python3-numpy).");
            using var tmp = new TempDir();
            var img = new FloatImage(5, 3);
            for (int i = 0; i < 15; i++) img.Data[i] = i * 0.5f - 1;
            var ours = tmp.File("ours.npy");
            var theirs = tmp.File("theirs.npy");
            Npy.Write(ours, img);
            var (code, stdout, stderr) = ExternalTools.PythonScript(
                "import numpy as np, sys\n" +
                "a = np.load(sys.argv[1])\n" +
                "print(a.dtype, a.shape, repr(float(a[2, 4])), repr(float(a[1, 0])))\n" +
                "np.save(sys.argv[2], (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.25).astype('<f4'))\n", ours, theirs);
            Assert.True(code == 0, stderr);
            Assert.Equal("float32 (3, 5) 6.0 1.5", stdout.Trim());
            var back = Npy.ReadFloatImage(theirs);
            Assert.Equal(4, back.Width);
            Assert.Equal(3, back.Height);
            Assert.Equal(2.75f, back[3, 2]);
        }

        [Fact]
        public void Truncated_or_foreign_files_are_refused_with_the_file_name()
        {
            using var tmp = new TempDir();
            var path = tmp.File("cut.npy");
            Npy.Write(path, new FloatImage(8, 8));
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 5).ToArray());
            var e = Assert.Throws<InvalidDataException>(() => Npy.ReadFloatImage(path));
            Assert.Contains("cut.npy", e.Message);
            Assert.Contains("truncated", e.Message);

            var text = tmp.File("text.npy");
            File.WriteAllText(text, "hello world, not numpy");
            Assert.Contains("text.npy", Assert.Throws<InvalidDataException>(() => Npy.Read(text)).Message);

            var ints = tmp.File("ints.npy");
            Npy.Write(ints, new float[4], new[] { 4 });
            var b = File.ReadAllBytes(ints);
            var s = System.Text.Encoding.Latin1.GetString(b).Replace("<f4", "<i4");
            File.WriteAllBytes(ints, System.Text.Encoding.Latin1.GetBytes(s));
            Assert.Contains("dtype '<i4'", Assert.Throws<InvalidDataException>(() => Npy.Read(ints)).Message);
        }
    }

    public sealed class FloFileTests
    {
        [Fact]
        public void Flow_round_trips_bit_exact()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var flow = new FlowField(37, 23, Rng.Floats(r, 37 * 23 * 2, -40, 40));
            var path = tmp.File("f.flo");
            FloFile.Write(path, flow);
            Assert.Equal(12 + 37 * 23 * 8, new FileInfo(path).Length);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal("PIEH", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
            var back = FloFile.Read(path);
            Assert.Equal(flow.Width, back.Width);
            Assert.Equal(flow.Height, back.Height);
            Assert.True(flow.Data.AsSpan().SequenceEqual(back.Data), $"seed {seed}");
        }

        [Fact]
        public void Bad_magic_absurd_size_and_truncation_are_clear_errors_naming_the_file()
        {
            using var tmp = new TempDir();
            var path = tmp.File("g.flo");
            FloFile.Write(path, new FlowField(10, 6));
            var good = File.ReadAllBytes(path);

            File.WriteAllBytes(path, good.AsSpan(0, good.Length - 3).ToArray());
            var e = Assert.Throws<InvalidDataException>(() => FloFile.Read(path));
            Assert.Contains("g.flo", e.Message);
            Assert.Contains("truncated", e.Message);

            var magic = (byte[])good.Clone(); magic[0] = (byte)'X';
            File.WriteAllBytes(path, magic);
            Assert.Contains("not a Middlebury", Assert.Throws<InvalidDataException>(() => FloFile.Read(path)).Message);

            var huge = (byte[])good.Clone(); BitConverter.GetBytes(1 << 20).CopyTo(huge, 4);
            File.WriteAllBytes(path, huge);
            Assert.Contains("implausible", Assert.Throws<InvalidDataException>(() => FloFile.Read(path)).Message);

            File.WriteAllBytes(path, good.AsSpan(0, 7).ToArray());
            Assert.Contains("g.flo", Assert.Throws<InvalidDataException>(() => FloFile.Read(path)).Message);
        }

        [Fact]
        public void Reads_Sintel_ground_truth_flow()
        {
            var sintel = Repo.SharedData("sintel");
            if (sintel == null) Assert.Skip("../shared/data/sintel is absent.");
            var flow = FloFile.Read(Path.Combine(sintel, "flow", "alley_1", "frame_0002.flo"));
            Assert.Equal(1024, flow.Width);
            Assert.Equal(436, flow.Height);
            double sum = 0; int n = 0;
            for (int y = 0; y < flow.Height; y++)
                for (int x = 0; x < flow.Width; x++)
                    if (FloFile.IsKnown(flow.U(x, y), flow.V(x, y))) { sum += Math.Sqrt(flow.U(x, y) * flow.U(x, y) + flow.V(x, y) * flow.V(x, y)); n++; }
            double mean = sum / n;
            Assert.InRange(mean, 1.0, 6.0); // SOURCE.txt: alley_1 mean |flow| about 3 px
        }
    }
}
