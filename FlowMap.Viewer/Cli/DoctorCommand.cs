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
            cmd.SetAction(_ => Run());
            return cmd;
        }

        private static int Run()
        {
            var r = SystemCheck.Run();
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
            foreach (var kv in r.Tools)
                console.MarkupLine($"{kv.Key,-10} {(kv.Value != null ? "[green]" + Markup.Escape(kv.Value) + "[/]" : "[yellow]missing[/]")}");
            console.MarkupLine($"display    {(r.Display != null ? "[green]" + Markup.Escape(r.Display) + "[/]" : "[yellow]none[/] (the viewer renders headless screenshots)")}");
            console.MarkupLine($"cores      {r.ProcessorCount}");
            return r.VulkanError == null ? 0 : 3;
        }
    }
}
