using System;
using FlowMap.Gpu;
using Microsoft.Extensions.Logging;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// The one place the `flowmap` executable reads its environment variables and hands them to the library as
    /// options (the library reads none itself; its BannedSymbols.txt enforces that):
    /// FLOWMAP_DEVICE (part of a Vulkan device name), FLOWMAP_VALIDATION=1 (validation layer), FLOWMAP_FORCE_STAGING=1
    /// (every GPU buffer on the discrete-GPU staged path), FLOWMAP_FFMPEG / FLOWMAP_FFPROBE (tool paths),
    /// FLOWMAP_LOG=trace|debug|information|warning (stderr log level; default warning), FLOWMAP_FLOW_PROFILE=1
    /// (per-kernel flow timings: the trace level).
    /// </summary>
    internal static class HostEnvironment
    {
        private static string? Var(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

        /// <summary>The GPU options the environment asks for, logging to <see cref="Logger"/>.</summary>
        public static GpuContextOptions GpuOptions() => new GpuContextOptions
        {
            DeviceName = Var("FLOWMAP_DEVICE"),
            Validation = Var("FLOWMAP_VALIDATION") == "1",
            ForceStaging = Var("FLOWMAP_FORCE_STAGING") == "1",
            Logger = Logger,
        };

        /// <summary>FLOWMAP_DEVICE, or null.</summary>
        public static string? DeviceName => Var("FLOWMAP_DEVICE");

        /// <summary>FLOWMAP_VALIDATION=1.</summary>
        public static bool Validation => Var("FLOWMAP_VALIDATION") == "1";

        /// <summary>$DISPLAY (X11), else $WAYLAND_DISPLAY, else null.</summary>
        public static string? Display => Var("DISPLAY") ?? Var("WAYLAND_DISPLAY");

        /// <summary>$PATH.</summary>
        public static string? SearchPath => Var("PATH");

        /// <summary>The log level FLOWMAP_LOG (or FLOWMAP_FLOW_PROFILE=1: trace) asks for; warning by default.</summary>
        public static LogLevel LogLevel =>
            Var("FLOWMAP_FLOW_PROFILE") == "1" ? LogLevel.Trace
            : Enum.TryParse<LogLevel>(Var("FLOWMAP_LOG") ?? "", ignoreCase: true, out var l) ? l
            : LogLevel.Warning;

        /// <summary>The executable's logger: one line per message on stderr.</summary>
        public static ILogger Logger { get; } = new StderrLogger(LogLevel);

        /// <summary>Hands the environment's settings to the library: call once at start-up (the tests do too).</summary>
        public static void Apply()
        {
            GpuContextOptions.Defaults = GpuOptions();
            if (Var("FLOWMAP_FFMPEG") is string ffmpeg) FlowMap.Capture.Tools.Ffmpeg = ffmpeg;
            if (Var("FLOWMAP_FFPROBE") is string ffprobe) FlowMap.Capture.Tools.Ffprobe = ffprobe;
        }

        /// <summary>A minimal <see cref="ILogger"/> writing "flowmap: level: message" lines to stderr.</summary>
        private sealed class StderrLogger : ILogger
        {
            private readonly LogLevel _min;
            private readonly object _lock = new object();

            public StderrLogger(LogLevel min) { _min = min; }

            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _min;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                string text = formatter(state, exception) + (exception != null ? " (" + exception.Message + ")" : "");
                lock (_lock) Console.Error.WriteLine($"flowmap: {logLevel.ToString().ToLowerInvariant()}: {text}");
            }
        }
    }
}
