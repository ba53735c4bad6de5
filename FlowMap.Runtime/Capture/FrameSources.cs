using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using FlowMap.Capture.Sessions;

namespace FlowMap.Capture
{
    /// <summary>
    /// Opens the right <see cref="IFrameSource"/> for an input named on a command line:
    /// a factory added with <see cref="Register"/> (newest first) when it accepts the path; "camera", "camera:N" or a
    /// /dev/videoN device: <see cref="CameraSource"/>; a folder: <see cref="ImageFolderSource"/>; a file starting with the
    /// session magic: <see cref="SessionFileSource"/> (paced by <see cref="PacedFrameSource"/> in real time); any other file: <see cref="VideoFileSource"/> (ffprobe decides; paced by <see cref="PacedFrameSource"/> in real time).
    /// </summary>
    internal static class FrameSources
    {
        private static readonly List<Func<string, IFrameSource?>> Factories = new List<Func<string, IFrameSource?>>();
        private static readonly object Lock = new object();

        /// <summary>
        /// Adds a factory consulted before the built-in rules; it returns null for paths it does not handle. Returns a handle
        /// whose Dispose removes the factory again.
        /// </summary>
        public static IDisposable Register(Func<string, IFrameSource?> factory)
        {
            if (factory == null) throw new ArgumentNullException(nameof(factory));
            lock (Lock) Factories.Insert(0, factory);
            return new Registration(factory);
        }

        private sealed class Registration : IDisposable
        {
            private Func<string, IFrameSource?>? _f;
            public Registration(Func<string, IFrameSource?> f) { _f = f; }
            public void Dispose()
            {
                var f = _f; _f = null;
                if (f != null) lock (Lock) Factories.Remove(f);
            }
        }

        private static readonly Regex CameraName = new Regex(@"^camera(?::(\d+))?$");
        private static readonly Regex CameraDevice = new Regex(@"^/dev/video\d+$");

        /// <summary>Whether <see cref="Open"/> takes <paramref name="input"/> for a camera ("camera", "camera:N", /dev/videoN), which captures from its opening.</summary>
        public static bool IsCamera(string input) => input != null && (CameraName.IsMatch(input) || CameraDevice.IsMatch(input));

        /// <summary>Opens <paramref name="input"/>; <paramref name="realTime"/> paces videos and sessions at their frame rate.</summary>
        public static IFrameSource Open(string input, bool realTime = false)
        {
            if (string.IsNullOrWhiteSpace(input)) throw new ArgumentException("No input given.", nameof(input));
            Func<string, IFrameSource?>[] factories;
            lock (Lock) factories = Factories.ToArray();
            foreach (var f in factories)
            {
                var s = f(input);
                if (s != null) return s;
            }
            var cam = CameraName.Match(input);
            if (cam.Success) return new CameraSource("/dev/video" + (cam.Groups[1].Success ? cam.Groups[1].Value : "0"));
            if (CameraDevice.IsMatch(input)) return new CameraSource(input);
            if (Directory.Exists(input)) return new ImageFolderSource(input);
            if (!File.Exists(input)) throw new FileNotFoundException($"Input '{input}' does not exist (expected an image folder, a video file, a session file or 'camera').", input);
            if (IsSingleImage(input))
                throw new InvalidDataException($"'{input}' is a single image, not a stream of frames: put the frames (two or more images of a moving camera) in a folder and give the folder.");
            if (SessionFileSource.IsSessionFile(input))
            {
                var session = new SessionFileSource(input);
                return realTime ? new PacedFrameSource(session) : session;
            }
            // Paced from the first frame read, not by ffmpeg's -re from its own start: the frames due while the app was still
            // starting (a session's kernels built and dispatched once) came in one burst and were dropped
            // (FlowMap.Tests/Issues/PacedVideoBurstAfterASlowStart.cs).
            var video = new VideoFileSource(input);
            return realTime ? new PacedFrameSource(video) : video;
        }

        private static readonly string[] StillImageExtensions = { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm" };

        /// <summary>A still image by its extension or its first bytes (PNG or JPEG signature); ffmpeg would call it a one-frame video.</summary>
        internal static bool IsSingleImage(string path)
        {
            if (StillImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant())) return true;
            try
            {
                using var fs = File.OpenRead(path);
                var head = new byte[8];
                int n = fs.Read(head, 0, head.Length);
                bool png = n >= 8 && head[0] == 137 && head[1] == (byte)'P' && head[2] == (byte)'N' && head[3] == (byte)'G';
                bool jpeg = n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF;
                return png || jpeg;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return false; // the video reader reports it
            }
        }
    }
}
