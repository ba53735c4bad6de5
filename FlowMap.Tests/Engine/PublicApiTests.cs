using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using FlowMap.Session;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Engine
{
    /// <summary>
    /// The engine package's public surface. The member-level listing is pinned at build time by the public API analyzer
    /// (FlowMap.Runtime/PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt: a public symbol missing there, or listed there and
    /// gone, is a build error). These tests pin what the analyzer does not: which types an engine sees at all, and that the
    /// library's namespaces follow its folders.
    /// </summary>
    public sealed class PublicApiTests
    {
        /// <summary>
        /// What an engine needs: the session and its options, frame updates and stats, the pixel format, keyframe poses and the completed session's result; the core domain types
        /// a session hands out (pose, intrinsics, point cloud, images, flow, frame) and the Unity axis conversion; the depth
        /// model's execution provider (an option); and the exceptions a session throws for GPU problems. Evaluation,
        /// datasets, synthetic scenes, diagnostics, capture, export, the solver and the GPU layer are internal (the CLI and
        /// the tests reach them through InternalsVisibleTo). Adding a type here is an API decision: say why in review.
        /// </summary>
        private static readonly string[] EngineTypes =
        {
            "FlowMap.Core.CameraPose", "FlowMap.Core.FloatImage", "FlowMap.Core.FlowField", "FlowMap.Core.Frame",
            "FlowMap.Core.Intrinsics", "FlowMap.Core.PointCloud", "FlowMap.Core.RgbImage", "FlowMap.Core.UnityAxes",
            "FlowMap.Depth.DepthExecutionProvider",
            "FlowMap.Gpu.GpuUnavailableException", "FlowMap.Gpu.VulkanException", "FlowMap.Gpu.VulkanValidationException",
            "FlowMap.Session.FrameUpdate", "FlowMap.Session.PixelFormat", "FlowMap.Session.ReconstructionSession",
            "FlowMap.Session.SessionOptions", "FlowMap.Session.SessionStats",
            // Issue 12 item 4: refined keyframe poses (an XR app moves its anchors) and the finished session's result.
            "FlowMap.Session.FramePose", "FlowMap.Session.SessionResult",
        };

        [Fact]
        public void The_runtime_exports_only_the_engine_types()
        {
            var exported = typeof(ReconstructionSession).Assembly.GetExportedTypes().Select(t => t.FullName!).OrderBy(n => n, StringComparer.Ordinal).ToArray();
            var extra = exported.Except(EngineTypes).ToArray();
            var missing = EngineTypes.Except(exported).ToArray();
            Assert.True(extra.Length == 0 && missing.Length == 0,
                $"Public types not in the engine list: {string.Join(", ", extra)}; engine types not public: {string.Join(", ", missing)}.");
        }

        [Fact]
        public void Every_public_symbol_is_in_the_pinned_listing()
        {
            // The analyzer enforces this at build time; here the listing files are checked to exist and to name every exported
            // type, so a build that dropped the analyzer (or its AdditionalFiles) fails a test instead of passing silently.
            var root = Repo.Root() ?? throw new InvalidOperationException("The repository root (FlowMap.sln) was not found above the test assembly.");
            var listing = string.Join("\n", new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" }
                .Select(f => File.ReadAllText(Path.Combine(root, "FlowMap.Runtime", f))));
            var lines = listing.Split('\n').Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
            foreach (var t in EngineTypes) Assert.Contains(t, lines);
            var csproj = File.ReadAllText(Path.Combine(root, "FlowMap.Runtime", "FlowMap.Runtime.csproj"));
            Assert.Contains("Microsoft.CodeAnalysis.PublicApiAnalyzers", csproj);
            Assert.Contains("RS0016", csproj); // an unlisted public symbol is an error, not a warning
        }

        [Fact]
        public void Namespaces_follow_folders()
        {
            var root = Repo.Root() ?? throw new InvalidOperationException("The repository root (FlowMap.sln) was not found above the test assembly.");
            var runtime = Path.Combine(root, "FlowMap.Runtime");
            var ns = new Regex(@"^namespace\s+([\w.]+)", RegexOptions.Multiline);
            var wrong = Directory.EnumerateFiles(runtime, "*.cs", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(runtime, f).Replace('\\', '/'))
                .Where(f => !f.StartsWith("bin/") && !f.StartsWith("obj/") && !f.StartsWith("Compat/")) // Compat: BCL polyfills in BCL namespaces
                .Select(f =>
                {
                    var folder = Path.GetDirectoryName(f)!.Replace('\\', '/');
                    // The Unity package's sources: Engine/Unity/Runtime is FlowMap.Engine.Unity (Runtime/ is Unity's layout, not a namespace),
                    // Engine/Unity/Samples~/X is FlowMap.Engine.Unity.Samples.
                    folder = folder.Replace("Engine/Unity/Runtime", "Engine/Unity").Replace("Engine/Unity/Samples~/LiveReconstruction", "Engine/Unity/Samples");
                    var expected = "FlowMap" + (folder.Length == 0 ? "" : "." + folder.Replace('/', '.'));
                    var declared = ns.Matches(File.ReadAllText(Path.Combine(runtime, f))).Select(m => m.Groups[1].Value).Distinct().ToArray();
                    return (f, expected, declared);
                })
                .Where(x => x.declared.Length != 1 || x.declared[0] != x.expected)
                .Select(x => $"{x.f}: {string.Join("/", x.declared)} (expected {x.expected})")
                .ToArray();
            Assert.True(wrong.Length == 0, "Namespaces that do not follow their folder:\n" + string.Join("\n", wrong));
        }
    }
}
