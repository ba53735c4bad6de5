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
                using (var fs = File.OpenRead(tgz))
                using (var gz = new GZipStream(fs, CompressionMode.Decompress))
                using (var tar = new TarReader(gz))
                {
                    TarEntry? e;
                    while ((e = tar.GetNextEntry()) != null)
                    {
                        if (e.EntryType is TarEntryType.Directory) continue;
                        using var ms = new MemoryStream();
                        e.DataStream?.CopyTo(ms);
                        entries[e.Name.Replace('\\', '/')] = ms.ToArray();
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
                             "package/Runtime/Plugins/Linux/x86_64/libonnxruntime.so",
                             "package/Samples~/LiveReconstruction/FlowMapCameraFeed.cs", "package/Documentation~/index.md",
                             "package/LICENSE.md",
                         })
                    Assert.True(entries.ContainsKey(required), "missing " + required);

                // Every asset outside '~' folders has a .meta (Unity refuses immutable packages without them) with a unique GUID.
                var assets = entries.Keys.Where(k => !k.EndsWith(".meta") && !k.Split('/').Any(p => p.EndsWith("~"))).ToList();
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
