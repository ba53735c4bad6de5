using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Gpu;

namespace FlowMap.Diagnostics
{
    /// <summary>What this machine offers FlowMap: Vulkan devices, validation layer, ONNX Runtime, external tools.</summary>
    public sealed class SystemReport
    {
        /// <summary>Vulkan devices in FlowMap's order of preference; empty when <see cref="VulkanError"/> is set.</summary>
        public IReadOnlyList<GpuDeviceInfo> Devices { get; internal set; } = Array.Empty<GpuDeviceInfo>();
        /// <summary>The device FlowMap would pick (honours $FLOWMAP_DEVICE), or null.</summary>
        public GpuDeviceInfo? Selected { get; internal set; }
        /// <summary>Why Vulkan is unusable, with what to install; null when it works.</summary>
        public string? VulkanError { get; internal set; }
        public bool ValidationLayer { get; internal set; }
        public string OnnxRuntimeVersion { get; internal set; } = "";
        public IReadOnlyList<string> OnnxProviders { get; internal set; } = Array.Empty<string>();
        public string? OnnxError { get; internal set; }
        /// <summary>External programs (glslc, spirv-val, ffmpeg, ...) and their full path, or null when missing.</summary>
        public IReadOnlyDictionary<string, string?> Tools { get; internal set; } = new Dictionary<string, string?>();
        /// <summary>$DISPLAY (X11) or $WAYLAND_DISPLAY, or null when there is none (the viewer then renders headless).</summary>
        public string? Display { get; internal set; }
        public int ProcessorCount { get; internal set; }
    }

    /// <summary>Builds a <see cref="SystemReport"/> without creating a Vulkan device.</summary>
    public static class SystemCheck
    {
        public static readonly string[] ToolNames = { "glslc", "spirv-val", "ffmpeg", "ffprobe", "Xvfb", "colmap" };

        public static SystemReport Run()
        {
            var r = new SystemReport { ProcessorCount = Environment.ProcessorCount };
            try
            {
                var devices = GpuContext.EnumerateDevices();
                r.Devices = devices;
                if (devices.Count == 0)
                    r.VulkanError = "The Vulkan loader found no device: apt-get install mesa-vulkan-drivers (lavapipe) or a GPU driver.";
                else
                    r.Selected = devices[VulkanSetup.ChooseDevice(devices, Environment.GetEnvironmentVariable("FLOWMAP_DEVICE"))];
                r.ValidationLayer = VulkanSetup.InstanceLayerNames(VulkanSetup.LoadApi()).Contains(VulkanSetup.ValidationLayer);
            }
            catch (Exception e) when (e is GpuUnavailableException || e is VulkanException || e is DllNotFoundException)
            {
                r.VulkanError = e.Message;
            }
            try
            {
                var env = Microsoft.ML.OnnxRuntime.OrtEnv.Instance();
                r.OnnxRuntimeVersion = env.GetVersionString();
                r.OnnxProviders = env.GetAvailableProviders();
            }
            catch (Exception e)
            {
                r.OnnxError = e.Message;
            }
            r.Tools = ToolNames.ToDictionary(t => t, FindOnPath);
            r.Display = Environment.GetEnvironmentVariable("DISPLAY") is { Length: > 0 } d ? d
                : Environment.GetEnvironmentVariable("WAYLAND_DISPLAY") is { Length: > 0 } w ? w : null;
            return r;
        }

        /// <summary>Full path of an executable on $PATH, or null.</summary>
        public static string? FindOnPath(string name)
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            {
                if (dir.Length == 0) continue;
                var p = Path.Combine(dir, name);
                if (File.Exists(p)) return p;
            }
            return null;
        }
    }
}
