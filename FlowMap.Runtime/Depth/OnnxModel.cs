using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;

namespace FlowMap.Depth
{
    /// <summary>
    /// Loading and checking of ONNX models (shared by the depth prior and the ONNX flow estimator), and the image
    /// conversions around them. Every failure names the model file and says what was expected.
    /// </summary>
    internal static class OnnxModel
    {
        /// <summary>Opens <paramref name="path"/> with ONNX Runtime on the CPU, one intra-op thread per core (see PLATFORM.md).</summary>
        public static InferenceSession Open(string path, string role) => Open(path, role, DepthExecutionProvider.Cpu, out _);

        /// <summary>
        /// Opens <paramref name="path"/> on the best execution provider available for <paramref name="provider"/> (see
        /// <see cref="OnnxExecutionProviders.Open"/>); <paramref name="choice"/> says which one and why it fell back.
        /// </summary>
        public static InferenceSession Open(string path, string role, DepthExecutionProvider provider, out ProviderChoice choice)
        {
            if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"No {role} model path given.");
            if (!File.Exists(path)) throw new FileNotFoundException($"{role} model '{path}' does not exist.", path);
            try
            {
                var (session, c) = OnnxExecutionProviders.Open(o => new InferenceSession(path, o), NewOptions, provider);
                choice = c;
                return session;
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidDataException($"{role} model '{Path.GetFileName(path)}' cannot be loaded by ONNX Runtime: {e.Message}", e);
            }
        }

        private static SessionOptions NewOptions() => new SessionOptions
        {
            IntraOpNumThreads = Environment.ProcessorCount,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };

        /// <summary>Describes a tensor shape, dynamic dimensions as their symbol or '?'.</summary>
        public static string Shape(NodeMetadata m)
        {
            var dims = m.Dimensions;
            var sym = m.SymbolicDimensions;
            return "[" + string.Join(", ", dims.Select((d, i) => d >= 0 ? d.ToString() : (sym != null && i < sym.Length && !string.IsNullOrEmpty(sym[i]) ? sym[i] : "?"))) + "]";
        }

        /// <summary>Checks that <paramref name="m"/> is a float32 tensor.</summary>
        public static void RequireFloatTensor(string model, string what, string name, NodeMetadata m)
        {
            if (m.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR || m.ElementType != typeof(float))
                throw new InvalidDataException($"Model '{model}': {what} '{name}' must be a float32 tensor, found {m.OnnxValueType} of {m.ElementType?.Name ?? "?"}.");
        }

        /// <summary>Custom metadata (metadata_props) of the model, empty when it has none.</summary>
        public static IReadOnlyDictionary<string, string> Metadata(InferenceSession s)
        {
            try { return s.ModelMetadata.CustomMetadataMap ?? new Dictionary<string, string>(); }
            catch (OnnxRuntimeException) { return new Dictionary<string, string>(); }
        }

        /// <summary>
        /// RGB image -> float[1, 3, h, w] planar tensor (bilinear resampling, pixel-centre aligned), each channel c mapped
        /// as (value * <paramref name="scale"/> - mean[c]) / std[c].
        /// </summary>
        public static float[] ToPlanar(RgbImage image, int w, int h, float scale, float[] mean, float[] std)
        {
            var t = new float[3 * w * h];
            double sx = (double)image.Width / w, sy = (double)image.Height / h;
            int W = image.Width, H = image.Height;
            var px = image.Pixels;
            int plane = w * h;
            for (int y = 0; y < h; y++)
            {
                double fy = Math.Max(0, Math.Min(H - 1, (y + 0.5) * sy - 0.5));
                int y0 = (int)fy, y1 = Math.Min(H - 1, y0 + 1);
                double ay = fy - y0;
                for (int x = 0; x < w; x++)
                {
                    double fx = Math.Max(0, Math.Min(W - 1, (x + 0.5) * sx - 0.5));
                    int x0 = (int)fx, x1 = Math.Min(W - 1, x0 + 1);
                    double ax = fx - x0;
                    for (int c = 0; c < 3; c++)
                    {
                        double v00 = px[3 * (y0 * W + x0) + c], v01 = px[3 * (y0 * W + x1) + c];
                        double v10 = px[3 * (y1 * W + x0) + c], v11 = px[3 * (y1 * W + x1) + c];
                        double v = (1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10 + ax * v11);
                        t[c * plane + y * w + x] = (float)((v * scale - mean[c]) / std[c]);
                    }
                }
            }
            return t;
        }

        /// <summary>Bilinear resampling of a float[h, w] plane (pixel-centre aligned) to <paramref name="outW"/> x <paramref name="outH"/>.</summary>
        public static float[] Resize(ReadOnlySpan<float> src, int w, int h, int outW, int outH)
        {
            var dst = new float[outW * outH];
            if (w == outW && h == outH) { src.CopyTo(dst); return dst; }
            double sx = (double)w / outW, sy = (double)h / outH;
            for (int y = 0; y < outH; y++)
            {
                double fy = Math.Max(0, Math.Min(h - 1, (y + 0.5) * sy - 0.5));
                int y0 = (int)fy, y1 = Math.Min(h - 1, y0 + 1);
                double ay = fy - y0;
                for (int x = 0; x < outW; x++)
                {
                    double fx = Math.Max(0, Math.Min(w - 1, (x + 0.5) * sx - 0.5));
                    int x0 = (int)fx, x1 = Math.Min(w - 1, x0 + 1);
                    double ax = fx - x0;
                    dst[y * outW + x] = (float)((1 - ay) * ((1 - ax) * src[y0 * w + x0] + ax * src[y0 * w + x1])
                                              + ay * ((1 - ax) * src[y1 * w + x0] + ax * src[y1 * w + x1]));
                }
            }
            return dst;
        }

        /// <summary>A textured test image (smooth gradients and a checker) for the validation run at load time.</summary>
        public static RgbImage ProbeImage(int w, int h, int seed)
        {
            var img = new RgbImage(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int o = 3 * (y * w + x);
                    img.Pixels[o] = (byte)(255 * x / Math.Max(1, w - 1));
                    img.Pixels[o + 1] = (byte)(255 * y / Math.Max(1, h - 1));
                    img.Pixels[o + 2] = (byte)((((x + seed) / 8 + y / 8) & 1) * 200 + 20);
                }
            return img;
        }
    }
}
