using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML.OnnxRuntime;

namespace FlowMap.Depth
{
    /// <summary>The input conventions of a monocular depth model family. All output relative inverse depth.</summary>
    internal enum DepthModelPreset
    {
        /// <summary>Read from the model's metadata (key "flowmap.preset"), else inferred from its input shape.</summary>
        Auto,
        /// <summary>
        /// Depth Anything V2 (Yang et al. 2024): RGB in [0, 1], ImageNet mean/std, input sides multiples of 14 with the
        /// shorter side 518 (aspect kept) when the model's input is dynamic; output relative inverse depth [1, H, W].
        /// </summary>
        DepthAnythingV2,
        /// <summary>MiDaS v2.1 small (Ranftl et al.): 256x256 input, RGB in [0, 1], ImageNet mean/std; output relative inverse depth.</summary>
        MidasV21Small,
    }

    /// <summary>
    /// A frozen monocular depth model run by ONNX Runtime as the depth prior, on the best execution provider available
    /// (see <see cref="DepthExecutionProvider"/>). The model is checked when it is
    /// opened, before any frame: file present; one float32 input of rank 4 [1, 3, H, W]; one float32 output of rank 3
    /// [1, H, W] or rank 4 [1, 1, H, W]; and a probe inference giving finite values. Inference uses one thread per core
    /// and can run on a task (<see cref="PredictAsync"/>) while the GPU works on flow.
    /// </summary>
    internal sealed class OnnxDepthPrior : IDepthPrior
    {
        /// <summary>The execution provider the model runs on (never Auto).</summary>
        public DepthExecutionProvider Provider { get; }

        /// <summary>Why the model does not run on the provider asked for (or on the platform's best, for Auto); null when it does.</summary>
        public string? ProviderWarning { get; }

        /// <summary>Metadata key read for the preset: "depth-anything-v2" or "midas-v21-small".</summary>
        public const string PresetMetadataKey = "flowmap.preset";

        private static readonly float[] ImageNetMean = { 0.485f, 0.456f, 0.406f };
        private static readonly float[] ImageNetStd = { 0.229f, 0.224f, 0.225f };

        private readonly InferenceSession _session;
        private readonly string _inputName, _outputName, _file;
        private readonly int _fixedW, _fixedH; // 0 when dynamic
        private readonly object _lock = new object();
        private bool _disposed;

        /// <summary>Opens and validates <paramref name="modelPath"/>; throws with the model's name and what was expected.</summary>
        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="InvalidDataException">The model's inputs/outputs are not a depth model's, or it cannot be loaded.</exception>
        /// <exception cref="InvalidOperationException">The probe inference produced NaN, infinities or no positive value.</exception>
        public OnnxDepthPrior(string modelPath, DepthModelPreset preset = DepthModelPreset.Auto)
            : this(modelPath, preset, DepthExecutionProvider.Auto) { }

