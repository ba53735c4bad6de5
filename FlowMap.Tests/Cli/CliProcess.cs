using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

namespace FlowMap.Tests.Cli
{
    /// <summary>Runs the built `flowmap` (flowmap.dll next to the tests) as a child process with a chosen environment.</summary>
    public static class CliProcess
    {
        public static (int ExitCode, string Stdout, string Stderr) Run(IEnumerable<string> args, IDictionary<string, string>? env = null, int timeoutMs = 120_000)
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "flowmap.dll");
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(dll);
            foreach (var a in args) psi.ArgumentList.Add(a);
            if (env != null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs)) { p.Kill(true); throw new TimeoutException("flowmap " + string.Join(" ", args) + " timed out"); }
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
