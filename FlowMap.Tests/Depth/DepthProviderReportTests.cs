using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Depth;
using FlowMap.Session;
using FlowMap.Synthetic;
using FlowMap.Tests.Cli;
using FlowMap.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit;

namespace FlowMap.Tests.Depth
{
    /// <summary>
    /// The depth model's execution provider and the reason for a fallback reach the user everywhere the issue names:
    /// `flowmap doctor`, report.json ("depth_provider" and the warnings) and the live session's warnings and logger.
    /// This machine has the CPU package only, so on Linux/Windows the fallback from CUDA is what is stated.
    /// </summary>
    public sealed class DepthProviderReportTests : GpuTest
    {
        public DepthProviderReportTests(GpuFixture f) : base(f) { }

        private static bool Desktop => OnnxExecutionProviders.Current == OnnxExecutionProviders.Platform.Desktop;

        [Fact]
        public void Doctor_names_the_depth_provider_and_why_it_fell_back()
        {
            var (_, stdout, stderr) = CliProcess.Run(new[] { "doctor" });
            // The console may wrap the line at its width: take the text from the label to the next report line, unwrapped.
            int at = stdout.IndexOf("Depth model provider:", StringComparison.Ordinal);
            Assert.True(at >= 0, "no provider line in: " + stdout + stderr);
            int end = stdout.IndexOf("glslc", at, StringComparison.Ordinal);
            var line = string.Join(" ", stdout.Substring(at, (end < 0 ? stdout.Length : end) - at).Split(new[] { '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("cpu", line);
            if (Desktop) Assert.Contains("FlowMapOnnxGpu", line);
            var (_, json, _) = CliProcess.Run(new[] { "doctor", "--json" });
            using var doc = JsonDocument.Parse(json);
            Assert.StartsWith("cpu", doc.RootElement.GetProperty("depth_provider").GetString());
        }

        [Fact]
        public void Report_json_gives_the_depth_provider_and_the_fallback_warning()
        {
            _ = Ctx;
            using var tmp = new TempDir();
            var seq = tmp.Sub("seq");
            var (code, _, err) = CliProcess.Run(new[] { "synth", "--path", "walk", "--frames", "6", "--size", "96x72", "--seed", "3", "--out", seq });
            Assert.True(code == 0, "synth failed: " + err);
            var outDir = tmp.File("out");
            (code, _, err) = CliProcess.Run(new[] { "reconstruct", Path.Combine(seq, "color"), "--out", outDir, "--mode", "offline",
                "--depth-model", TestModels.Path("depth_dynamic.onnx"), "--json" }, timeoutMs: 600_000);
            Assert.True(code == 0, $"reconstruct failed ({code}): {err}");
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
            var root = doc.RootElement;
            Assert.Equal("cpu", root.GetProperty("depth_provider").GetString());
            foreach (var key in new[] { "frames_in", "frames_out", "mode", "processing_size", "wall_s", "fps", "stage_ms", "peak_memory_mb", "warnings", "focal_px" })
                Assert.True(root.TryGetProperty(key, out _), key + " missing from report.json");
            var warnings = root.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()).ToList();
            if (Desktop) Assert.Contains(warnings, w => w!.Contains("runs on cpu") && w.Contains("CUDA"));
        }

        [Fact]
        public void A_live_session_states_the_fallback_in_its_first_update_and_its_logger()
        {
            _ = Ctx;
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room", 5),
                new SyntheticSequenceOptions { Path = "walk", Frames = 2, Width = 96, Height = 72, Seed = 5 });
            var logger = new ListLogger();
            var updates = new ConcurrentQueue<FrameUpdate>();
            using (var session = ReconstructionSession.Create(new SessionOptions
            {
                DropFrames = false, ProcessingWidth = 96, ProcessingHeight = 72, Validation = true,
                DepthModelPath = TestModels.Path("depth_dynamic.onnx"), DepthProvider = DepthExecutionProvider.Auto, Logger = logger,
            }))
            {
                session.FrameProcessed += updates.Enqueue;
                for (int i = 0; i < 2; i++) session.PushFrame(seq.Frame(i).Pixels, 96, 72, 96 * 3, PixelFormat.Rgb24, i / 30.0);
                session.Complete();
                Assert.True(session.Completion.Wait(TimeSpan.FromMinutes(5)));
            }
            var first = updates.First();
            if (!Desktop) return; // elsewhere the platform's provider may be present: nothing to state
            Assert.Contains(first.Warnings, w => w.Contains("runs on cpu"));
            Assert.DoesNotContain(updates.Skip(1), u => u.Warnings.Any(w => w.Contains("runs on cpu"))); // said once
            Assert.Contains(logger.Lines, l => l.Contains("runs on cpu"));
        }

        private sealed class ListLogger : ILogger
        {
            public ConcurrentQueue<string> Lines { get; } = new ConcurrentQueue<string>();
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) Lines.Enqueue(formatter(state, exception));
            }
        }
    }
}
