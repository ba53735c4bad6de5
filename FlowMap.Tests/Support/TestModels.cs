using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace FlowMap.Tests.Support
{
    /// <summary>
    /// The tiny ONNX models of FlowMap.Tests/Models/make_test_models.py, written once per test run into a temporary
    /// folder by Debian's /usr/bin/python3 with python3-onnx (installed by ./flowmap). Tests skip visibly when that
    /// Python is absent.
    /// </summary>
    public static class TestModels
    {
        private static readonly Lazy<(string? Dir, string? Why)> Made = new Lazy<(string?, string?)>(Make);

        /// <summary>Path of a generated model, e.g. "depth_dynamic.onnx".</summary>
        public static string Path(string name)
        {
            var (dir, why) = Made.Value;
            if (dir == null) Assert.Skip(why!);
            return System.IO.Path.Combine(dir!, name);
        }

        private static (string?, string?) Make()
        {
            const string python = "/usr/bin/python3";
            if (!File.Exists(python)) return (null, "test models need /usr/bin/python3 with python3-onnx (Debian), absent here");
            var script = System.IO.Path.Combine(AppContext.BaseDirectory, "Models", "make_test_models.py");
            var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flowmap-test-models-" + Environment.ProcessId);
            var psi = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            psi.ArgumentList.Add(script); psi.ArgumentList.Add(dir);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                if (err.Contains("No module named 'onnx'")) return (null, "test models need Debian python3-onnx for /usr/bin/python3 (./flowmap doctor installs it)");
                throw new InvalidOperationException("make_test_models.py failed: " + err);
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
            return (dir, null);
        }
    }
}
