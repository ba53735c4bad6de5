using System;
using System.CommandLine;
using System.Diagnostics;
using FlowMap.Diagnostics;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap demo`: the main job on the built-in sequence with no arguments and nothing downloaded.
    /// Until the reconstruction stages land it checks the device and runs the imaging kernels once, and says so.
    /// </summary>
    public sealed class DemoCommand : ICliCommand
    {
        public int Order => 0;

        public Command Build()
        {
            var cmd = new Command("demo", "Reconstruct the built-in synthetic sequence, print accuracy against its ground truth and the timing, and show it.");
            cmd.SetAction(_ =>
            {
                var report = SystemCheck.Run();
                if (report.VulkanError != null) throw new CliException(report.VulkanError, 3);
                AnsiConsole.MarkupLine($"Device: [bold]{Markup.Escape(report.Selected!.Name)}[/]");
                var sw = Stopwatch.StartNew();
                var rows = KernelBenchmark.Run(new[] { (320, 240) }, repeats: 3, cpuRepeats: 1);
                AnsiConsole.MarkupLine($"GPU self-check: {rows.Count} imaging kernels ran at 320x240 in {sw.Elapsed.TotalSeconds:F2} s.");
                AnsiConsole.MarkupLine("[yellow]Reconstruction is not built yet[/]: once it is, this command renders the built-in synthetic sequence, " +
                                       "reconstructs it, prints pose/focal/depth accuracy against the exact ground truth and the timing, and shows the result.");
                return 0;
            });
            return cmd;
        }
    }
}
