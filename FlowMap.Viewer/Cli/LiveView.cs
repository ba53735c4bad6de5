using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using FlowMap.Capture;
using FlowMap.Session;
using FlowMap.Viewer.Rendering;
using FlowMap.Viewer.Scenes;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap view INPUT` for an input that is not a finished output: a camera, a video, a recorded session or an image
    /// folder. A <see cref="ReconstructionSession"/> runs on it (through the public API, like an engine), a reader thread
    /// pushes frames at the source's pace, and the viewer draws the session's latest state without ever blocking it.
    /// With --screenshot the whole input is reconstructed first (no frame dropped) and the picture is of the result.
    /// </summary>
    internal static class LiveView
    {
        /// <summary>True for inputs that need a reconstruction (not an output folder with points/trajectory).</summary>
        public static bool IsLiveInput(string path)
        {
            if (path.StartsWith("/dev/video", StringComparison.Ordinal) || path == "camera" || path.StartsWith("camera:", StringComparison.Ordinal)) return true;
            if (File.Exists(path)) return true; // a video or a session file
            if (!Directory.Exists(path)) return false;
            bool output = File.Exists(Path.Combine(path, "trajectory.txt")) || File.Exists(Path.Combine(path, "points.ply"));
            bool images = Directory.EnumerateFiles(path).Any(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)
                                                                 || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)
                                                                 || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase));
            return !output && images;
        }

        public static int Run(string input, SessionOptions options, string? screenshot, ViewerOptions viewer)
        {
            bool toPicture = screenshot != null;
            if (toPicture) options.DropFrames = false; // a picture of the whole reconstruction
            else if (ViewerApp.NoDisplayReason() is string why)
                throw new CliException(why + $" For a live input: ./flowmap view {input} --screenshot S.png", 4);

            IFrameSource src;
            try { src = FrameSources.Open(input, realTime: !toPicture); }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is ArgumentException || e is InvalidOperationException)
            {
                throw new CliException(e.Message, 2, e);
            }
            using (src)
            {
                ReconstructionSession session;
                try { session = ReconstructionSession.Create(options); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new CliException("cannot start the reconstruction: " + e.Message, 3, e);
                }
                using (session)
                using (var scene = new LiveScene(session, "FlowMap live: " + src.Description))
                using (var stop = new CancellationTokenSource())
                {
                    Exception? readError = null;
                    var reader = new Thread(() =>
                    {
                        try
                        {
                            while (!stop.IsCancellationRequested && src.TryRead(out var f))
                            {
                                if (f.Image.Width < FlowMap.Reconstruction.Reconstructor.MinFrameSide || f.Image.Height < FlowMap.Reconstruction.Reconstructor.MinFrameSide)
                                    throw new ArgumentException($"frame {f.Index} ({f.Name}) is {f.Image.Width}x{f.Image.Height}: too small to reconstruct " +
                                                                $"(at least {FlowMap.Reconstruction.Reconstructor.MinFrameSide}x{FlowMap.Reconstruction.Reconstructor.MinFrameSide} pixels).");
                                session.PushFrame(f);
                            }
                        }
                        catch (OperationCanceledException) { }
                        catch (ObjectDisposedException) { } // the window was closed and the session disposed
                        catch (Exception e) when (e is InvalidDataException || e is IOException || e is ArgumentException || e is InvalidOperationException) { readError = e; }
                        finally
                        {
                            try { session.Complete(); } catch (ObjectDisposedException) { }
                        }
                    }) { IsBackground = true, Name = "FlowMap frame reader" };
                    reader.Start();
                    if (toPicture)
                    {
                        reader.Join();
                        try { session.Completion.Wait(); }
                        catch (AggregateException e)
                        {
                            throw new CliException($"the reconstruction of '{input}' failed: " + e.InnerException?.Message,
                                                   e.InnerException is ArgumentException || e.InnerException is InvalidDataException ? ExitCodes.BadInput : ExitCodes.Failed, e);
                        }
                        if (session.Stats.Processed == 0)
                            throw new CliException($"nothing to show: '{input}' " + (readError != null ? "cannot be reconstructed: " + readError.Message
                                                                                     : "gave no readable frame" + (src.Warnings.Count > 0 ? ": " + string.Join("; ", src.Warnings.Take(3)) : ".")));
                        if (readError != null) Console.Error.WriteLine("flowmap: input stopped early: " + readError.Message);
                        scene.MarkFinished($"{session.Stats.Processed} frames");
                        var snap = scene.Snapshot();
                        try { ViewerApp.Screenshot(scene, screenshot!, viewer.Width, viewer.Height, viewer.Camera, viewer.Settings); }
                        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                        {
                            throw new CliException($"cannot write the screenshot '{screenshot}': {e.Message}", ExitCodes.Failed, e);
                        }
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"wrote {screenshot} ({viewer.Width}x{viewer.Height}, {snap.PointCount} points, {snap.Trajectory.Count} poses)"));
                        return 0;
                    }
                    var result = ViewerApp.Run(scene, viewer);
                    stop.Cancel();
                    reader.Join(TimeSpan.FromSeconds(2)); // at most one frame interval of a live source
                    var st = session.Stats;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{result.Frames} frames drawn at {result.Fps:F1} fps; pipeline: {st.Processed} processed, {st.Dropped} dropped, median latency {st.MedianLatencySeconds * 1000:F0} ms"));
                    if (readError != null) Console.Error.WriteLine("flowmap: input stopped early: " + readError.Message);
                    return 0;
                }
            }
        }
    }
}
