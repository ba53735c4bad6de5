using System.Collections.Generic;
using System.Linq;
using FlowMap.Depth;
using FlowMap.Tests.Support;
using Xunit;
using P = FlowMap.Depth.DepthExecutionProvider;
using Platform = FlowMap.Depth.OnnxExecutionProviders.Platform;

namespace FlowMap.Tests.Depth
{
    /// <summary>
    /// Choice of the depth model's ONNX Runtime execution provider: the platform's best first, the CPU last, every
    /// provider passed over with its reason. This machine has the CPU package only, so the fallback path runs for real;
    /// the CUDA, CoreML and NNAPI choices are checked on the candidate lists.
    /// </summary>
    public sealed class ExecutionProviderTests
    {
        private static readonly string Cpu = OnnxExecutionProviders.OrtName(P.Cpu);

        private static (List<P> List, List<string> Reasons) Candidates(P requested, Platform platform, params P[] available)
        {
            var reasons = new List<string>();
            var names = new HashSet<string>(available.Select(OnnxExecutionProviders.OrtName)) { Cpu };
            return (OnnxExecutionProviders.Candidates(requested, names, platform, reasons), reasons);
        }

        [Fact]
        public void Auto_takes_the_platforms_best_provider_when_the_build_has_it()
        {
            Assert.Equal(new[] { P.Cuda, P.Cpu }, Candidates(P.Auto, Platform.Desktop, P.Cuda).List);
            Assert.Equal(new[] { P.CoreMl, P.Cpu }, Candidates(P.Auto, Platform.Apple, P.CoreMl, P.Cuda).List);
            Assert.Equal(new[] { P.Nnapi, P.Xnnpack, P.Cpu }, Candidates(P.Auto, Platform.Android, P.Nnapi, P.Xnnpack).List);
            Assert.Empty(Candidates(P.Auto, Platform.Desktop, P.Cuda).Reasons);
        }

        [Fact]
        public void Without_the_provider_auto_falls_back_to_the_cpu_and_says_why()
        {
            var (list, reasons) = Candidates(P.Auto, Platform.Desktop);
            Assert.Equal(new[] { P.Cpu }, list);
            Assert.Contains("-p:FlowMapOnnxGpu=true", Assert.Single(reasons));
            (list, reasons) = Candidates(P.Auto, Platform.Android, P.Xnnpack);
            Assert.Equal(new[] { P.Xnnpack, P.Cpu }, list);
            Assert.Contains("NnapiExecutionProvider", Assert.Single(reasons));
        }

        [Fact]
        public void An_explicit_provider_overrides_the_platform_and_the_cpu_is_always_last()
        {
            Assert.Equal(new[] { P.Cpu }, Candidates(P.Cpu, Platform.Desktop, P.Cuda).List);
            Assert.Empty(Candidates(P.Cpu, Platform.Desktop, P.Cuda).Reasons);
            Assert.Equal(new[] { P.Xnnpack, P.Cpu }, Candidates(P.Xnnpack, Platform.Desktop, P.Xnnpack).List);
            var (list, reasons) = Candidates(P.CoreMl, Platform.Desktop);
            Assert.Equal(new[] { P.Cpu }, list);
            Assert.Contains("CoreMLExecutionProvider", Assert.Single(reasons));
        }

        [Fact]
        public void A_depth_model_on_this_cpu_build_runs_on_the_cpu_and_states_the_fallback()
        {
            using var prior = new OnnxDepthPrior(TestModels.Path("depth_dynamic.onnx"));
            Assert.Equal(P.Cpu, prior.Provider);
            var expected = OnnxExecutionProviders.Predict(P.Auto);
            Assert.Equal(P.Cpu, expected.Provider);
            if (OnnxExecutionProviders.Current == Platform.Desktop)
            {
                Assert.NotNull(prior.ProviderWarning);
                Assert.Contains("runs on cpu", prior.ProviderWarning);
                Assert.Contains("CUDA", prior.ProviderWarning);
                Assert.Contains("cpu", prior.Name);
            }
            using var asked = new OnnxDepthPrior(TestModels.Path("depth_dynamic.onnx"), DepthModelPreset.Auto, P.Cpu);
            Assert.Null(asked.ProviderWarning); // the CPU was asked for: nothing fell back
        }

        [Fact]
        public void A_provider_that_fails_to_start_falls_back_to_the_cpu_with_its_error()
        {
            // Pretend the build lists CUDA: appending it to a session on the CPU package fails at run time, exactly as a
            // GPU build does on a machine without the CUDA driver or cuDNN. The session must still open, on the CPU.
            var path = TestModels.Path("depth_dynamic.onnx");
            var available = new HashSet<string> { OnnxExecutionProviders.OrtName(P.Cuda), Cpu };
            var (session, choice) = OnnxExecutionProviders.Open(o => new Microsoft.ML.OnnxRuntime.InferenceSession(path, o),
                () => new Microsoft.ML.OnnxRuntime.SessionOptions(), P.Cuda, available, Platform.Desktop);
            using (session)
            {
                Assert.Equal(P.Cpu, choice.Provider);
                Assert.NotNull(choice.FallbackReason);
                Assert.Contains("cuda failed to start", choice.FallbackReason);
                Assert.StartsWith("cpu (fell back to the CPU", choice.ToString());
                Assert.Single(session.InputMetadata);
            }
        }

        [Theory]
        [InlineData("auto", P.Auto)]
        [InlineData("CUDA", P.Cuda)]
        [InlineData("coreml", P.CoreMl)]
        [InlineData(" xnnpack ", P.Xnnpack)]
        public void Provider_names_parse(string text, P expected)
        {
            Assert.True(OnnxExecutionProviders.TryParse(text, out var p));
            Assert.Equal(expected, p);
            Assert.False(OnnxExecutionProviders.TryParse("tensorrt", out _));
        }
    }
}
