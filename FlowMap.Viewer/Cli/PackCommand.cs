using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap pack unity` builds the Runtime for netstandard2.1 (the profile Unity loads) with its managed dependencies
    /// and ONNX Runtime's native libraries into a Unity Package Manager tarball installable from disk
    /// ("Add package from tarball"); `flowmap pack nuget` runs `dotnet pack` on FlowMap.Runtime.
    /// Needs the source tree (it is a developer command).
    /// </summary>
    public sealed class PackCommand : ICliCommand
    {
        public int Order => 85;

        /// <summary>
        /// The managed assemblies the package ships, each with why (Documentation~/index.md lists the same): those the
        /// Runtime needs that Unity does not provide. Everything else `dotnet publish` puts beside them (System.Memory,
        /// System.Buffers, System.Runtime.CompilerServices.Unsafe, System.Threading.Tasks.Extensions, Microsoft.Bcl.AsyncInterfaces,
        /// System.IO.Pipelines, Microsoft.Extensions.DependencyInjection.Abstractions, System.Diagnostics.DiagnosticSource,
        /// Microsoft.CSharp, ...) is left out: Unity's .NET Standard 2.1 profile has those types, or FlowMap never calls the code
        /// that needs them, and a second copy collides with other packages.
        /// </summary>
        internal static readonly IReadOnlyDictionary<string, string> ShippedAssemblies = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["FlowMap.Runtime.dll"] = "the library",
            ["Silk.NET.Core.dll"] = "Vulkan bindings (loader, native strings)",
            ["Silk.NET.Vulkan.dll"] = "Vulkan bindings (the compute API)",
            ["Microsoft.ML.OnnxRuntime.dll"] = "ONNX Runtime's managed API (depth models)",
            ["Microsoft.Extensions.Logging.Abstractions.dll"] = "ILogger, the logging interface of SessionOptions.Logger",
            ["K4os.Compression.LZ4.dll"] = "LZ4 frames of recorded session files",
            ["System.IO.Hashing.dll"] = "CRC-32 of session file records",
            ["StbImageSharp.dll"] = "PNG/JPEG decoding of image folders and session frames",
            ["StbImageWriteSharp.dll"] = "PNG encoding of session frames and exports",
            ["System.Text.Json.dll"] = "session file headers and the JSON exports (not in Unity's player profile)",
            ["System.Text.Encodings.Web.dll"] = "required by System.Text.Json",
        };

        public Command Build()
        {
            var cmd = new Command("pack", "Package FlowMap: `pack unity` (UPM tarball) or `pack nuget` (FlowMap.Runtime .nupkg).");
            var unity = new Command("unity", "Build the Runtime for netstandard2.1 and write a Unity package tarball (.tgz).");
            var outOpt = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "out/pack" };
            unity.Options.Add(outOpt);
            unity.SetAction(r => { var p = PackUnity(Path.GetFullPath(r.GetValue(outOpt)!)); Console.WriteLine(p); return 0; });
            var nuget = new Command("nuget", "dotnet pack FlowMap.Runtime into the output folder.");
            var outOpt2 = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "out/pack" };
            nuget.Options.Add(outOpt2);
            nuget.SetAction(r =>
            {
                var root = RepoRoot();
                var outDir = Path.GetFullPath(r.GetValue(outOpt2)!);
                Run("dotnet", "pack", Path.Combine(root, "FlowMap.Runtime", "FlowMap.Runtime.csproj"), "-c", "Release", "-o", outDir, "-nologo", "-v", "q");
                foreach (var f in Directory.GetFiles(outDir, "*.nupkg")) Console.WriteLine(f);
                return 0;
            });
            cmd.Subcommands.Add(unity);
            cmd.Subcommands.Add(nuget);
            return cmd;
        }

        public static string RepoRoot()
        {
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
                for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                    if (File.Exists(Path.Combine(d.FullName, "FlowMap.sln"))) return d.FullName;
            throw new CliException("`flowmap pack` needs the FlowMap source tree (no FlowMap.sln above the current folder).");
        }

        /// <summary>Builds the tarball; returns its path.</summary>
        public static string PackUnity(string outDir)
        {
            var root = RepoRoot();
            var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "package.json"))).RootElement;
            string name = manifest.GetProperty("name").GetString()!, version = manifest.GetProperty("version").GetString()!;
            var work = Path.Combine(Path.GetTempPath(), "flowmap-pack-" + Guid.NewGuid().ToString("N"));
            try
            {
                // 1. The Runtime for netstandard2.1 with its managed dependencies.
                var publish = Path.Combine(work, "publish");
                Run("dotnet", "publish", Path.Combine(root, "FlowMap.Runtime", "FlowMap.Runtime.csproj"), "-f", "netstandard2.1", "-c", "Release",
                    "-o", publish, "-nologo", "-v", "q");

                // 2. The package layout Unity expects.
                var pkg = Path.Combine(work, "package");
                var plugins = Path.Combine(pkg, "Runtime", "Plugins");
                Directory.CreateDirectory(plugins);
                foreach (var dll in ShippedAssemblies.Keys)
                {
                    var src = Path.Combine(publish, dll);
                    if (!File.Exists(src)) throw new CliException($"`dotnet publish` did not produce {dll}: update PackCommand.ShippedAssemblies and Documentation~/index.md.");
                    File.Copy(src, Path.Combine(plugins, dll));
                }
                File.Copy(Path.Combine(publish, "FlowMap.Runtime.xml"), Path.Combine(plugins, "FlowMap.Runtime.xml"));
                // ONNX Runtime's native libraries, of exactly the version the Runtime is built against.
                var (ortVersion, ort) = OnnxNativeFolder(root);
                foreach (var (rid, folder) in new[] { ("linux-x64", "Linux/x86_64"), ("win-x64", "Windows/x86_64"), ("osx-arm64", "macOS/arm64") })
                {
                    var src = Path.Combine(ort, rid, "native");
                    if (!Directory.Exists(src)) throw new CliException($"ONNX Runtime {ortVersion} has no {rid} native folder ({src}).");
                    var dst = Path.Combine(plugins, folder);
                    Directory.CreateDirectory(dst);
                    foreach (var f in Directory.GetFiles(src).Where(f => f.EndsWith(".so") || f.EndsWith(".dll") || f.EndsWith(".dylib")))
                        File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
                }
                // Android (XR headsets run Android with Vulkan): the AAR carries the native library per ABI and its Java glue.
                var aar = Path.Combine(ort, "android", "native", "onnxruntime.aar");
                if (!File.Exists(aar)) throw new CliException($"ONNX Runtime {ortVersion} has no Android library ({aar}).");
                Directory.CreateDirectory(Path.Combine(plugins, "Android"));
                File.Copy(aar, Path.Combine(plugins, "Android", "onnxruntime.aar"));
                // iOS: the static xcframework, unpacked (Unity takes the .xcframework folder as one plugin).
                var xcZip = Path.Combine(ort, "ios", "native", "onnxruntime.xcframework.zip");
                if (!File.Exists(xcZip)) throw new CliException($"ONNX Runtime {ortVersion} has no iOS framework ({xcZip}).");
                Directory.CreateDirectory(Path.Combine(plugins, "iOS"));
                ZipFile.ExtractToDirectory(xcZip, Path.Combine(plugins, "iOS"));
                File.WriteAllText(Path.Combine(plugins, "onnxruntime-version.txt"), ortVersion + "\n");
                File.Copy(Path.Combine(root, "package.json"), Path.Combine(pkg, "package.json"));
                File.Copy(Path.Combine(root, "LICENSE.md"), Path.Combine(pkg, "LICENSE.md"));
                CopyTree(Path.Combine(root, "FlowMap.Runtime", "Engine", "Unity"), pkg);

                // 3. Unity needs a .meta next to every file and folder of an immutable (tarball) package.
                WriteMetas(pkg, name);

                // 4. The tarball: a gzip'd tar whose entries start with "package/", like `npm pack`.
                Directory.CreateDirectory(outDir);
                var tgz = Path.Combine(outDir, $"{name}-{version}.tgz");
                if (File.Exists(tgz)) File.Delete(tgz);
                using (var fs = File.Create(tgz))
                using (var gz = new GZipStream(fs, CompressionLevel.Optimal))
                    TarFile.CreateFromDirectory(pkg, gz, includeBaseDirectory: true);
                return tgz;
            }
            finally
            {
                try { Directory.Delete(work, true); } catch (IOException) { }
            }
        }

        /// <summary>
        /// ONNX Runtime's version as FlowMap.Runtime.csproj pins it (the CPU package's PackageReference), and the restored
        /// package's runtimes folder of exactly that version: never "the newest folder", which sorts "1.9" after "1.31".
        /// </summary>
        internal static (string Version, string Runtimes) OnnxNativeFolder(string root)
        {
            var version = PinnedOnnxRuntimeVersion(root);
            var home = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                       ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var dir = Path.Combine(home, "microsoft.ml.onnxruntime", version, "runtimes");
            if (!Directory.Exists(dir)) throw new CliException($"ONNX Runtime {version} (pinned in FlowMap.Runtime.csproj) is not restored: run ./flowmap once ({dir}).");
            return (version, dir);
        }

        /// <summary>The Version of the Microsoft.ML.OnnxRuntime PackageReference in FlowMap.Runtime.csproj.</summary>
        internal static string PinnedOnnxRuntimeVersion(string root)
        {
            var project = System.Xml.Linq.XDocument.Load(Path.Combine(root, "FlowMap.Runtime", "FlowMap.Runtime.csproj"));
            var reference = project.Descendants("PackageReference")
                .FirstOrDefault(e => string.Equals((string?)e.Attribute("Include"), "Microsoft.ML.OnnxRuntime", StringComparison.OrdinalIgnoreCase));
            return (string?)reference?.Attribute("Version")
                   ?? throw new CliException("FlowMap.Runtime.csproj has no Microsoft.ML.OnnxRuntime PackageReference with a Version.");
        }

        private static void CopyTree(string src, string dst)
        {
            if (!Directory.Exists(src)) throw new CliException($"Missing Unity package sources: {src}");
            foreach (var dir in Directory.GetDirectories(src, "*", SearchOption.AllDirectories))
                Directory.CreateDirectory(Path.Combine(dst, Path.GetRelativePath(src, dir)));
            foreach (var f in Directory.GetFiles(src, "*", SearchOption.AllDirectories))
                File.Copy(f, Path.Combine(dst, Path.GetRelativePath(src, f)), overwrite: true);
        }

        private static void WriteMetas(string pkg, string packageName)
        {
            foreach (var entry in Directory.GetFileSystemEntries(pkg, "*", SearchOption.AllDirectories).ToList())
            {
                if (entry.EndsWith(".meta", StringComparison.Ordinal)) continue;
                var rel = Path.GetRelativePath(pkg, entry).Replace('\\', '/');
                // Folders ending in '~' and their content are ignored by Unity's importer: no metas there.
                if (rel.Split('/').Any(p => p.EndsWith("~", StringComparison.Ordinal))) continue;
                // A .xcframework folder is one plugin asset: its .meta only, nothing inside.
                if (rel.Split('/').Reverse().Skip(1).Any(p => p.EndsWith(".xcframework", StringComparison.Ordinal))) continue;
                var meta = entry + ".meta";
                if (File.Exists(meta)) continue;
                var guid = StableGuid(packageName + "/" + rel);
                var sb = new StringBuilder().Append("fileFormatVersion: 2\nguid: ").Append(guid).Append('\n');
                if (rel.EndsWith(".xcframework") || rel.EndsWith(".aar")) sb.Append(MobilePluginImporter(rel.EndsWith(".aar") ? "Android" : "iOS"));
                else if (Directory.Exists(entry)) sb.Append("folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n");
                else if (rel.EndsWith(".dll") || rel.EndsWith(".so") || rel.EndsWith(".dylib"))
                    sb.Append(PluginImporter(rel));
                else if (rel.EndsWith(".cs")) sb.Append("MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n");
                else if (rel.EndsWith(".asmdef")) sb.Append("AssemblyDefinitionImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n");
                else sb.Append("TextScriptImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n");
                File.WriteAllText(meta, sb.ToString());
            }
        }

        /// <summary>Managed assemblies load everywhere; each native library only on its own OS and CPU.</summary>
        private static string PluginImporter(string rel)
        {
            string os = rel.Contains("/Linux/") ? "Linux64" : rel.Contains("/Windows/") ? "Win64" : rel.Contains("/macOS/") ? "OSXUniversal" : "";
            string editorOs = rel.Contains("/Linux/") ? "Linux" : rel.Contains("/Windows/") ? "Windows" : rel.Contains("/macOS/") ? "OSX" : "AnyOS";
            string cpu = rel.Contains("/arm64/") ? "ARM64" : "x86_64";
            var sb = new StringBuilder("PluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n  platformData:\n");
            if (os.Length == 0)
                sb.Append("  - first:\n      Any: \n    second:\n      enabled: 1\n      settings: {}\n");
            else
                sb.Append("  - first:\n      Any: \n    second:\n      enabled: 0\n      settings: {}\n")
                  .Append($"  - first:\n      Editor: Editor\n    second:\n      enabled: 1\n      settings:\n        CPU: {cpu}\n        OS: {editorOs}\n")
                  .Append($"  - first:\n      Standalone: {os}\n    second:\n      enabled: 1\n      settings:\n        CPU: {cpu}\n");
            return sb.Append("  userData: \n  assetBundleName: \n  assetBundleVariant: \n").ToString();
        }

        /// <summary>A mobile native library: enabled for its one player platform only (not the editor, not standalone).</summary>
        private static string MobilePluginImporter(string platform)
        {
            var sb = new StringBuilder("PluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n  platformData:\n");
            sb.Append("  - first:\n      Any: \n    second:\n      enabled: 0\n      settings: {}\n");
            sb.Append("  - first:\n      Editor: Editor\n    second:\n      enabled: 0\n      settings:\n        DefaultValueInitialized: true\n");
            if (platform == "Android")
                sb.Append("  - first:\n      Android: Android\n    second:\n      enabled: 1\n      settings: {}\n"); // the AAR holds every ABI
            else
                sb.Append("  - first:\n      iPhone: iOS\n    second:\n      enabled: 1\n      settings:\n        AddToEmbeddedBinaries: false\n        CPU: AnyCPU\n        CompileFlags: \n        FrameworkDependencies: CoreML;\n");
            return sb.Append("  userData: \n  assetBundleName: \n  assetBundleVariant: \n").ToString();
        }

        /// <summary>A stable 32-hex-digit GUID from a path (the same file always gets the same GUID).</summary>
        private static string StableGuid(string key)
        {
            using var md5 = MD5.Create();
            return string.Concat(md5.ComputeHash(Encoding.UTF8.GetBytes(key)).Select(b => b.ToString("x2")));
        }

        private static void Run(string exe, params string[] args)
        {
            var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi) ?? throw new CliException($"Could not start {exe}.");
            var o = p.StandardOutput.ReadToEndAsync();
            var e = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new CliException($"{exe} {string.Join(" ", args)} failed ({p.ExitCode}):\n{o.Result}{e.Result}");
        }
    }
}
