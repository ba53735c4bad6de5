using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Solve.Refine
{
    /// <summary>
    /// The linearisation on the GPU: FlowMap.Shaders/refine/ba_linearize.comp, all edges of one linearisation in one
    /// dispatch and one submission (x: 32 coarse pixels per group, y: edges); the per-group partial records are summed
    /// on the host in double, the per-pixel values read back for the Schur complement. Relative poses G_JI are formed
    /// on the host in double and uploaded as float. CPU reference: <see cref="BundleLinearization.Compute"/>.
    /// </summary>
    internal sealed class GpuBundleLinearizer : IBundleLinearizer
    {
        public const string Shader = "ba_linearize.comp";
        public const int GroupSize = 32;

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Gw, Gh, Stride, Jacobians, Robust; public float Cx, Cy, Focal, K1, RobustPx, Penalty; }

        private readonly GpuContext _ctx;
        private readonly BundleProblem _p;
        private readonly GpuBuffer _obs, _rho, _edges, _pixels, _partials;
        private readonly int _groups;
        private readonly float[] _rhoHost, _edgeHost, _partialHost, _pixelHost;

        /// <param name="guardFloats">Extra floats after each output buffer (tests fill them with a pattern and check it survives).</param>
        public GpuBundleLinearizer(GpuContext ctx, BundleProblem p, BundleOptions o, int guardFloats = 0)
        {
            _ctx = ctx ?? throw new ArgumentNullException(nameof(ctx));
            _p = p;
            int ne = Math.Max(1, p.Edges.Count), cells = p.Cells;
            _groups = (cells + GroupSize - 1) / GroupSize;
            var obs = new float[ne * cells * 4];
            for (int e = 0; e < p.Edges.Count; e++) Array.Copy(p.Obs[e], 0, obs, e * cells * 4, cells * 4);
            _obs = GpuBuffer.FromData<float>(ctx, obs, "ba obs");
            _rhoHost = new float[p.Keyframes * cells];
            _rho = new GpuBuffer(ctx, (long)_rhoHost.Length * 4, "ba rho");
            _edgeHost = new float[ne * 16];
            _edges = new GpuBuffer(ctx, (long)_edgeHost.Length * 4, "ba edges");
            _pixelHost = new float[ne * cells * BundleLinearization.PixelWidth];
            _pixels = new GpuBuffer(ctx, ((long)_pixelHost.Length + guardFloats) * 4, "ba pixels");
            _partialHost = new float[ne * _groups * BundleLinearization.RecordWidth];
            _partials = new GpuBuffer(ctx, ((long)_partialHost.Length + guardFloats) * 4, "ba partials");
        }

        /// <summary>The output buffers and the floats of each the kernel may write (for guard-region tests).</summary>
        internal (GpuBuffer Buffer, int Payload)[] Outputs => new[] { (_pixels, _pixelHost.Length), (_partials, _partialHost.Length) };

        /// <summary>Records one linearisation into <paramref name="batch"/> after uploading the state (no wait).</summary>
        public void Record(CommandBatch batch, BundleState s, BundleRobust kind, double robustPx, bool jacobians)
        {
            int cells = _p.Cells;
            for (int k = 0; k < _p.Keyframes; k++)
                for (int c = 0; c < cells; c++) _rhoHost[k * cells + c] = (float)s.InverseDepth[k][c];
            _rho.Write<float>(_rhoHost);
            Span<double> R = stackalloc double[9]; Span<double> t = stackalloc double[3];
            for (int e = 0; e < _p.Edges.Count; e++)
            {
                BundleModel.Relative(s.Poses[_p.Edges[e].I], s.Poses[_p.Edges[e].J], R, t);
                for (int i = 0; i < 9; i++) _edgeHost[e * 16 + i] = (float)R[i];
                for (int i = 0; i < 3; i++) _edgeHost[e * 16 + 9 + i] = (float)t[i];
                _edgeHost[e * 16 + 12] = _p.Edges[e].I;
            }
            _edges.Write<float>(_edgeHost);
            BundleModel.Robust(kind, robustPx, (double)_p.Width * _p.Width, out _, out double penalty);
            var push = new Push
            {
                Gw = _p.Gw, Gh = _p.Gh, Stride = _p.Stride, Jacobians = jacobians ? 1 : 0, Robust = kind == BundleRobust.Cauchy ? 1 : 0,
                Cx = (float)_p.PrincipalX, Cy = (float)_p.PrincipalY, Focal = (float)s.Focal, K1 = (float)s.K1, RobustPx = (float)robustPx, Penalty = (float)penalty,
            };
            var kernel = _ctx.Kernel(Shader, GroupSize, 1, 1);
            if (_p.Edges.Count > 0) batch.Dispatch(kernel, (uint)_groups, (uint)_p.Edges.Count, 1, push, _obs, _rho, _edges, _pixels, _partials);
        }

        /// <summary>Reads the results of <see cref="Record"/> (after the batch has completed) into <paramref name="into"/>.</summary>
        public void Collect(BundleLinearization into, bool jacobians)
        {
            int W = BundleLinearization.RecordWidth, cells = _p.Cells;
            _partials.Read<float>(_partialHost);
            if (jacobians) _pixels.Read<float>(_pixelHost);
            for (int e = 0; e < _p.Edges.Count; e++)
            {
                var rec = into.Records[e];
                Array.Clear(rec, 0, rec.Length);
                for (int g = 0; g < _groups; g++)
                    for (int i = 0; i < W; i++) rec[i] += _partialHost[(e * _groups + g) * W + i];
                if (!jacobians) continue;
                var pix = into.Pixels[e];
                int n = cells * BundleLinearization.PixelWidth;
                for (int i = 0; i < n; i++) pix[i] = _pixelHost[e * n + i];
            }
        }

        public void Linearize(BundleState s, BundleRobust kind, double robustPx, BundleLinearization into, bool jacobians)
        {
            using (var batch = _ctx.BeginBatch("bundle linearize"))
            {
                Record(batch, s, kind, robustPx, jacobians);
                batch.Submit();
                batch.Wait();
            }
            Collect(into, jacobians);
        }

        public void Dispose()
        {
            _obs.Dispose(); _rho.Dispose(); _edges.Dispose(); _pixels.Dispose(); _partials.Dispose();
        }
    }
}
