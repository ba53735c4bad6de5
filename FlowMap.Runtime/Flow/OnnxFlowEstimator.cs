using System;
using System.IO;
using System.Linq;
using System.Threading;
using FlowMap.Depth;
using Microsoft.ML.OnnxRuntime;

namespace FlowMap.Flow
{
    /// <summary>
    /// A user's optical flow network (RAFT-like) run by ONNX Runtime on the CPU behind <see cref="IFlowEstimator"/>.
    /// Model contract, checked when it is opened (before any frame): two float32 inputs [1, 3, H, W] (first image, second
    /// image; RGB in [0, 255] as RAFT expects, unless metadata "flowmap.input_scale" says e.g. "1/255"), and the first
    /// output float32 [1, 2, H, W] = flow (u, v) in pixels of the model input from image 1 to image 2 (RAFT exports
    /// that return a list of refinements should put the final one first). Fixed-size models get their input resized
    /// and the flow rescaled to the frame size. Backward flow is the model run with the images swapped; confidence is
    /// forward-backward consistency computed on the CPU: c = exp(-|F(x) + B(x + F(x))|^2 / (2 sigma^2)), sigma = 1 px
    /// plus 5 % of the flow magnitude, and 0 where x + F(x) leaves the image.
    /// </summary>
    internal sealed class OnnxFlowEstimator : IFlowEstimator
    {
        public const string InputScaleMetadataKey = "flowmap.input_scale";

        private readonly InferenceSession _session;
        private readonly string _file, _in1, _in2, _out;
        private readonly int _fixedW, _fixedH;
        private readonly float _inputScale = 1f;
        private bool _disposed;

        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="InvalidDataException">The model's inputs/outputs are not a flow model's.</exception>
        /// <exception cref="InvalidOperationException">The probe run produced NaN or infinities.</exception>
        public OnnxFlowEstimator(string modelPath)
        {
            _file = Path.GetFileName(modelPath ?? "");
            _session = OnnxModel.Open(modelPath!, "Flow");
            try
            {
                var inputs = _session.InputMetadata.ToList();
                if (inputs.Count != 2)
                    throw new InvalidDataException($"Flow model '{_file}' has {inputs.Count} input(s) ({string.Join(", ", inputs.Select(i => i.Key + " " + OnnxModel.Shape(i.Value)))}); expected two images float32[1, 3, H, W].");
                foreach (var i in inputs)
                {
                    OnnxModel.RequireFloatTensor(_file, "input", i.Key, i.Value);
                    var d = i.Value.Dimensions;
                    if (d.Length != 4 || d[0] > 1 || (d[1] >= 0 && d[1] != 3) || ((d[2] >= 0) != (d[3] >= 0)))
                        throw new InvalidDataException($"Flow model '{_file}': input '{i.Key}' has shape {OnnxModel.Shape(i.Value)}; expected [1, 3, H, W].");
                }
                var d0 = inputs[0].Value.Dimensions; var d1 = inputs[1].Value.Dimensions;
                if (d0[2] != d1[2] || d0[3] != d1[3])
                    throw new InvalidDataException($"Flow model '{_file}': its inputs have different shapes {OnnxModel.Shape(inputs[0].Value)} and {OnnxModel.Shape(inputs[1].Value)}.");
                _in1 = inputs[0].Key; _in2 = inputs[1].Key;
                _fixedH = Math.Max(0, d0[2]); _fixedW = Math.Max(0, d0[3]);

                if (_session.OutputMetadata.Count < 1) throw new InvalidDataException($"Flow model '{_file}' has no output; expected flow float32[1, 2, H, W].");
                var o = _session.OutputMetadata.First();
                OnnxModel.RequireFloatTensor(_file, "output", o.Key, o.Value);
                var od = o.Value.Dimensions;
                if (od.Length != 4 || od[0] > 1 || (od[1] >= 0 && od[1] != 2))
                    throw new InvalidDataException($"Flow model '{_file}': output '{o.Key}' has shape {OnnxModel.Shape(o.Value)}; expected flow [1, 2, H, W].");
                _out = o.Key;

                if (OnnxModel.Metadata(_session).TryGetValue(InputScaleMetadataKey, out var scale))
                    _inputScale = ParseScale(scale);
                Name = "onnx:" + _file;

                // Probe run before any frame.
                var a = OnnxModel.ProbeImage(64, 48, 0);
                var b = OnnxModel.ProbeImage(64, 48, 2);
                RunModel(a, b);
            }
            catch
            {
                _session.Dispose();
                throw;
            }
        }

        public string Name { get; }

