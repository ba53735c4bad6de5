using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace FlowMap.Depth
{
    /// <summary>Where ONNX Runtime runs the depth model (its execution provider).</summary>
    public enum DepthExecutionProvider
    {
        /// <summary>The best one this build and machine offer: CUDA (Linux/Windows with the GPU package and a driver), CoreML (Apple), NNAPI then XNNPACK (Android), else the CPU.</summary>
        Auto,
        /// <summary>ONNX Runtime's CPU provider (always present).</summary>
        Cpu,
        /// <summary>NVIDIA CUDA (needs the Microsoft.ML.OnnxRuntime.Gpu build, CUDA 12 and cuDNN 9).</summary>
        Cuda,
        /// <summary>Apple CoreML (macOS, iOS).</summary>
        CoreMl,
        /// <summary>Android NNAPI.</summary>
        Nnapi,
        /// <summary>XNNPACK (optimised CPU kernels on Arm, Android).</summary>
        Xnnpack,
    }

    /// <summary>The provider a model session got, and why it is not the one asked for (null when it is).</summary>
    internal sealed class ProviderChoice
    {
        public ProviderChoice(DepthExecutionProvider provider, string? fallbackReason)
        {
            Provider = provider;
            FallbackReason = fallbackReason;
        }

        public DepthExecutionProvider Provider { get; }
        public string? FallbackReason { get; }

        /// <summary>Lower-case name for reports: "cpu", "cuda", "coreml", "nnapi", "xnnpack".</summary>
        public string Name => OnnxExecutionProviders.Name(Provider);

        /// <summary>One line for doctor, the report and the session's warnings.</summary>
        public override string ToString() => FallbackReason == null ? Name : $"{Name} ({FallbackReason})";
    }

    /// <summary>
    /// Choice of the ONNX Runtime execution provider for a model session: the candidates in order of preference for the
    /// platform (<see cref="Candidates"/>), each tried at session creation (a provider can be compiled in and still fail:
    /// no driver, no cuDNN), the CPU last. Every provider passed over leaves its reason.
    /// </summary>
    internal static class OnnxExecutionProviders
    {
        /// <summary>The operating systems that decide the preference order.</summary>
        internal enum Platform { Desktop, Apple, Android }

        public static Platform Current =>
            RuntimeInformation.IsOSPlatform(OSPlatform.OSX) || IsOs("IOS") ? Platform.Apple
            : IsOs("ANDROID") ? Platform.Android
            : Platform.Desktop;

        private static bool IsOs(string name) => RuntimeInformation.IsOSPlatform(OSPlatform.Create(name));

        /// <summary>ONNX Runtime's name of a provider, as <c>OrtEnv.GetAvailableProviders</c> lists it.</summary>
        public static string OrtName(DepthExecutionProvider p) => p switch
        {
            DepthExecutionProvider.Cuda => "CUDAExecutionProvider",
            DepthExecutionProvider.CoreMl => "CoreMLExecutionProvider",
            DepthExecutionProvider.Nnapi => "NnapiExecutionProvider",
            DepthExecutionProvider.Xnnpack => "XnnpackExecutionProvider",
            _ => "CPUExecutionProvider",
        };

        public static string Name(DepthExecutionProvider p) => p switch
        {
            DepthExecutionProvider.Cuda => "cuda",
            DepthExecutionProvider.CoreMl => "coreml",
            DepthExecutionProvider.Nnapi => "nnapi",
            DepthExecutionProvider.Xnnpack => "xnnpack",
            DepthExecutionProvider.Auto => "auto",
            _ => "cpu",
        };

        /// <summary>Parses a provider name ("auto", "cpu", "cuda", "coreml", "nnapi", "xnnpack"), case-insensitive.</summary>
        public static bool TryParse(string? text, out DepthExecutionProvider provider)
        {
            foreach (DepthExecutionProvider p in Enum.GetValues(typeof(DepthExecutionProvider)))
                if (string.Equals(Name(p), text?.Trim(), StringComparison.OrdinalIgnoreCase)) { provider = p; return true; }
            provider = DepthExecutionProvider.Auto;
            return false;
        }

        private static IEnumerable<DepthExecutionProvider> Preferred(Platform platform) => platform switch
        {
            Platform.Apple => new[] { DepthExecutionProvider.CoreMl },
            Platform.Android => new[] { DepthExecutionProvider.Nnapi, DepthExecutionProvider.Xnnpack },
            _ => new[] { DepthExecutionProvider.Cuda },
        };

        private static string Missing(DepthExecutionProvider p) => p == DepthExecutionProvider.Cuda
            ? "CUDA is not in this ONNX Runtime build (the CPU package; build with -p:FlowMapOnnxGpu=true for Microsoft.ML.OnnxRuntime.Gpu)"
            : $"{OrtName(p)} is not in this ONNX Runtime build";

        /// <summary>
        /// The providers to try, best first, ending with the CPU; <paramref name="reasons"/> gets why a preferred provider
        /// is not among them (not compiled into this ONNX Runtime build).
        /// </summary>
        /// <param name="requested">Auto for the platform's best; otherwise that provider (then the CPU).</param>
        /// <param name="available">Provider names this ONNX Runtime build has (<c>OrtEnv.GetAvailableProviders</c>).</param>
        /// <param name="platform">The operating system family.</param>
        /// <param name="reasons">Receives one reason per provider passed over.</param>
        public static List<DepthExecutionProvider> Candidates(DepthExecutionProvider requested, ICollection<string> available, Platform platform,
            List<string> reasons)
        {
            var wanted = requested == DepthExecutionProvider.Auto ? Preferred(platform) : new[] { requested };
            var list = new List<DepthExecutionProvider>();
            foreach (var p in wanted)
            {
                if (p == DepthExecutionProvider.Cpu) continue;
                if (available.Contains(OrtName(p))) list.Add(p);
                else reasons.Add(Missing(p));
            }
            list.Add(DepthExecutionProvider.Cpu);
            return list;
        }

        /// <summary>Adds provider <paramref name="p"/> to <paramref name="options"/> (the CPU needs nothing).</summary>
        public static void Append(SessionOptions options, DepthExecutionProvider p)
        {
            switch (p)
            {
                case DepthExecutionProvider.Cuda: options.AppendExecutionProvider_CUDA(0); break;
                case DepthExecutionProvider.CoreMl: options.AppendExecutionProvider_CoreML(CoreMLFlags.COREML_FLAG_USE_NONE); break;
                case DepthExecutionProvider.Nnapi: options.AppendExecutionProvider_Nnapi(NnapiFlags.NNAPI_FLAG_USE_NONE); break;
                case DepthExecutionProvider.Xnnpack: options.AppendExecutionProvider("XNNPACK", new Dictionary<string, string>()); break;
            }
        }

        /// <summary>
        /// Opens a session on the first candidate that works: each non-CPU provider is appended and the session created;
        /// a failure (no driver, missing CUDA/cuDNN libraries, an operator the provider lacks) is recorded and the next
        /// candidate tried. The CPU session's own failure propagates (the model itself is bad).
        /// </summary>
        /// <param name="create">Creates the session from options that already carry a provider.</param>
        /// <param name="baseOptions">New session options with the common settings.</param>
        /// <param name="requested">The provider asked for.</param>
        /// <param name="available">Provider names of this ONNX Runtime build; null asks ONNX Runtime.</param>
        /// <param name="platform">The operating system family; null for this machine's.</param>
        public static (InferenceSession Session, ProviderChoice Choice) Open(Func<SessionOptions, InferenceSession> create, Func<SessionOptions> baseOptions,
            DepthExecutionProvider requested, ICollection<string>? available = null, Platform? platform = null)
        {
            var reasons = new List<string>();
            available ??= AvailableProviders(reasons);
            foreach (var p in Candidates(requested, available, platform ?? Current, reasons))
            {
                var options = baseOptions();
                try
                {
                    if (p != DepthExecutionProvider.Cpu)
                    {
                        try
                        {
                            Append(options, p);
                            var session = create(options);
                            return (session, new ProviderChoice(p, reasons.Count > 0 ? string.Join("; ", reasons) : null));
                        }
                        catch (Exception e) when (e is OnnxRuntimeException || e is EntryPointNotFoundException || e is DllNotFoundException ||
                                                  e is NotSupportedException || e is System.IO.InvalidDataException)
                        {
                            reasons.Add($"{Name(p)} failed to start: {FirstLine(e.Message)}");
                            continue;
                        }
                    }
                    var cpu = create(options);
                    bool asked = requested == DepthExecutionProvider.Cpu;
                    return (cpu, new ProviderChoice(DepthExecutionProvider.Cpu, asked || reasons.Count == 0 ? null : "fell back to the CPU: " + string.Join("; ", reasons)));
                }
                finally
                {
                    options.Dispose();
                }
            }
            throw new InvalidOperationException("No execution provider candidate (the CPU is always one).");
        }

        /// <summary>Provider names of this ONNX Runtime build; just the CPU when the query fails (with the reason).</summary>
        public static ICollection<string> AvailableProviders(List<string>? reasons = null)
        {
            try
            {
                return new HashSet<string>(OrtEnv.Instance().GetAvailableProviders());
            }
            catch (Exception e) when (e is OnnxRuntimeException || e is DllNotFoundException || e is EntryPointNotFoundException || e is TypeInitializationException)
            {
                reasons?.Add("ONNX Runtime did not list its providers: " + FirstLine(e.Message));
                return new HashSet<string> { OrtName(DepthExecutionProvider.Cpu) };
            }
        }

        /// <summary>What <see cref="Open"/> would choose for <paramref name="requested"/> on this build and machine, without a model (for doctor).</summary>
        public static ProviderChoice Predict(DepthExecutionProvider requested)
        {
            var reasons = new List<string>();
            var first = Candidates(requested, AvailableProviders(reasons), Current, reasons)[0];
            string? reason = reasons.Count == 0 ? null
                : first == DepthExecutionProvider.Cpu && requested != DepthExecutionProvider.Cpu ? "fell back to the CPU: " + string.Join("; ", reasons)
                : string.Join("; ", reasons);
            return new ProviderChoice(first, reason);
        }

        private static string FirstLine(string s)
        {
            int i = s.IndexOfAny(new[] { '\r', '\n' });
            return (i < 0 ? s : s.Substring(0, i)).Trim();
        }
    }
}
