using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Xml.Linq;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Shaders
{
    /// <summary>
    /// The shader build (FlowMap.Shaders/FlowMap.Shaders.targets) needs no Unix shell: MSBuild's Exec runs glslc and
    /// spirv-val directly, found in $VULKAN_SDK/bin (Windows, macOS) or on the PATH, so the repository builds on Windows.
    /// </summary>
    public sealed class ShaderBuildTests
    {
        private static string Targets => Path.Combine(FlowMap.Viewer.Cli.PackCommand.RepoRoot(), "FlowMap.Shaders", "FlowMap.Shaders.targets");

        [Fact]
        public void Every_exec_runs_a_shader_tool_directly_without_shell_syntax()
        {
            var doc = XDocument.Load(Targets);
            var commands = doc.Descendants().Where(e => e.Name.LocalName == "Exec").Select(e => (string)e.Attribute("Command")!).ToList();
            Assert.True(commands.Count >= 4, "expected the tool checks and the compile/validate steps");
            foreach (var c in commands)
            {
                Assert.True(c.StartsWith("\"$(FlowMapGlslc)\"", StringComparison.Ordinal) || c.StartsWith("\"$(FlowMapSpirvVal)\"", StringComparison.Ordinal),
                    "Exec does not start with a tool: " + c);
                foreach (var shellism in new[] { "command -v", "&&", "||", "/dev/null", "2>", "$(which", "`" })
                    Assert.DoesNotContain(shellism, c);
            }
        }

        [Fact]
        public void The_vulkan_sdk_tools_are_taken_when_VULKAN_SDK_is_set_else_the_path()
        {
            using var tmp = new TempDir();
            var bin = Directory.CreateDirectory(Path.Combine(tmp.Path, "sdk", "bin")).FullName;
            string suffix = OperatingSystem.IsWindows() ? ".exe" : "";
            File.WriteAllText(Path.Combine(bin, "glslc" + suffix), "");
            File.WriteAllText(Path.Combine(bin, "spirv-val" + suffix), "");
            var withSdk = Evaluate(Path.Combine(tmp.Path, "sdk"));
            Assert.Equal(Path.Combine(tmp.Path, "sdk").TrimEnd('/', '\\') + "/bin/glslc" + suffix, withSdk.Glslc.Replace('\\', '/').Replace("//", "/"));
            Assert.EndsWith("/bin/spirv-val" + suffix, withSdk.SpirvVal.Replace('\\', '/'));
            var onPath = Evaluate(null);
            Assert.Equal("glslc", onPath.Glslc);
            Assert.Equal("spirv-val", onPath.SpirvVal);
            Assert.False(onPath.IncludeDir.EndsWith("/") || onPath.IncludeDir.EndsWith("\\"), "the include folder must not end in a separator");
        }

        private static (string Glslc, string SpirvVal, string IncludeDir) Evaluate(string? vulkanSdk)
        {
            var project = Path.Combine(FlowMap.Viewer.Cli.PackCommand.RepoRoot(), "FlowMap.Runtime", "FlowMap.Runtime.csproj");
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "msbuild", project, "-nologo", "-getProperty:FlowMapGlslc", "-getProperty:FlowMapSpirvVal", "-getProperty:FlowMapShaderIncludeDir" })
                psi.ArgumentList.Add(a);
            psi.Environment.Remove("VULKAN_SDK");
            if (vulkanSdk != null) psi.Environment["VULKAN_SDK"] = vulkanSdk;
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"dotnet msbuild -getProperty failed ({p.ExitCode}): {stdout}\n{stderr}");
            using var json = JsonDocument.Parse(stdout);
            var props = json.RootElement.GetProperty("Properties");
            return (props.GetProperty("FlowMapGlslc").GetString()!, props.GetProperty("FlowMapSpirvVal").GetString()!, props.GetProperty("FlowMapShaderIncludeDir").GetString()!);
        }
    }
}
