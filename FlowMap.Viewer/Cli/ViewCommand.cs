using System;
using FlowMap.Session;
using System.CommandLine;
using System.Globalization;
using System.IO;
using FlowMap.Viewer.Rendering;
using FlowMap.Viewer.Scenes;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap view DIR [--screenshot S.png] [--size WxH] [--camera SPEC]`: shows a reconstruct output or a synthetic
    /// sequence's ground truth in the viewer window, or renders it headless to a PNG.
    /// </summary>
    public sealed class ViewCommand : ICliCommand
    {
        public int Order => 40;

        public Command Build()
        {
            var cmd = new Command("view", "The viewer: a reconstruct output (points, trajectory, cameras), a synthetic sequence's ground truth, " +
                                          "or an input (video, session, image folder, camera) reconstructed live; with --screenshot it renders headless and writes a PNG.");
            var path = new Argument<string?>("DIR|INPUT")
            {
                Description = "A reconstruct output folder (points.ply, trajectory.txt, intrinsics.json), a synthetic sequence (color/, depth/, trajectory.txt, " +
                              "intrinsics.json), or an INPUT to reconstruct live and show as it goes: a video, a recorded session, an image folder, a camera.",
                Arity = ArgumentArity.ZeroOrOne,
            };
            var processingSize = new Option<string?>("--processing-size") { Description = "Live input: the pipeline's processing size WxH (default about 320x240)." };
            var focal = new Option<double?>("--focal") { Description = "Live input: known focal length in input pixels (default: estimated)." };
            var depthModel = new Option<string?>("--depth-model") { Description = "Live input: ONNX depth model used as the depth prior." };
            var shot = new Option<string?>("--screenshot") { Description = "Render offscreen (no window or display needed) and write this PNG." };
            var size = new Option<string>("--size") { Description = "Image or window size WxH.", DefaultValueFactory = _ => "1280x800" };
            var camera = new Option<string>("--camera")
            {
                Description = "View: overview, top, frame:N, frame:last or orbit:YAW,PITCH[,DIST] (degrees; DIST in scene radii). " +
                              "A camera device (/dev/videoN) instead reconstructs that camera live.",
                DefaultValueFactory = _ => "overview",
            };
            var pointScale = new Option<double>("--point-scale") { Description = "Multiplier on the automatic point splat size.", DefaultValueFactory = _ => 1.0 };
            var hide = new Option<string?>("--hide") { Description = "Comma-separated layers to hide: points, trajectory, cameras, grid, axes, inset, text." };
            var frames = new Option<int>("--frames") { Description = "Window: close after this many frames and print the frame rate (0 = until closed).", DefaultValueFactory = _ => 0 };
            var seconds = new Option<double>("--seconds") { Description = "Window: close after this many seconds (0 = until closed).", DefaultValueFactory = _ => 0 };
            var present = new Option<string>("--present") { Description = "Window present mode: fifo (vsync), mailbox or immediate.", DefaultValueFactory = _ => "fifo" };
            cmd.Arguments.Add(path);
            foreach (var o in new Option[] { shot, size, camera, pointScale, hide, frames, seconds, present, processingSize, focal, depthModel }) cmd.Options.Add(o);
            cmd.SetAction(r =>
            {
                var (w, h) = Sizes.Parse(r.GetValue(size)!);
                if (w > 16384 || h > 16384) throw new CliException($"--size {w}x{h} is too large (at most 16384 on a side).");
                var cameraText = r.GetValue(camera)!;
                string? input = r.GetValue(path);
                if (cameraText.StartsWith("/dev/video", StringComparison.Ordinal))
                {
                    if (input != null) throw new CliException($"Give either a camera device (--camera {cameraText}) or {input}, not both.");
                    input = cameraText;
                    cameraText = "overview";
                }
                if (input == null) throw new CliException("view needs a folder, an input to reconstruct, or --camera /dev/videoN.");
                CameraSpec spec;
                try { spec = CameraSpec.Parse(cameraText); }
                catch (FormatException e) { throw new CliException(e.Message); }
                var settings = ParseSettings(r.GetValue(hide), r.GetValue(pointScale));
                if (LiveView.IsLiveInput(input))
                {
                    var live = new SessionOptions { FocalPixels = r.GetValue(focal), DepthModelPath = r.GetValue(depthModel) };
                    if (r.GetValue(processingSize) is string ps) (live.ProcessingWidth, live.ProcessingHeight) = PipelineCliOptions.ParseSize(ps);
                    try { live.Validate(); }
                    catch (ArgumentException e) { throw new CliException(e.Message, 2, e); }
                    try
                    {
                        return LiveView.Run(input, live, r.GetValue(shot), new ViewerOptions
                        {
                            Width = w, Height = h, Camera = spec, Settings = settings, MaxFrames = r.GetValue(frames), MaxSeconds = r.GetValue(seconds), PresentMode = r.GetValue(present)!,
                        });
                    }
                    catch (ViewerUnavailableException e) { throw new CliException(e.Message, 4, e); }
                    catch (RenderException e) { throw new CliException(e.Message, 3, e); }
                }
                var scene = LoadScene(input);
                var output = r.GetValue(shot);
                if (output != null)
                {
                    var snap = scene.Snapshot();
                    try { ViewerApp.Screenshot(scene, output, w, h, spec, settings); }
                    catch (RenderException e) { throw new CliException(e.Message, 3, e); }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                    {
                        throw new CliException($"cannot write the screenshot '{output}': {e.Message}", ExitCodes.Failed, e);
                    }
                    catch (ArgumentException e) { throw new CliException(e.Message, 2, e); }
                    Console.WriteLine($"wrote {output} ({w}x{h}, {snap.PointCount} points, {snap.Trajectory.Count} poses)");
                    return 0;
                }
                try
                {
                    var result = ViewerApp.Run(scene, new ViewerOptions
                    {
                        Width = w, Height = h, Camera = spec, Settings = settings, MaxFrames = r.GetValue(frames), MaxSeconds = r.GetValue(seconds), PresentMode = r.GetValue(present)!,
                        OnFirstFrame = () => Console.Error.WriteLine($"flowmap view: window open {w}x{h}"),
                    });
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{result.Frames} frames in {result.Seconds:F2} s ({result.Fps:F1} fps) on {result.Device}, {result.SwapchainRecreations} swapchain rebuilds"));
                }
                catch (ViewerUnavailableException e) { throw new CliException(e.Message, 4, e); }
                catch (RenderException e) { throw new CliException(e.Message, 3, e); }
                return 0;
            });
            return cmd;
        }

        /// <summary>Loads a folder as a scene; missing or damaged files become one-line errors naming the file.</summary>
        public static IViewerScene LoadScene(string dir)
        {
            if (File.Exists(dir))
                throw new CliException($"'{dir}' is a file; `flowmap view` shows a reconstruct output folder or a synthetic sequence folder.");
            if (!Directory.Exists(dir)) throw new CliException($"'{dir}' does not exist.");
            try
            {
                var scene = FolderScene.Load(dir);
                foreach (var w in scene.Warnings) Console.Error.WriteLine("flowmap: warning: " + w);
                return scene;
            }
            catch (FileNotFoundException e) { throw new CliException(e.Message, 2, e); }
            catch (DirectoryNotFoundException e) { throw new CliException(e.Message, 2, e); }
            catch (InvalidDataException e) { throw new CliException(e.Message, 2, e); }
            catch (ArgumentException e) { throw new CliException($"'{dir}': {e.Message}", 2, e); }
        }

        public static RenderSettings ParseSettings(string? hide, double pointScale)
        {
            if (!(pointScale > 0) || double.IsInfinity(pointScale)) throw new CliException($"--point-scale {pointScale} must be a positive number.");
            var s = new RenderSettings { PointScale = pointScale };
            if (string.IsNullOrWhiteSpace(hide)) return s;
            foreach (var raw in hide.Split(','))
            {
                switch (raw.Trim().ToLowerInvariant())
                {
                    case "points": s.ShowPoints = false; break;
                    case "trajectory": s.ShowTrajectory = false; break;
                    case "cameras": case "frustums": s.ShowFrustums = false; break;
                    case "grid": s.ShowGrid = false; break;
                    case "axes": s.ShowAxes = false; break;
                    case "inset": s.ShowInset = false; break;
                    case "text": s.ShowText = false; break;
                    case "": break;
                    default: throw new CliException($"--hide: unknown layer '{raw.Trim()}' (points, trajectory, cameras, grid, axes, inset, text).");
                }
            }
            return s;
        }
    }
}