        /// <summary>
        /// As <see cref="OnnxDepthPrior(string, DepthModelPreset)"/>, on the execution provider <paramref name="provider"/>
        /// (Auto: the best this build and machine offer). Where it is not available the CPU is used and
        /// <see cref="ProviderWarning"/> says why.
        /// </summary>
        public OnnxDepthPrior(string modelPath, DepthModelPreset preset, DepthExecutionProvider provider)
        {
            _file = Path.GetFileName(modelPath ?? "");
            _session = OnnxModel.Open(modelPath!, "Depth", provider, out var choice);
            Provider = choice.Provider;
            ProviderWarning = choice.FallbackReason == null ? null : $"depth model '{_file}' runs on {choice.Name}: {choice.FallbackReason}";
            try
            {
                if (_session.InputMetadata.Count != 1)
                    throw new InvalidDataException($"Depth model '{_file}' has {_session.InputMetadata.Count} inputs ({string.Join(", ", _session.InputMetadata.Keys)}); expected one image input float32[1, 3, H, W].");
                var input = _session.InputMetadata.First();
                _inputName = input.Key;
                OnnxModel.RequireFloatTensor(_file, "input", input.Key, input.Value);
                var d = input.Value.Dimensions;
                if (d.Length != 4 || (d[0] > 1) || (d[1] >= 0 && d[1] != 3))
                    throw new InvalidDataException($"Depth model '{_file}': input '{input.Key}' has shape {OnnxModel.Shape(input.Value)}; expected [1, 3, H, W] (batch 1, RGB planes).");
                if ((d[2] >= 0) != (d[3] >= 0))
                    throw new InvalidDataException($"Depth model '{_file}': input '{input.Key}' has shape {OnnxModel.Shape(input.Value)}; height and width must both be fixed or both dynamic.");
                _fixedH = Math.Max(0, d[2]); _fixedW = Math.Max(0, d[3]);
                if (_fixedH == 1 || _fixedW == 1)
                    throw new InvalidDataException($"Depth model '{_file}': input '{input.Key}' has shape {OnnxModel.Shape(input.Value)}; an image input needs at least 2x2 pixels.");

                if (_session.OutputMetadata.Count < 1)
                    throw new InvalidDataException($"Depth model '{_file}' has no outputs; expected relative inverse depth float32[1, H, W].");
                var output = _session.OutputMetadata.First();
                _outputName = output.Key;
                OnnxModel.RequireFloatTensor(_file, "output", output.Key, output.Value);
                var od = output.Value.Dimensions;
                bool rank3 = od.Length == 3 && od[0] <= 1;
                bool rank4 = od.Length == 4 && od[0] <= 1 && od[1] <= 1;
                if (!rank3 && !rank4)
                    throw new InvalidDataException($"Depth model '{_file}': output '{output.Key}' has shape {OnnxModel.Shape(output.Value)}; expected relative inverse depth [1, H, W] or [1, 1, H, W].");
                Preset = ResolvePreset(preset);
                Name = $"onnx:{_file} ({PresetName(Preset)}, {OnnxExecutionProviders.Name(Provider)})";

                // Probe run before any frame: catches NaN/Inf-producing models and shape errors at run time.
                Predict(OnnxModel.ProbeImage(64, 48, 3), 64, 48);
            }
            catch
            {
                _session.Dispose();
                throw;
            }
        }

        /// <summary>The preset in use (never <see cref="DepthModelPreset.Auto"/>).</summary>
        public DepthModelPreset Preset { get; }

        public string Name { get; }

        /// <summary>Metadata name of a preset ("depth-anything-v2", "midas-v21-small").</summary>
        public static string PresetName(DepthModelPreset p) => p switch
        {
            DepthModelPreset.DepthAnythingV2 => "depth-anything-v2",
            DepthModelPreset.MidasV21Small => "midas-v21-small",
            _ => "auto",
        };

        /// <summary>Parses a preset name as given on the command line or in metadata (case-insensitive; "dav2", "midas" accepted).</summary>
        public static DepthModelPreset ParsePreset(string s)
        {
            switch ((s ?? "").Trim().ToLowerInvariant())
            {
                case "auto": return DepthModelPreset.Auto;
                case "depth-anything-v2": case "depth_anything_v2": case "dav2": case "depthanythingv2": return DepthModelPreset.DepthAnythingV2;
                case "midas-v21-small": case "midas_v21_small": case "midas": case "midas-small": case "midasv21small": return DepthModelPreset.MidasV21Small;
                default: throw new ArgumentException($"Unknown depth model preset '{s}'; expected auto, depth-anything-v2 or midas-v21-small.");
            }
        }

        private DepthModelPreset ResolvePreset(DepthModelPreset requested)
        {
            if (requested != DepthModelPreset.Auto) return requested;
            if (OnnxModel.Metadata(_session).TryGetValue(PresetMetadataKey, out var fromMeta))
            {
                try { var p = ParsePreset(fromMeta); if (p != DepthModelPreset.Auto) return p; }
                catch (ArgumentException e) { throw new InvalidDataException($"Depth model '{_file}': metadata {PresetMetadataKey}='{fromMeta}' is not understood. {e.Message}"); }
            }
            // Inferred from the input shape: MiDaS small is exported at 256x256; Depth Anything V2 at multiples of 14 or dynamic.
            if (_fixedW == 0) return DepthModelPreset.DepthAnythingV2;
            if (_fixedW % 14 == 0 && _fixedH % 14 == 0) return DepthModelPreset.DepthAnythingV2;
            if (_fixedW % 32 == 0 && _fixedH % 32 == 0) return DepthModelPreset.MidasV21Small;
            throw new InvalidDataException($"Depth model '{_file}': input size {_fixedW}x{_fixedH} matches no known preset (Depth Anything V2: multiples of 14; MiDaS v2.1 small: 256x256) and the model has no '{PresetMetadataKey}' metadata; give the preset explicitly.");
        }

