using System;
using System.Threading.Tasks;
using FlowMap.Gpu;

namespace FlowMap.Synthetic
{
    /// <summary>
    /// Renders frames and computes true flow for one scene at one size: on a Vulkan device (synth_render.comp,
    /// synth_flow.comp) or, without one, with the double-precision reference on the CPU (rows in parallel).
    /// Not thread-safe; <see cref="SyntheticSequence"/> serialises calls.
    /// </summary>
    internal sealed class SyntheticRenderer : IDisposable
    {
        private readonly GpuContext? _ctx;
        private readonly bool _ownsContext;
        private readonly GpuBuffer? _scene, _hits, _colour, _depth, _depthA, _flow, _occlusion;
        private readonly SceneRaycaster _cpu;

        public SyntheticRenderer(SceneDescription scene, Intrinsics intrinsics, int samples, GpuContext? ctx, bool ownsContext)
        {
            if (samples < 1 || samples > 8) throw new ArgumentOutOfRangeException(nameof(samples), samples, "Anti-aliasing samples per axis must be 1..8.");
            Scene = scene; Intrinsics = intrinsics; Samples = samples;
            _cpu = new SceneRaycaster(scene);
            _ctx = ctx; _ownsContext = ownsContext;
            if (ctx == null) return;
            try
            {
                long n = (long)intrinsics.Width * intrinsics.Height;
                _scene = GpuBuffer.FromData<float>(ctx, scene.Packed, "synth.scene");
                _hits = new GpuBuffer(ctx, 32 * n, "synth.hits");
                _colour = new GpuBuffer(ctx, 4 * n, "synth.colour");
                _depth = new GpuBuffer(ctx, 4 * n, "synth.depth");
                _depthA = new GpuBuffer(ctx, 4 * n, "synth.depthA");
                _flow = new GpuBuffer(ctx, 8 * n, "synth.flow");
                _occlusion = new GpuBuffer(ctx, 4 * n, "synth.occlusion");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public SceneDescription Scene { get; }
        public Intrinsics Intrinsics { get; }
        public int Samples { get; }
        public bool OnGpu => _ctx != null;
        internal SceneRaycaster Reference => _cpu;

        public (RgbImage Colour, FloatImage Depth) Render(CameraPose pose)
        {
            int w = Intrinsics.Width, h = Intrinsics.Height;
            var rgb = new byte[w * h * 3];
            var depth = new float[w * h];
            if (_ctx == null)
            {
                _cpu.RenderFrame(pose, Intrinsics, Samples, rgb, depth, parallel: true);
                return (new RgbImage(w, h, rgb), new FloatImage(w, h, depth));
            }
            using (var batch = _ctx.BeginBatch("synth.render"))
            {
                SynthRender.Record(batch, _ctx, Scene, _scene!, pose, Intrinsics, Samples, _hits!, _colour!, _depth!);
                batch.Submit();
                batch.Wait();
            }
            var packed = new uint[w * h];
            _colour!.Read<uint>(packed);
            _depth!.Read<float>(depth);
            for (int i = 0; i < packed.Length; i++)
            {
                uint c = packed[i];
                rgb[3 * i] = (byte)c; rgb[3 * i + 1] = (byte)(c >> 8); rgb[3 * i + 2] = (byte)(c >> 16);
            }
            return (new RgbImage(w, h, rgb), new FloatImage(w, h, depth));
        }

        public (FlowField Flow, FloatImage Occlusion) Flow(FloatImage depthA, CameraPose poseA, CameraPose poseB)
        {
            int w = Intrinsics.Width, h = Intrinsics.Height;
            if (depthA.Width != w || depthA.Height != h) throw new ArgumentException($"Depth is {depthA.Width}x{depthA.Height}, the sequence {w}x{h}.");
            if (_ctx == null)
            {
                var (f, o) = SynthFlow.Reference(_cpu, depthA.Data, poseA, poseB, Intrinsics);
                var ff = new float[f.Length];
                for (int i = 0; i < f.Length; i++) ff[i] = (float)f[i];
                var oo = new float[o.Length];
                for (int i = 0; i < o.Length; i++) oo[i] = (float)o[i];
                return (new FlowField(w, h, ff), new FloatImage(w, h, oo));
            }
            _depthA!.Write<float>(depthA.Data);
            using (var batch = _ctx.BeginBatch("synth.flow"))
            {
                SynthFlow.Record(batch, _ctx, Scene, _scene!, poseA, poseB, Intrinsics, _depthA, _flow!, _occlusion!);
                batch.Submit();
                batch.Wait();
            }
            var flow = new float[w * h * 2];
            var occ = new float[w * h];
            _flow!.Read<float>(flow);
            _occlusion!.Read<float>(occ);
            return (new FlowField(w, h, flow), new FloatImage(w, h, occ));
        }

        public void Dispose()
        {
            _occlusion?.Dispose(); _flow?.Dispose(); _depthA?.Dispose(); _depth?.Dispose(); _colour?.Dispose(); _hits?.Dispose(); _scene?.Dispose();
            if (_ownsContext) _ctx?.Dispose();
        }
    }
}
