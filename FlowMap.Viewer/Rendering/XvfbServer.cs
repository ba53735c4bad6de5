using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// A private virtual X display (Debian xvfb) for window tests and benchmarks on a machine without a screen: started on
    /// a free display number, stopped by its own process id on Dispose. <see cref="Capture"/> grabs the screen with xwd
    /// (Debian x11-apps) and ImageMagick's convert.
    /// </summary>
    internal sealed class XvfbServer : IDisposable
    {
        private readonly Process _process;
        private string? _previousDisplay;
        private bool _displaySet;

        public int Number { get; }
        public string Display => ":" + Number;

        private XvfbServer(Process p, int number) { _process = p; Number = number; }

        public static string? Executable => File.Exists("/usr/bin/Xvfb") ? "/usr/bin/Xvfb" : null;

        /// <summary>Starts Xvfb with one screen of <paramref name="width"/> x <paramref name="height"/> x 24 bits.</summary>
        public static XvfbServer Start(int width, int height)
        {
            var exe = Executable ?? throw new InvalidOperationException("Xvfb is not installed: apt-get install xvfb (./flowmap installs it).");
            for (int n = 90 + Environment.ProcessId % 50; n < 400; n++)
            {
                if (File.Exists($"/tmp/.X{n}-lock") || File.Exists($"/tmp/.X11-unix/X{n}")) continue;
                var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
                foreach (var a in new[] { ":" + n, "-screen", "0", $"{width}x{height}x24", "-nolisten", "tcp" }) psi.ArgumentList.Add(a);
                var p = Process.Start(psi)!;
                p.StandardError.ReadToEndAsync();
                p.StandardOutput.ReadToEndAsync();
                var sw = Stopwatch.StartNew();
                while (sw.Elapsed.TotalSeconds < 10 && !p.HasExited && !File.Exists($"/tmp/.X11-unix/X{n}")) Thread.Sleep(50);
                if (!p.HasExited && File.Exists($"/tmp/.X11-unix/X{n}")) return new XvfbServer(p, n);
                if (!p.HasExited) { p.Kill(); p.WaitForExit(); }
                p.Dispose();
            }
            throw new InvalidOperationException("Could not start Xvfb on any display :90..:399.");
        }

        [DllImport("libc", SetLastError = true)] private static extern int setenv(string name, string value, int overwrite);
        [DllImport("libc", SetLastError = true)] private static extern int unsetenv(string name);

        /// <summary>Points this process's DISPLAY (the native environment GLFW reads, and .NET's copy) at this server until Dispose.</summary>
        public void UseAsDisplay()
        {
            if (!_displaySet) _previousDisplay = Environment.GetEnvironmentVariable("DISPLAY");
            SetDisplay(Display);
            _displaySet = true;
        }

        private static void SetDisplay(string? value)
        {
            if (value == null) { unsetenv("DISPLAY"); Environment.SetEnvironmentVariable("DISPLAY", null); }
            else { setenv("DISPLAY", value, 1); Environment.SetEnvironmentVariable("DISPLAY", value); }
        }

        /// <summary>The whole screen as byte[H, W, 3] RGB (xwd -root | convert xwd:- rgb:-).</summary>
        public RgbImage Capture(int width, int height)
        {
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add($"xwd -root -silent -display {Display} | convert xwd:- -depth 8 rgb:-");
            using var p = Process.Start(psi)!;
            using var ms = new MemoryStream();
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.BaseStream.CopyTo(ms);
            p.WaitForExit();
            var bytes = ms.ToArray();
            if (p.ExitCode != 0 || bytes.Length != width * height * 3)
                throw new InvalidOperationException($"Screen capture failed (exit {p.ExitCode}, {bytes.Length} bytes for {width}x{height}): {err.Result.Trim()} " +
                                                    "(needs x11-apps and imagemagick).");
            return new RgbImage(width, height, bytes);
        }

        public void Dispose()
        {
            if (_displaySet) { SetDisplay(_previousDisplay); _displaySet = false; }
            try
            {
                if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(5000); }
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }
}
