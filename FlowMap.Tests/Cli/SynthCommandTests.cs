using System;
using System.IO;
using System.Linq;
using FlowMap.Export;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Cli
{
    /// <summary>`flowmap synth` writes exactly the layout of EVALUATION.md, and its files hold the sequence's truth.</summary>
    public sealed class SynthCommandTests : GpuTest
    {
        public SynthCommandTests(GpuFixture f) : base(f) { }

        [Fact]
        public void Synth_writes_the_contract_layout()
        {
            _ = Ctx; // skips visibly without a Vulkan device (the command renders on it)
            using var tmp = new TempDir();
            string outDir = tmp.File("seq");
            var (code, stdout, stderr) = CliProcess.Run(new[] { "synth", "--scene", "room", "--path", "orbit", "--frames", "3", "--size", "33x21", "--seed", "5", "--focal", "30", "--k1", "-0.1", "--out", outDir });
            Assert.True(code == 0, $"exit {code}: {stdout} {stderr}");

            Assert.Equal(new[] { "color", "depth", "flow", "occlusion" }, Directory.GetDirectories(outDir).Select(Path.GetFileName).OrderBy(s => s, StringComparer.Ordinal).ToArray());
            // The marker file says the folder is synth's output (README: outputs are complete or absent).
            Assert.Equal(new[] { ".flowmap-output", "intrinsics.json", "trajectory.txt" }, Directory.GetFiles(outDir).Select(Path.GetFileName).OrderBy(s => s, StringComparer.Ordinal).ToArray());
            string[] Names(string sub) => Directory.GetFiles(Path.Combine(outDir, sub)).Select(Path.GetFileName).OrderBy(s => s, StringComparer.Ordinal).ToArray()!;
            Assert.Equal(new[] { "000000.png", "000001.png", "000002.png" }, Names("color"));
            Assert.Equal(new[] { "000000.npy", "000001.npy", "000002.npy" }, Names("depth"));
            Assert.Equal(new[] { "000000.flo", "000001.flo" }, Names("flow"));
            Assert.Equal(new[] { "000000.png", "000001.png" }, Names("occlusion"));

            var k = IntrinsicsJson.ReadInput(Path.Combine(outDir, "intrinsics.json"));
            Assert.Equal(new Intrinsics(33, 21, 30, 30, 16, 10) { K1 = -0.1 }, k);
            Assert.Contains("\"width\"", File.ReadAllText(Path.Combine(outDir, "intrinsics.json")));
            Assert.Contains("\"k1\": -0.1", File.ReadAllText(Path.Combine(outDir, "intrinsics.json")));

            // The files hold what the API gives for the same options (rendered here on the CPU reference).
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 5),
                new SyntheticSequenceOptions { Path = "orbit", Frames = 3, Width = 33, Height = 21, Seed = 5, Focal = 30, K1 = -0.1 }, null, false);
            var lines = File.ReadAllLines(Path.Combine(outDir, "trajectory.txt")).Where(l => l.Trim().Length > 0 && !l.StartsWith('#')).ToArray();
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("0 ", lines[0]);
            var poses = TumTrajectory.ReadPoses(Path.Combine(outDir, "trajectory.txt"));
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    Assert.Equal(seq.Pose(i).T(j), poses[i].T(j), 9);
            var depth = Npy.ReadFloatImage(Path.Combine(outDir, "depth", "000001.npy"));
            Assert.Equal((33, 21), (depth.Width, depth.Height));
            var cpuDepth = seq.Depth(1);
            for (int i = 0; i < depth.Data.Length; i++) Assert.True(Math.Abs(depth.Data[i] - cpuDepth.Data[i]) <= 1e-4 * cpuDepth.Data[i] + 1e-5);
            var flow = FloFile.Read(Path.Combine(outDir, "flow", "000001.flo"));
            Assert.Equal((33, 21), (flow.Width, flow.Height));
            Compare.AllClose(seq.Flow(1, 2).Data.Select(v => (double)v).ToArray(), flow.Data, 2e-3, 1e-4, "flow file");
            var occ = PngImage.ReadMask(Path.Combine(outDir, "occlusion", "000000.png"), out int ow, out int oh);
            Assert.Equal((33, 21), (ow, oh));
            var cpuOcc = seq.Occlusion(0, 1).Data;
            Assert.True(occ.Where((o, i) => o != cpuOcc[i] > 0.5f).Count() <= 2, "occlusion PNG differs from the truth");
            var png = PngImage.ReadRgb(Path.Combine(outDir, "color", "000002.png"));
            Assert.Equal((33, 21), (png.Width, png.Height));

            // A second, shorter run into the same folder is refused without --overwrite, and with it leaves no stale files behind.
            (code, _, stderr) = CliProcess.Run(new[] { "synth", "--frames", "2", "--size", "16x12", "--out", outDir });
            Assert.True(code == 2 && stderr.Contains("--overwrite"), $"exit {code}: {stderr}");
            (code, stdout, stderr) = CliProcess.Run(new[] { "synth", "--frames", "2", "--size", "16x12", "--out", outDir, "--overwrite" });
            Assert.True(code == 0, $"exit {code}: {stdout} {stderr}");
            Assert.Equal(new[] { "000000.png", "000001.png" }, Names("color"));
            Assert.Equal(new[] { "000000.flo" }, Names("flow"));
        }

        [Theory]
        [InlineData("--path", "spiral", "walk")]
        [InlineData("--scene", "attic", "room")]
        [InlineData("--size", "12", "WxH")]
        [InlineData("--frames", "0", "frame")]
        [InlineData("--k1", "-0.9", "folds over")]
        public void Bad_options_exit_with_a_one_line_error(string option, string value, string fragment)
        {
            using var tmp = new TempDir();
            var (code, stdout, stderr) = CliProcess.Run(new[] { "synth", option, value, "--out", tmp.File("x") });
            Assert.Equal(2, code);
            Assert.Contains(fragment, stderr);
            Assert.DoesNotContain("   at ", stderr);
        }
    }
}
