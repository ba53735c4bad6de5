using System;
using System.Linq;
using FlowMap.Gpu;
using FlowMap.Synthetic;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Synthetic
{
    /// <summary>
    /// The synthetic renderer and true-flow kernels against their double-precision CPU reference (SceneRaycaster,
    /// SynthFlow.Reference), at sizes that are not multiples of the 8x8 work group, with guard regions after every output.
    /// </summary>
    public sealed class SyntheticKernelTests : GpuTest
    {
        private readonly ITestOutputHelper _out;

        public SyntheticKernelTests(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        private const int Guard = 29;

        private GpuBuffer Output(long floats)
        {
            var b = new GpuBuffer(Ctx, (floats + Guard) * 4, "out");
            b.Fill(Compare.GuardBits);
            return b;
        }

        private static float[] ReadAll(GpuBuffer b) { var a = new float[b.SizeBytes / 4]; b.Read<float>(a); return a; }

        public static TheoryData<string, string, int, int, int, int, double> Cases() => new TheoryData<string, string, int, int, int, int, double>
        {
            // scene, path, frame, width, height, samples, radial distortion k1
            { "room", "walk", 0, 61, 47, 2, 0 },
            { "room", "orbit", 5, 37, 23, 3, 0 },
            { "room", "forward", 40, 45, 31, 1, 0 },
            { "boxes", "rotation", 7, 53, 29, 2, 0 },
            { "room", "walk", 3, 61, 47, 2, -0.2 },
            { "boxes", "orbit", 5, 37, 23, 3, 0.1 },
        };

        /// <summary>
        /// Depth: |gpu - ref| &lt;= 1e-5 + 1e-4 z on every pixel whose centre ray hits the same primitive in both (float
        /// ray casting vs double); colour: within 2 levels of 255 on all but at most 1 % of pixels. The exceptions are
        /// sub-pixel rays passing within float rounding of a silhouette or box edge, where float and double pick
        /// different surfaces; they are counted, not hidden. With radial distortion the rays are undistorted by Newton in
        /// float on the GPU, double on the CPU: the directions agree to a few float ulps (about 1e-7 relative), far inside
        /// the same tolerances.
        /// </summary>
        [Theory, MemberData(nameof(Cases))]
        public void Render_matches_reference(string sceneName, string path, int frame, int w, int h, int samples, double k1)
        {
            var scene = SyntheticScene.Create(sceneName, 3);
            var k = Intrinsics.Centered(w, h, 0.8 * w) with { K1 = k1 };
            var pose = CameraPaths.Generate(path, frame + 1, 3, 1)[frame];
            using var sceneBuf = GpuBuffer.FromData<float>(Ctx, scene.Description.Packed, "scene");
            using var colour = Output((long)w * h);
            using var depth = Output((long)w * h);
            using var hits = Output(8L * w * h);
            using (var batch = Ctx.BeginBatch("test"))
            {
                SynthRender.Record(batch, Ctx, scene.Description, sceneBuf, pose, k, samples, hits, colour, depth);
                batch.Submit(); batch.Wait();
            }
            var refRgb = new byte[w * h * 3];
            var refDepth = new float[w * h];
            var cpu = new SceneRaycaster(scene.Description);
            cpu.RenderFrame(pose, k, samples, refRgb, refDepth);

            var gpuDepth = ReadAll(depth);
            var gpuColourF = ReadAll(colour);
            Compare.GuardIntact(gpuDepth, w * h, "depth");
            Compare.GuardIntact(gpuColourF, w * h, "colour");
            Compare.GuardIntact(ReadAll(hits), 8 * w * h, "hits");
            var gpuColour = new uint[w * h];
            colour.Read<uint>(gpuColour);

            int depthOff = 0, colourOff = 0;
            double worstDepth = 0, worstColour = 0;
            for (int i = 0; i < w * h; i++)
            {
                float g = gpuDepth[i];
                Assert.False(float.IsNaN(g) || float.IsInfinity(g), $"depth at {i} is {g}");
                Assert.True(refDepth[i] > 0, $"pixel {i} sees nothing in the reference: the room is closed");
                double dErr = Math.Abs(g - refDepth[i]);
                if (dErr > 1e-5 + 1e-4 * refDepth[i]) depthOff++;
                else worstDepth = Math.Max(worstDepth, dErr / refDepth[i]);
                int cErr = 0;
                for (int c = 0; c < 3; c++) cErr = Math.Max(cErr, Math.Abs((int)((gpuColour[i] >> (8 * c)) & 255) - refRgb[3 * i + c]));
                Assert.Equal(255u, gpuColour[i] >> 24);
                if (cErr > 2) colourOff++;
                else worstColour = Math.Max(worstColour, cErr);
            }
            _out.WriteLine($"{sceneName}/{path}#{frame} {w}x{h} s{samples} k1 {k1}: depth off {depthOff}, worst rel {worstDepth:E2}; colour off {colourOff}, worst {worstColour}");
            Assert.True(depthOff <= w * h / 500, $"{depthOff} of {w * h} depth pixels differ from the reference beyond 1e-5 + 1e-4 z");
            Assert.True(colourOff <= w * h / 100, $"{colourOff} of {w * h} pixels differ from the reference by more than 2 levels");
        }

        /// <summary>
        /// Flow: |gpu - ref| &lt;= 2e-3 px + 1e-4 |flow| (float reprojection vs double, from the same float depth);
        /// occlusion: the same decision on all but 0.5 % of pixels (points within float rounding of the 0.5 % depth
        /// tolerance or of an occluding edge). With distortion the float Newton undistortion and the float polynomial add
        /// about 1e-7 relative to the normalised coordinates, 1e-5 px at these focals: inside the same bound.
        /// </summary>
        [Theory, MemberData(nameof(Cases))]
        public void Flow_matches_reference(string sceneName, string path, int frame, int w, int h, int samples, double k1)
        {
            _ = samples;
            var scene = SyntheticScene.Create(sceneName, 5);
            var k = Intrinsics.Centered(w, h, 0.8 * w) with { K1 = k1 };
            var poses = CameraPaths.Generate(path, frame + 4, 5, 2);
            CameraPose a = poses[frame], b = poses[frame + 3];
            var cpu = new SceneRaycaster(scene.Description);
            var depthA = new float[w * h];
            cpu.RenderFrame(a, k, 1, new byte[w * h * 3], depthA);

            using var sceneBuf = GpuBuffer.FromData<float>(Ctx, scene.Description.Packed, "scene");
            using var dA = GpuBuffer.FromData<float>(Ctx, depthA, "depthA");
            using var flow = Output(2L * w * h);
            using var occ = Output((long)w * h);
            using (var batch = Ctx.BeginBatch("test"))
            {
                SynthFlow.Record(batch, Ctx, scene.Description, sceneBuf, a, b, k, dA, flow, occ);
                batch.Submit(); batch.Wait();
            }
            var (refFlow, refOcc) = SynthFlow.Reference(cpu, depthA, a, b, k);
            var gFlow = ReadAll(flow);
            var gOcc = ReadAll(occ);
            Compare.GuardIntact(gFlow, 2 * w * h, "flow");
            Compare.GuardIntact(gOcc, w * h, "occlusion");
            Compare.AllClose(refFlow, gFlow, 2e-3, 1e-4, $"flow {sceneName}/{path}");
            int occOff = 0, occluded = 0;
            for (int i = 0; i < w * h; i++)
            {
                Assert.True(gOcc[i] == 0f || gOcc[i] == 1f, $"occlusion {gOcc[i]} at {i}");
                if (gOcc[i] != refOcc[i]) occOff++;
                if (refOcc[i] > 0) occluded++;
            }
            _out.WriteLine($"{sceneName}/{path}#{frame} {w}x{h} k1 {k1}: occluded {occluded}, occlusion decisions differing {occOff}");
            Assert.True(occOff <= w * h / 200, $"{occOff} of {w * h} occlusion decisions differ from the reference");
        }
    }
}
