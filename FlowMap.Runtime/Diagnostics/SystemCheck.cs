using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Gpu;

namespace FlowMap.Diagnostics
{
    /// <summary>What this machine offers FlowMap: Vulkan devices, validation layer, ONNX Runtime, external tools.</summary>
    internal sealed class SystemReport
    {
        /// <summary>Vulkan devices in FlowMap's order of preference; empty when <see cref="VulkanError"/> is set.</summary>
        public IReadOnlyList<GpuDeviceInfo> Devices { get; internal set; } = Array.Empty<GpuDeviceInfo>();
        /// <summary>The device FlowMap would pick (honours the host's device name), or null.</summary>
        public GpuDeviceInfo? Selected { get; internal set; }
        /// <summary>Why Vulkan is unusable, with what to install; null when it works.</summary>
        public string? VulkanError { get; internal set; }
        public bool ValidationLayer { get; internal set; }
        public string OnnxRuntimeVersion { get; internal set; } = "";
        public IReadOnlyList<string> OnnxProviders { get; internal set; } = Array.Empty<string>();
        public string? OnnxError { get; internal set; }
        /// <summary>
        /// The execution provider a depth model would get (Auto), and why it is not the platform's best when it is not:
        /// e.g. "cpu (fell back to the CPU: CUDA is not in this ONNX Runtime build ...)".
        /// </summary>
        public string DepthProvider { get; internal set; } = "";
        /// <summary>External programs (glslc, spirv-val, ffmpeg, ...) and their full path, or null when missing.</summary>
        public IReadOnlyDictionary<string, string?> Tools { get; internal set; } = new Dictionary<string, string?>();
        /// <summary>$DISPLAY (X11) or $WAYLAND_DISPLAY, or null when there is none (the viewer then renders headless).</summary>
        public string? Display { get; internal set; }
        public int ProcessorCount { get; internal set; }
    }

    /// <summary>Builds a <see cref="SystemReport"/> without creating a Vulkan device.</summary>
    internal static class SystemCheck
    {
        public static readonly string[] ToolNames = { "glslc", "spirv-val", "ffmpeg", "ffprobe", "Xvfb", "colmap" };

        /// <param name="deviceName">The device name the host asks for (the CLI: $FLOWMAP_DEVICE), or null.</param>
        /// <param name="display">The host's display ($DISPLAY or $WAYLAND_DISPLAY for the CLI), or null when headless.</param>
        /// <param name="searchPath">Folders to look for the external tools in, separated as on this system ($PATH).</param>
        public static SystemReport Run(string? deviceName = null, string? display = null, string? searchPath = null)
        {
            var r = new SystemReport { ProcessorCount = Environment.ProcessorCount };
            try
            {
                var devices = GpuContext.EnumerateDevices();
                r.Devices = devices;
                if (devices.Count == 0)
                    r.VulkanError = "The Vulkan loader found no device: apt-get install mesa-vulkan-drivers (lavapipe) or a GPU driver.";
                else
                    r.Selected = devices[VulkanSetup.ChooseDevice(devices, deviceName)];
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
                r.DepthProvider = FlowMap.Depth.OnnxExecutionProviders.Predict(FlowMap.Depth.DepthExecutionProvider.Auto).ToString();
            }
            catch (Exception e)
            {
                r.OnnxError = e.Message;
            }
            r.Tools = ToolNames.ToDictionary(t => t, t => FindOnPath(t, searchPath));
            r.Display = string.IsNullOrEmpty(display) ? null : display;
            return r;
        }

        /// <summary>Full path of an executable in one of the folders of <paramref name="searchPath"/> (a $PATH value), or null.</summary>
        public static string? FindOnPath(string name, string? searchPath)
        {
            foreach (var dir in (searchPath ?? "").Split(Path.PathSeparator))
            {
                if (dir.Length == 0) continue;
                var p = Path.Combine(dir, name);
                if (File.Exists(p)) return p;
            }
            return null;
        }
    }
}
