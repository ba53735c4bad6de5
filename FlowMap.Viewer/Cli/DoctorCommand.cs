using System;
using System.CommandLine;
using System.Linq;
using FlowMap.Diagnostics;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>`flowmap doctor`: Vulkan devices, ONNX Runtime, tools, display.</summary>
    public sealed class DoctorCommand : ICliCommand
    {
        public int Order => 90;

        public Command Build()
        {
            var cmd = new Command("doctor", "Print the Vulkan devices found, ONNX Runtime, and whether glslc, ffmpeg and a display are present.");
            var json = new Option<bool>("--json") { Description = "Print the report as JSON (for scripts)." };
            cmd.Options.Add(json);
            cmd.SetAction(p => Run(p.GetValue(json)));
            return cmd;
        }

        private static int Run(bool asJson)
        {
            var r = SystemCheck.Run(HostEnvironment.DeviceName, HostEnvironment.Display, HostEnvironment.SearchPath);
            if (asJson)
            {
                var o = new System.Text.Json.Nodes.JsonObject
                {
                    ["vulkan_error"] = r.VulkanError,
                    ["selected"] = r.Selected?.Name,
                    ["devices"] = new System.Text.Json.Nodes.JsonArray(r.Devices.Select(d => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
                    {
                        ["name"] = d.Name, ["kind"] = d.Kind.ToString(), ["api_version"] = d.ApiVersion.ToString(),
                        ["max_workgroup_invocations"] = d.MaxWorkGroupInvocations, ["shared_memory_bytes"] = d.MaxSharedMemoryBytes,
                        ["push_constant_bytes"] = d.MaxPushConstantBytes, ["max_storage_buffer_bytes"] = d.MaxStorageBufferRange,
                        ["subgroup_size"] = d.SubgroupSize, ["device_local_heap_bytes"] = d.DeviceLocalHeapBytes,
                        ["host_visible_device_local"] = d.HostVisibleDeviceLocal, ["timestamps"] = d.Timestamps,
                    }).ToArray()),
                    ["validation_layer"] = r.ValidationLayer,
                    ["onnxruntime"] = r.OnnxError == null ? r.OnnxRuntimeVersion : null,
                    ["onnxruntime_error"] = r.OnnxError,
                    ["onnx_providers"] = new System.Text.Json.Nodes.JsonArray(r.OnnxProviders.Select(x => (System.Text.Json.Nodes.JsonNode)x!).ToArray()),
                    ["depth_provider"] = r.DepthProvider,
                    ["tools"] = new System.Text.Json.Nodes.JsonObject(r.Tools.Select(kv => new System.Collections.Generic.KeyValuePair<string, System.Text.Json.Nodes.JsonNode?>(kv.Key, kv.Value))),
                    ["display"] = r.Display,
                    ["cores"] = r.ProcessorCount,
                };
                Console.WriteLine(o.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return r.VulkanError == null ? 0 : 3;
            }
            var console = AnsiConsole.Console;
            if (r.VulkanError != null)
                console.MarkupLine($"[red]Vulkan: {Markup.Escape(r.VulkanError)}[/]");
            else
            {
                console.MarkupLine("Vulkan devices (preferred first: discrete, integrated, virtual, CPU; $FLOWMAP_DEVICE picks one by name):");
                foreach (var d in r.Devices)
                {
                    console.MarkupLine($"{(d == r.Selected ? "[green]*[/]" : " ")} [bold]{Markup.Escape(d.Name)}[/]  {d.Kind}, Vulkan {d.ApiVersion}");
                    console.MarkupLine($"    max work-group invocations {d.MaxWorkGroupInvocations}, shared memory {d.MaxSharedMemoryBytes / 1024} KiB, " +
                                       $"push constants {d.MaxPushConstantBytes} B, max storage buffer {d.MaxStorageBufferRange / (1024 * 1024)} MiB, subgroup {d.SubgroupSize}");
                    console.MarkupLine($"    device-local heap {d.DeviceLocalHeapBytes / (1024 * 1024)} MiB, " +
                                       $"{(d.HostVisibleDeviceLocal ? "mappable (no staging copies)" : "not mappable (staging copies)")}, timestamps {(d.Timestamps ? "yes" : "no")}");
                }
                console.MarkupLine($"Validation layer (VK_LAYER_KHRONOS_validation): {(r.ValidationLayer ? "[green]present[/]" : "[yellow]absent[/] (apt-get install vulkan-validationlayers)")}");
            }
            console.MarkupLine(r.OnnxError == null
                ? $"ONNX Runtime {r.OnnxRuntimeVersion}, providers: {string.Join(", ", r.OnnxProviders)}"
                : $"[red]ONNX Runtime: {Markup.Escape(r.OnnxError)}[/]");
            if (r.OnnxError == null)
                console.MarkupLine($"Depth model provider: {Markup.Escape(r.DepthProvider)}");
            foreach (var kv in r.Tools)
                console.MarkupLine($"{kv.Key,-10} {(kv.Value != null ? "[green]" + Markup.Escape(kv.Value) + "[/]" : "[yellow]missing[/]")}");
            console.MarkupLine($"display    {(r.Display != null ? "[green]" + Markup.Escape(r.Display) + "[/]" : "[yellow]none[/] (the viewer renders headless screenshots)")}");
            console.MarkupLine($"cores      {r.ProcessorCount}");
            return r.VulkanError == null ? 0 : 3;
        }
    }
}
