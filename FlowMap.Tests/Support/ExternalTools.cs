using System;
using System.Diagnostics;
using System.IO;

namespace FlowMap.Tests.Support
{
    /// <summary>Runs system tools used as independent cross-checks (Debian python3 with numpy/OpenCV, ffmpeg).</summary>
    public static class ExternalTools
    {
        /// <summary>Debian's python3 (the one with python3-numpy and python3-opencv), or null.</summary>
        public static string? Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : null;

        /// <summary>True when /usr/bin/python3 can import every module named.</summary>
        public static bool PythonHas(params string[] modules)
        {
            if (Python == null) return false;
            var (code, _, _) = Run(Python, new[] { "-c", "import " + string.Join(", ", modules) }, 60_000);
            return code == 0;
        }

        /// <summary>Runs a python script (passed with -c) with arguments; returns exit code and outputs.</summary>
        public static (int ExitCode, string Stdout, string Stderr) PythonScript(string script, params string[] args)
        {
            var all = new string[args.Length + 2];
            all[0] = "-c"; all[1] = script;
            Array.Copy(args, 0, all, 2, args.Length);
            return Run(Python ?? "python3", all, 120_000);
        }

        /// <summary>Full path of an executable on PATH, or null.</summary>
        public static string? Which(string name)
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            {
                if (dir.Length == 0) continue;
                var p = Path.Combine(dir, name);
                if (File.Exists(p)) return p;
            }
            return null;
        }

        public static (int ExitCode, string Stdout, string Stderr) Run(string exe, string[] args, int timeoutMs = 120_000)
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var o = p.StandardOutput.ReadToEndAsync();
            var e = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs)) { p.Kill(true); throw new TimeoutException($"{exe} timed out"); }
            p.WaitForExit();
            return (p.ExitCode, o.Result, e.Result);
        }
    }
}
