using System.Collections.Generic;
using Xunit;

namespace FlowMap.Tests.Cli
{
    public sealed class DoctorTests
    {
        [Fact]
        public void Without_a_vulkan_driver_doctor_says_what_to_install_and_does_not_crash()
        {
            // Point the loader at a driver manifest that does not exist: the situation of a machine with no Vulkan driver.
            var env = new Dictionary<string, string> { ["VK_ICD_FILENAMES"] = "/nonexistent/icd.json", ["VK_DRIVER_FILES"] = "/nonexistent/icd.json" };
            var (code, stdout, stderr) = CliProcess.Run(new[] { "doctor" }, env);
            Assert.Equal(3, code);
            Assert.Contains("mesa-vulkan-drivers", stdout + stderr);
            Assert.DoesNotContain("Unhandled exception", stdout + stderr);
            Assert.Contains("ONNX Runtime", stdout); // the rest of the report still prints
        }

        [Fact]
        public void Doctor_json_is_machine_readable()
        {
            var (code, stdout, stderr) = CliProcess.Run(new[] { "doctor", "--json" });
            using var doc = System.Text.Json.JsonDocument.Parse(stdout);
            var root = doc.RootElement;
            Assert.Equal(root.GetProperty("vulkan_error").ValueKind == System.Text.Json.JsonValueKind.Null ? 0 : 3, code);
            Assert.True(root.GetProperty("cores").GetInt32() >= 1);
            Assert.True(root.GetProperty("tools").TryGetProperty("ffmpeg", out _));
            if (code == 0) Assert.True(root.GetProperty("devices").GetArrayLength() >= 1, stderr);
        }

        [Fact]
        public void Help_lists_the_subcommands()
        {
            var (code, stdout, _) = CliProcess.Run(new[] { "--help" });
            Assert.Equal(0, code);
            Assert.Contains("doctor", stdout);
            Assert.Contains("bench", stdout);
        }
    }
}