        /// <summary>The model input size used for a frame of <paramref name="w"/> x <paramref name="h"/>.</summary>
        public (int Width, int Height) InputSizeFor(int w, int h)
        {
            if (_fixedW > 0) return (_fixedW, _fixedH);
            if (Preset == DepthModelPreset.MidasV21Small)
            {
                // Upper bound 256 on the longer side, multiples of 32, aspect kept (MiDaS "upper_bound" resize).
                double s = 256.0 / Math.Max(w, h);
                return (Math.Max(32, (int)Math.Round(w * s / 32) * 32), Math.Max(32, (int)Math.Round(h * s / 32) * 32));
            }
            // Depth Anything V2: shorter side 518 ("lower_bound"), multiples of 14, aspect kept.
            double k = 518.0 / Math.Min(w, h);
            return (Math.Max(14, (int)Math.Round(w * k / 14) * 14), Math.Max(14, (int)Math.Round(h * k / 14) * 14));
        }

        public FloatImage PredictInverseDepth(RgbImage image, int width, int height) => Predict(image, width, height);

        /// <summary>Runs <see cref="PredictInverseDepth"/> on the thread pool, so it overlaps GPU work of the caller.</summary>
        public Task<FloatImage> PredictAsync(RgbImage image, int width, int height, CancellationToken token = default) =>
            Task.Run(() => Predict(image, width, height), token);

        private FloatImage Predict(RgbImage image, int width, int height)
        {
            if (image == null) throw new ArgumentNullException(nameof(image));
            if (width < 1 || height < 1) throw new ArgumentException($"Output size {width}x{height} is empty.");
            lock (_lock)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(OnnxDepthPrior));
                var (iw, ih) = InputSizeFor(image.Width, image.Height);
                var tensor = OnnxModel.ToPlanar(image, iw, ih, 1f / 255f, ImageNetMean, ImageNetStd);
                using var inValue = OrtValue.CreateTensorValueFromMemory(tensor, new long[] { 1, 3, ih, iw });
                IDisposableReadOnlyCollection<OrtValue> outputs;
                using var runOptions = new RunOptions();
                try
                {
                    outputs = _session.Run(runOptions, new[] { _inputName }, new[] { inValue }, new[] { _outputName });
                }
                catch (OnnxRuntimeException e)
                {
                    throw new InvalidDataException($"Depth model '{_file}' failed on a {iw}x{ih} input: {e.Message}", e);
                }
                using (outputs)
                {
                    var o = outputs.First();
                    var shape = o.GetTensorTypeAndShape().Shape;
                    int oh, ow;
                    if (shape.Length == 3 && shape[0] == 1) { oh = (int)shape[1]; ow = (int)shape[2]; }
                    else if (shape.Length == 4 && shape[0] == 1 && shape[1] == 1) { oh = (int)shape[2]; ow = (int)shape[3]; }
                    else throw new InvalidDataException($"Depth model '{_file}' returned shape [{string.Join(", ", shape)}]; expected [1, H, W] or [1, 1, H, W].");
                    if (ow < 2 || oh < 2) throw new InvalidDataException($"Depth model '{_file}' returned a {ow}x{oh} map; expected at least 2x2.");
                    var data = o.GetTensorDataAsSpan<float>();
                    float max = 0;
                    for (int i = 0; i < data.Length; i++)
                    {
                        float v = data[i];
                        if (float.IsNaN(v) || float.IsInfinity(v))
                            throw new InvalidOperationException($"Depth model '{_file}' produced {(float.IsNaN(v) ? "NaN" : "infinite")} values (first at index {i} of its {ow}x{oh} output); it cannot be used as a depth prior.");
                        if (v > max) max = v;
                    }
                    if (!(max > 0))
                        throw new InvalidOperationException($"Depth model '{_file}' produced no positive value; expected relative inverse depth (larger is nearer, positive).");
                    var resized = OnnxModel.Resize(data, ow, oh, width, height);
                    // Inverse depth must be positive: clamp the far end to a small fraction of the largest value.
                    float floor = 1e-3f * max;
                    for (int i = 0; i < resized.Length; i++) if (resized[i] < floor) resized[i] = floor;
                    return new FloatImage(width, height, resized);
                }
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                if (_disposed) return;
                _disposed = true;
                _session.Dispose();
            }
        }
    }
}
