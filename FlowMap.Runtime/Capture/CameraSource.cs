using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace FlowMap.Capture
{
    /// <summary>
    /// A live camera read by an ffmpeg child process: on Linux the <c>v4l2</c> input (e.g. <c>/dev/video0</c>), frames as raw
    /// rgb24 over a pipe. <see cref="FrameCount"/> is null (live). Timestamps are seconds since the first frame arrived. A
    /// machine without the device gets an IOException naming the device tried; a camera that cannot be opened (busy, no
    /// permission) gets an IOException with ffmpeg's reason. The frame size is the camera's (or the requested one); a size
    /// change mid-stream is an InvalidDataException.
    /// </summary>
    internal sealed class CameraSource : IFrameSource
    {
        private readonly FfmpegPipe _pipe;
        private readonly List<string> _warnings = new List<string>();
        private readonly Stopwatch _clock = new Stopwatch();
        private int _width, _height, _next;
        private bool _ended;

        /// <param name="device">The device, e.g. "/dev/video0".</param>
        /// <param name="width">Requested width (0: the camera's default).</param>
        /// <param name="height">Requested height (0: the camera's default).</param>
        /// <param name="fps">Requested frame rate (0: the camera's default).</param>
        public CameraSource(string device = "/dev/video0", int width = 0, int height = 0, double fps = 0)
        {
            if (string.IsNullOrEmpty(device)) throw new ArgumentException("No camera device given.", nameof(device));
            Device = device;
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                throw new PlatformNotSupportedException($"Camera capture uses ffmpeg's v4l2 input, which needs Linux (device '{device}').");
            if (!File.Exists(device))
                throw new IOException($"No camera at '{device}': the device does not exist on this machine (is a camera connected? `ls /dev/video*` lists cameras).");
            var args = new List<string> { "-f", "v4l2" };
            if (fps > 0) { args.Add("-framerate"); args.Add(fps.ToString(CultureInfo.InvariantCulture)); }
            if (width > 0 && height > 0) { args.Add("-video_size"); args.Add($"{width}x{height}"); }
            args.Add("-i"); args.Add(device);
            FramesPerSecond = fps > 0 ? fps : (double?)null;
            _pipe = new FfmpegPipe(args, $"camera '{device}'");
            Description = $"camera {device}";
        }

        public string Device { get; }
        public string Description { get; private set; }
        public int? FrameCount => null;
        public double? FramesPerSecond { get; }
        public IReadOnlyList<string> Warnings => _warnings;

        public bool TryRead(out Frame frame)
        {
            frame = null!;
            if (_ended) return false;
            if (!_pipe.TryNextInfo(out var info))
            {
                _ended = true;
                int? code = _pipe.WaitForExit();
                if (_next == 0)
                    throw new IOException($"Camera '{Device}' could not be read: {(_pipe.Tail(3) is { Length: > 0 } t ? t : $"ffmpeg exit code {code}")}");
                _warnings.Add($"camera '{Device}' stopped after {_next} frames: {_pipe.Tail(2)}");
                return false;
            }
            if (_next == 0)
            {
                _width = info.Width; _height = info.Height;
                Description = $"camera {Device} ({_width}x{_height})";
                _clock.Start();
            }
            else if (info.Width != _width || info.Height != _height)
            {
                _ended = true;
                throw new InvalidDataException($"Camera '{Device}': the frame size changes from {_width}x{_height} to {info.Width}x{info.Height} at frame {_next}.");
            }
            var px = new byte[_width * _height * 3];
            if (_pipe.ReadFrame(px) < px.Length)
            {
                _ended = true;
                _warnings.Add($"camera '{Device}' stream ended inside frame {_next}: {_pipe.Tail(2)}");
                return false;
            }
            frame = new Frame(_next, _next == 0 ? 0 : _clock.Elapsed.TotalSeconds, new RgbImage(_width, _height, px), $"{_next:D6}.png");
            _next++;
            return true;
        }

        public void Dispose() => _pipe.Dispose();
    }
}
