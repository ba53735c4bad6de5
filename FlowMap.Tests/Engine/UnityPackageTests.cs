using System;
using System.Collections.Generic;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using FlowMap.Tests.Cli;
using Xunit;

namespace FlowMap.Tests.Engine
{
    /// <summary>
    /// `flowmap pack unity` produces a tarball Unity's Package Manager can install from disk: entries under "package/",
    /// the manifest, the Runtime assembly definition, the Runtime built for netstandard2.1 with its managed dependencies,
    /// ONNX Runtime's native library per platform, the sample and the documentation, and a .meta beside every asset.
    /// </summary>
    public sealed class UnityPackageTests
    {
        [Fact]
        public void Pack_unity_writes_an_installable_tarball_with_a_netstandard21_runtime()
        {
            var outDir = Path.Combine(Path.GetTempPath(), "flowmap-pack-test-" + Guid.NewGuid().ToString("N"));
            try
            {
                var (code, stdout, stderr) = CliProcess.Run(new[] { "pack", "unity", "--out", outDir }, timeoutMs: 600_000);
                Assert.True(code == 0, $"pack unity failed ({code}): {stdout}\n{stderr}");
                var tgz = Directory.GetFiles(outDir, "*.tgz").Single();
                Assert.Equal("com.flowmap.reconstruction-", Path.GetFileName(tgz).Substring(0, "com.flowmap.reconstruction-".Length));

                var entries = new Dictionary<string, byte[]>();
                var sizes = new Dictionary<string, long>();
                var directories = new HashSet<string>();
                using (var fs = File.OpenRead(tgz))
                using (var gz = new GZipStream(fs, CompressionMode.Decompress))
                using (var tar = new TarReader(gz))
                {
                    TarEntry? e;
                    while ((e = tar.GetNextEntry()) != null)
                    {
                        var entryName = e.Name.Replace('\\', '/');
                        if (e.EntryType is TarEntryType.Directory) { directories.Add(entryName.TrimEnd('/')); continue; }
                        using var ms = new MemoryStream();
                        // Keep small files whole; of the big native libraries only the first 4 MiB and the size.
                        var buffer = new byte[4 << 20];
                        int n, total = 0;
                        long size = 0;
                        while (e.DataStream != null && (n = e.DataStream.Read(buffer, 0, buffer.Length)) > 0)
                        {
                            if (total < buffer.Length) { ms.Write(buffer, 0, Math.Min(n, buffer.Length - total)); total += n; }
                            size += n;
                        }
                        entries[entryName] = ms.ToArray();
                        sizes[entryName] = size;
                    }
                }
                Assert.All(entries.Keys, k => Assert.StartsWith("package/", k));

                // Manifest: the fields the Package Manager reads.
                var manifest = JsonDocument.Parse(entries["package/package.json"]).RootElement;
                foreach (var key in new[] { "name", "version", "displayName", "description", "unity", "author", "license", "keywords", "samples" })
                    Assert.True(manifest.TryGetProperty(key, out _), "package.json lacks " + key);
                Assert.Equal("Samples~/LiveReconstruction", manifest.GetProperty("samples")[0].GetProperty("path").GetString());

                // Layout.
                foreach (var required in new[]
                         {
                             "package/Runtime/FlowMap.Unity.asmdef", "package/Runtime/Plugins/FlowMap.Runtime.dll",
                             "package/Runtime/Plugins/Silk.NET.Vulkan.dll", "package/Runtime/Plugins/Silk.NET.Core.dll",
                             "package/Runtime/Plugins/Microsoft.ML.OnnxRuntime.dll", "package/Runtime/Plugins/K4os.Compression.LZ4.dll",
                             "package/Runtime/Plugins/Android/onnxruntime.aar", "package/Runtime/FlowMapSession.cs",
                             "package/Runtime/Plugins/Linux/x86_64/libonnxruntime.so",
                             "package/Samples~/LiveReconstruction/FlowMapCameraFeed.cs", "package/Documentation~/index.md",
                             "package/LICENSE.md",
                         })
                    Assert.True(entries.ContainsKey(required), "missing " + required);

                // Only the managed assemblies the Runtime needs and Unity does not provide, each documented with why.
                var managed = entries.Keys.Where(k => k.StartsWith("package/Runtime/Plugins/") && k.Count(c => c == '/') == 3 && k.EndsWith(".dll"))
                    .Select(k => k.Substring("package/Runtime/Plugins/".Length)).OrderBy(k => k, StringComparer.Ordinal).ToList();
                Assert.Equal(FlowMap.Viewer.Cli.PackCommand.ShippedAssemblies.Keys.OrderBy(k => k, StringComparer.Ordinal), managed);
                foreach (var banned in new[] { "System.Runtime.CompilerServices.Unsafe.dll", "Microsoft.Bcl.AsyncInterfaces.dll", "System.IO.Pipelines.dll",
                                               "Microsoft.Extensions.DependencyModel.dll", "System.Memory.dll", "System.Buffers.dll", "Microsoft.CSharp.dll" })
                    Assert.DoesNotContain(banned, managed);
                var docs = System.Text.Encoding.UTF8.GetString(entries["package/Documentation~/index.md"]);
                foreach (var dll in managed)
                {
                    var row = docs.Split('\n').FirstOrDefault(l => l.StartsWith($"| `{dll}` |", StringComparison.Ordinal));
                    Assert.True(row != null, dll + " is not listed in Documentation~/index.md");
                    Assert.True(row!.Split('|')[2].Trim().Length > 5, dll + " has no reason in Documentation~/index.md");
                }

                // The native ONNX Runtime is the version the project pins, byte for byte the restored package's files.
                var root = FlowMap.Viewer.Cli.PackCommand.RepoRoot();
                var pinned = FlowMap.Viewer.Cli.PackCommand.PinnedOnnxRuntimeVersion(root);
                Assert.Equal(pinned, System.Text.Encoding.UTF8.GetString(entries["package/Runtime/Plugins/onnxruntime-version.txt"]).Trim());
                var (_, runtimes) = FlowMap.Viewer.Cli.PackCommand.OnnxNativeFolder(root);
                var nativeSo = Path.Combine(runtimes, "linux-x64", "native", "libonnxruntime.so");
                Assert.Equal(new FileInfo(nativeSo).Length, sizes["package/Runtime/Plugins/Linux/x86_64/libonnxruntime.so"]);
                Assert.Equal(new FileInfo(Path.Combine(runtimes, "android", "native", "onnxruntime.aar")).Length, sizes["package/Runtime/Plugins/Android/onnxruntime.aar"]);

                // Android and iOS libraries, each enabled for its own platform only.
                string Meta(string asset) => System.Text.Encoding.UTF8.GetString(entries[asset + ".meta"]);
                var androidMeta = Meta("package/Runtime/Plugins/Android/onnxruntime.aar");
                Assert.Contains("Android: Android\n    second:\n      enabled: 1", androidMeta);
                Assert.Contains("Any: \n    second:\n      enabled: 0", androidMeta);
                Assert.Contains("Editor: Editor\n    second:\n      enabled: 0", androidMeta);
                Assert.Contains("package/Runtime/Plugins/iOS/onnxruntime.xcframework", directories);
                Assert.Contains(entries.Keys, k => k.StartsWith("package/Runtime/Plugins/iOS/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/"));
                var iosMeta = Meta("package/Runtime/Plugins/iOS/onnxruntime.xcframework");
                Assert.Contains("iPhone: iOS\n    second:\n      enabled: 1", iosMeta);
                Assert.Contains("Editor: Editor\n    second:\n      enabled: 0", iosMeta);
                Assert.DoesNotContain(entries.Keys, k => k.Contains(".xcframework/") && k.EndsWith(".meta")); // one asset: no metas inside
                var linuxMeta = Meta("package/Runtime/Plugins/Linux/x86_64/libonnxruntime.so");
                Assert.Contains("Standalone: Linux64\n    second:\n      enabled: 1", linuxMeta);

                // The component, in the package itself: camera feed in, poses and points out, events on the main thread
                // (queued from the pipeline thread, raised in Update), axes converted by the library's UnityAxes.
                var component = System.Text.Encoding.UTF8.GetString(entries["package/Runtime/FlowMapSession.cs"]);
                Assert.Contains("public sealed class FlowMapSession : MonoBehaviour", component);
                Assert.Contains("public bool PushFrame(Color32[] pixels, int width, int height)", component);
                Assert.Contains("session.FrameProcessed += _updates.Enqueue;", component);
                Assert.Contains("private void Update()", component);
                Assert.Contains("_updates.TryDequeue", component);
                Assert.Contains("UnityAxes.Rotation(", component);
                Assert.Contains("UnityAxes.Positions(", component);
                Assert.Contains("public PoseEvent poseUpdated", component);
                Assert.Contains("public event Action<Vector3[], Color32[]> PointsAdded", component);
                Assert.True(entries.ContainsKey("package/Runtime/FlowMapSession.cs.meta"));
                var sample = System.Text.Encoding.UTF8.GetString(entries["package/Samples~/LiveReconstruction/FlowMapCameraFeed.cs"]);
                Assert.Contains("[RequireComponent(typeof(FlowMapSession))]", sample); // the sample builds on the component
                Assert.DoesNotContain("ReconstructionSession.Create", sample);
                // The library types the Unity code names exist in the shipped Runtime (public), with these members.
                Assert.NotNull(typeof(UnityAxes).GetMethod(nameof(UnityAxes.Rotation)));
                Assert.NotNull(typeof(FlowMap.Session.SessionOptions).GetProperty(nameof(FlowMap.Session.SessionOptions.DepthProvider)));
                Assert.NotNull(typeof(FlowMap.Session.SessionOptions).GetProperty(nameof(FlowMap.Session.SessionOptions.Logger)));

                // How to install: from the tarball, never a git URL (the repository is not a package).
                Assert.Contains("tarball", manifest.GetProperty("_installation").GetString());
                Assert.Contains("Add package from tarball", docs);
                var readme = File.ReadAllText(Path.Combine(root, "README.md"));
                Assert.Contains("Add package from tarball", readme);
                foreach (var text in new[] { System.Text.Encoding.UTF8.GetString(entries["package/package.json"]), docs, readme })
                    Assert.DoesNotMatch(@"(git\+https?://|https?://[^\s)]*\.git\b|\.git#)", text);

                // Every asset outside '~' folders has a .meta (Unity refuses immutable packages without them) with a unique GUID.
                var assets = entries.Keys.Where(k => !k.EndsWith(".meta") && !k.Split('/').Any(p => p.EndsWith("~")) && !k.Contains(".xcframework/")).ToList();
                foreach (var a in assets)
                    Assert.True(entries.ContainsKey(a + ".meta"), "no .meta for " + a);
                var guids = entries.Where(kv => kv.Key.EndsWith(".meta"))
                    .Select(kv => System.Text.Encoding.UTF8.GetString(kv.Value).Split('\n').First(l => l.StartsWith("guid: ")))
                    .ToList();
                Assert.Equal(guids.Count, guids.Distinct().Count());

                // The Runtime in the package is the netstandard2.1 build (the profile Unity loads), not net10.0.
                Assert.Equal(".NETStandard,Version=v2.1", TargetFramework(entries["package/Runtime/Plugins/FlowMap.Runtime.dll"]));
                // The asmdef references every managed plugin it names.
                var asmdef = JsonDocument.Parse(entries["package/Runtime/FlowMap.Unity.asmdef"]).RootElement;
                foreach (var r in asmdef.GetProperty("precompiledReferences").EnumerateArray())
                    Assert.True(entries.ContainsKey("package/Runtime/Plugins/" + r.GetString()), "asmdef names a missing plugin " + r.GetString());
            }
            finally
            {
                try { Directory.Delete(outDir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }

        [Fact]
        public void Pack_nuget_ships_the_runtime_for_net10_and_netstandard21_with_docs()
        {
            var outDir = Path.Combine(Path.GetTempPath(), "flowmap-nuget-test-" + Guid.NewGuid().ToString("N"));
            try
            {
                var (code, stdout, stderr) = CliProcess.Run(new[] { "pack", "nuget", "--out", outDir }, timeoutMs: 600_000);
                Assert.True(code == 0, $"pack nuget failed ({code}): {stdout}\n{stderr}");
                var nupkg = Directory.GetFiles(outDir, "FlowMap.Runtime.*.nupkg").Single();
                using var zip = ZipFile.OpenRead(nupkg);
                var names = zip.Entries.Select(e => e.FullName).ToHashSet();
                foreach (var tfm in new[] { "net10.0", "netstandard2.1" })
                {
                    Assert.Contains($"lib/{tfm}/FlowMap.Runtime.dll", names);
                    Assert.Contains($"lib/{tfm}/FlowMap.Runtime.xml", names);
                }
                using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec")).Open());
                var spec = nuspec.ReadToEnd();
                Assert.Contains("Silk.NET.Vulkan", spec);
                Assert.Contains("Microsoft.ML.OnnxRuntime", spec);
            }
            finally
            {
                try { Directory.Delete(outDir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }

        /// <summary>The assembly's TargetFrameworkAttribute value, read from its metadata without loading it.</summary>
        private static string TargetFramework(byte[] dll)
        {
            using var pe = new PEReader(new MemoryStream(dll));
            var md = pe.GetMetadataReader();
            foreach (var h in md.GetAssemblyDefinition().GetCustomAttributes())
            {
                var attr = md.GetCustomAttribute(h);
                if (attr.Constructor.Kind != HandleKind.MemberReference) continue;
                var ctor = md.GetMemberReference((MemberReferenceHandle)attr.Constructor);
                var type = md.GetTypeReference((TypeReferenceHandle)ctor.Parent);
                if (md.GetString(type.Name) != "TargetFrameworkAttribute") continue;
                var blob = md.GetBlobReader(attr.Value);
                blob.ReadUInt16(); // prolog
                return blob.ReadSerializedString() ?? "";
            }
            return "";
        }
    }
}
