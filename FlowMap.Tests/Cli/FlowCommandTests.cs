using System;
using System.IO;
using System.Text.Json;
using FlowMap.Flow;
using StbImageWriteSharp;
using Xunit;

namespace FlowMap.Tests.Cli
{
    /// <summary>`flowmap flow` as a child process: single pair, batch list, and bad input.</summary>
    public sealed class FlowCommandTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("flowmap-flowcmd-").FullName;

        public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

        private string Png(string name, RgbImage img)
        {
            string p = Path.Combine(_dir, name);
            using var s = File.Create(p);
            new ImageWriter().WritePng(img.Pixels, img.Width, img.Height, ColorComponents.RedGreenBlue, s);
            return p;
        }

        private static float[] ReadFlo(string path, out int w, out int h)
        {
            var d = File.ReadAllBytes(path);
            Assert.Equal(202021.25f, BitConverter.ToSingle(d, 0));
            w = BitConverter.ToInt32(d, 4); h = BitConverter.ToInt32(d, 8);
            Assert.Equal(12 + 8L * w * h, d.Length);
            var f = new float[2 * w * h];
            Buffer.BlockCopy(d, 12, f, 0, f.Length * 4);
            return f;
        }

        [Fact]
        public void Writes_forward_backward_and_confidence_for_one_pair()
        {
            var pair = FlowTestPairs.Layered(67, 45, 5, 3);
            string a = Png("a.png", pair.A), b = Png("b.png", pair.B);
            string f = Path.Combine(_dir, "f.flo"), bk = Path.Combine(_dir, "b.flo"), c = Path.Combine(_dir, "c.png");
            var (code, _, err) = CliProcess.Run(new[] { "flow", a, b, "--out", f, "--backward", bk, "--confidence", c });
            Assert.True(code == 0, err);
            var flow = ReadFlo(f, out int w, out int h);
            Assert.Equal((67, 45), (w, h));
            var (_, noc) = FlowError.EndPointError(new FlowField(w, h, flow), pair.Truth, pair.Occluded);
            Assert.True(noc < 1.0, $"EPE noc {noc}");
            ReadFlo(bk, out _, out _);
            Assert.True(new FileInfo(c).Length > 0);
        }

        [Fact]
        public void Batch_mode_writes_flows_in_list_order_and_timings()
        {
            var p1 = FlowTestPairs.Layered(40, 30, 1, 2);
            var p2 = FlowTestPairs.Layered(40, 30, 2, 2);
            Png("a1.png", p1.A); Png("b1.png", p1.B); Png("a2.png", p2.A); Png("b2.png", p2.B);
            string list = Path.Combine(_dir, "pairs.txt");
            File.WriteAllText(list, "a1.png b1.png\n\na2.png b2.png\n");
            string outDir = Path.Combine(_dir, "out");
            var (code, _, err) = CliProcess.Run(new[] { "flow", "--pairs", list, "--out-dir", outDir });
            Assert.True(code == 0, err);
            ReadFlo(Path.Combine(outDir, "000000.flo"), out _, out _);
            ReadFlo(Path.Combine(outDir, "000001.flo"), out _, out _);
            Assert.False(File.Exists(Path.Combine(outDir, "000002.flo")));
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "timings.json")));
            var pairs = doc.RootElement.GetProperty("pairs");
            Assert.Equal(2, pairs.GetArrayLength());
            Assert.Equal("a1.png", pairs[0].GetProperty("a").GetString());
            Assert.Equal("b2.png", pairs[1].GetProperty("b").GetString());
            Assert.True(pairs[0].GetProperty("ms").GetDouble() > 0);
            Assert.True(doc.RootElement.GetProperty("median_ms").GetDouble() > 0);
        }

        [Fact]
        public void Bad_input_is_one_clear_line_and_a_nonzero_exit()
        {
            var ok = Png("ok.png", new RgbImage(20, 10));
            var other = Png("other.png", new RgbImage(21, 10));
            var tiny = Png("tiny.png", new RgbImage(1, 1));
            string corrupt = Path.Combine(_dir, "corrupt.png");
            File.WriteAllBytes(corrupt, new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 });
            string f = Path.Combine(_dir, "f.flo");
            foreach (var (args, expect) in new[]
            {
                (new[] { "flow", ok, other, "--out", f }, "same size"),
                (new[] { "flow", tiny, tiny, "--out", f }, "at least 2x2"),
                (new[] { "flow", ok, corrupt, "--out", f }, "not a readable image"),
                (new[] { "flow", ok, Path.Combine(_dir, "missing.png"), "--out", f }, "no such file"),
                (new[] { "flow", ok, ok }, "--out"),
            })
            {
                var (code, stdout, err) = CliProcess.Run(args);
                Assert.NotEqual(0, code);
                Assert.Contains(expect, err);
                Assert.DoesNotContain("   at ", err + stdout);
            }
        }
    }
}