        private float ParseScale(string s)
        {
            s = s.Trim();
            var parts = s.Split('/');
            if (parts.Length == 2 && double.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n)
                && double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var dd) && dd != 0)
                return (float)(n / dd);
            if (double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0) return (float)v;
            throw new InvalidDataException($"Flow model '{_file}': metadata {InputScaleMetadataKey}='{s}' is not a number like 1 or 1/255.");
        }

        public FlowResult Estimate(RgbImage a, RgbImage b, CancellationToken token = default)
        {
            if (a == null) throw new ArgumentNullException(nameof(a));
            if (b == null) throw new ArgumentNullException(nameof(b));
            if (a.Width != b.Width || a.Height != b.Height) throw new ArgumentException($"Images differ in size: {a.Width}x{a.Height} and {b.Width}x{b.Height}.");
            if (a.Width < 2 || a.Height < 2) throw new ArgumentException($"Images of {a.Width}x{a.Height} are too small for flow (at least 2x2).");
            if (_disposed) throw new ObjectDisposedException(nameof(OnnxFlowEstimator));
            var fwd = RunModel(a, b);
            token.ThrowIfCancellationRequested();
            var bwd = RunModel(b, a);
            return new FlowResult(fwd, bwd, ForwardBackwardConfidence(fwd, bwd), ForwardBackwardConfidence(bwd, fwd));
        }

        private FlowField RunModel(RgbImage a, RgbImage b)
        {
            int w = a.Width, h = a.Height;
            int iw = _fixedW > 0 ? _fixedW : w, ih = _fixedH > 0 ? _fixedH : h;
            var zero = new float[3]; var one = new[] { 1f, 1f, 1f };
            var ta = OnnxModel.ToPlanar(a, iw, ih, _inputScale, zero, one);
            var tb = OnnxModel.ToPlanar(b, iw, ih, _inputScale, zero, one);
            var shape = new long[] { 1, 3, ih, iw };
            using var va = OrtValue.CreateTensorValueFromMemory(ta, shape);
            using var vb = OrtValue.CreateTensorValueFromMemory(tb, shape);
            using var ro = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> outs;
            try { outs = _session.Run(ro, new[] { _in1, _in2 }, new[] { va, vb }, new[] { _out }); }
            catch (OnnxRuntimeException e) { throw new InvalidDataException($"Flow model '{_file}' failed on a {iw}x{ih} pair: {e.Message}", e); }
            using (outs)
            {
                var o = outs.First();
                var s = o.GetTensorTypeAndShape().Shape;
                if (s.Length != 4 || s[0] != 1 || s[1] != 2 || s[2] < 2 || s[3] < 2)
                    throw new InvalidDataException($"Flow model '{_file}' returned shape [{string.Join(", ", s)}]; expected [1, 2, H, W].");
                int oh = (int)s[2], ow = (int)s[3];
                var data = o.GetTensorDataAsSpan<float>();
                for (int i = 0; i < data.Length; i++)
                    if (float.IsNaN(data[i]) || float.IsInfinity(data[i]))
                        throw new InvalidOperationException($"Flow model '{_file}' produced {(float.IsNaN(data[i]) ? "NaN" : "infinite")} values; it cannot be used.");
                // Flow in model-output pixels -> frame pixels.
                var u = OnnxModel.Resize(data.Slice(0, ow * oh), ow, oh, w, h);
                var v = OnnxModel.Resize(data.Slice(ow * oh, ow * oh), ow, oh, w, h);
                float su = (float)w / ow, sv = (float)h / oh;
                var f = new FlowField(w, h);
                for (int i = 0; i < w * h; i++) { f.Data[2 * i] = u[i] * su; f.Data[2 * i + 1] = v[i] * sv; }
                return f;
            }
        }

        /// <summary>
        /// Forward-backward consistency of <paramref name="f"/> (a -> b) against <paramref name="g"/> (b -> a), per pixel of a,
        /// in [0, 1]: exp(-e^2 / (2 sigma^2)), e = |f(x) + g(x + f(x))| (g sampled bilinearly), sigma = 1 + 0.05 |f(x)| px;
        /// 0 where x + f(x) falls outside the image (Sundaram et al. 2010 style check, soft).
        /// </summary>
        public static FloatImage ForwardBackwardConfidence(FlowField f, FlowField g)
        {
            int w = f.Width, h = f.Height;
            var c = new FloatImage(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double u = f.U(x, y), v = f.V(x, y);
                    double px = x + u, py = y + v;
                    if (px < 0 || py < 0 || px > w - 1 || py > h - 1) { c[x, y] = 0; continue; }
                    int x0 = Math.Min(w - 2, (int)px), y0 = Math.Min(h - 2, (int)py);
                    double ax = px - x0, ay = py - y0;
                    int x1 = Math.Min(w - 1, x0 + 1), y1 = Math.Min(h - 1, y0 + 1);
                    double gu = (1 - ay) * ((1 - ax) * g.U(x0, y0) + ax * g.U(x1, y0)) + ay * ((1 - ax) * g.U(x0, y1) + ax * g.U(x1, y1));
                    double gv = (1 - ay) * ((1 - ax) * g.V(x0, y0) + ax * g.V(x1, y0)) + ay * ((1 - ax) * g.V(x0, y1) + ax * g.V(x1, y1));
                    double ex = u + gu, ey = v + gv;
                    double sigma = 1 + 0.05 * Math.Sqrt(u * u + v * v);
                    c[x, y] = (float)Math.Exp(-(ex * ex + ey * ey) / (2 * sigma * sigma));
                }
            return c;
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _session.Dispose();
        }
    }
}
