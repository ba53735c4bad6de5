using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Spectre.Console;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap demo`: the main job on the embedded default, with no arguments and nothing downloaded. It is exactly
    /// these public commands, run in this process and printed so they can be repeated one by one:
    /// <list type="number">
    /// <item>`synth` renders the built-in sequence (a textured room, hand-held walk) with exact ground truth;</item>
    /// <item>`reconstruct` runs FlowMap on its images alone (no intrinsics, no depth: the embedded default);</item>
    /// <item>`eval` prints pose, focal and depth accuracy against the truth, and the timing;</item>
    /// <item>`view` shows the result in a window, or writes a screenshot when there is no display.</item>
    /// </list>
    /// </summary>
    public sealed class DemoCommand : ICliCommand
    {
        public int Order => 0;

        public Command Build()
        {
            var cmd = new Command("demo", "Reconstruct the built-in synthetic sequence, print accuracy against its ground truth and the timing, and show it.");
            var outOpt = new Option<string>("--out") { Description = "Folder for the sequence, the reconstruction and the screenshot.", DefaultValueFactory = _ => Path.Combine("out", "demo") };
            var frames = new Option<int>("--frames") { Description = "Frames of the built-in sequence.", DefaultValueFactory = _ => 60 };
            var mode = new Option<string>("--mode") { Description = "online (default, the live pipeline) or offline.", DefaultValueFactory = _ => "online" };
            var noView = new Option<bool>("--no-view") { Description = "Write the screenshot even when a display is present (no window)." };
            foreach (var o in new Option[] { outOpt, frames, mode, noView }) cmd.Options.Add(o);
            cmd.SetAction(p => Run(p.GetValue(outOpt)!, p.GetValue(frames), p.GetValue(mode)!, p.GetValue(noView)));
            return cmd;
        }

        private static int Run(string outDir, int frames, string mode, bool noView)
        {
            if (frames < 2) throw new CliException("--frames must be at least 2.");
            string seq = Path.Combine(outDir, "sequence"), rec = Path.Combine(outDir, "reconstruction"), shot = Path.Combine(outDir, "reconstruction.png");
            bool display = Environment.GetEnvironmentVariable("DISPLAY") is { Length: > 0 } || Environment.GetEnvironmentVariable("WAYLAND_DISPLAY") is { Length: > 0 };
            var steps = new List<(string Title, string[] Args)>
            {
                ("1/4 Render the built-in sequence with exact ground truth",
                    new[] { "synth", "--scene", "room", "--path", "walk", "--frames", frames.ToString(), "--size", "320x240", "--seed", "1", "--out", seq, "--overwrite" }),
                ("2/4 Reconstruct it from the images alone (no intrinsics, no depth model)",
                    new[] { "reconstruct", Path.Combine(seq, "color"), "--out", rec, "--mode", mode, "--overwrite" }),
                ("3/4 Accuracy against the ground truth",
                    new[] { "eval", "--gt", seq, "--est", rec }),
                display && !noView
                    ? ("4/4 Show it (close the window to finish)", new[] { "view", rec })
                    : ("4/4 No display: render the viewer headless to a picture", new[] { "view", rec, "--screenshot", shot, "--size", "1280x800" }),
            };
            var total = Stopwatch.StartNew();
            foreach (var (title, args) in steps)
            {
                AnsiConsole.MarkupLine($"\n[bold]{Markup.Escape(title)}[/]");
                AnsiConsole.MarkupLine($"[grey]$ ./flowmap {Markup.Escape(string.Join(" ", args.Select(Quote)))}[/]");
                var sw = Stopwatch.StartNew();
                int code = Program.Run(args);
                if (code != 0)
                {
                    AnsiConsole.MarkupLine($"[red]demo: step failed (exit {code}); the command above repeats it.[/]");
                    return code;
                }
                AnsiConsole.MarkupLine($"[grey]({sw.Elapsed.TotalSeconds:F1} s)[/]");
            }
            AnsiConsole.MarkupLine($"\nDemo done in {total.Elapsed.TotalSeconds:F1} s. Reconstruction: {Markup.Escape(rec)}" +
                                   (display && !noView ? "" : $"; picture: {Markup.Escape(shot)}"));
            return 0;
        }

        private static string Quote(string a) => a.Contains(' ') ? "\"" + a + "\"" : a;
    }
}
