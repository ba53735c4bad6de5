using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Export;

namespace FlowMap.Capture
{
    /// <summary>
    /// The PNG and JPEG images of a folder as frames, in ordinal file-name order, decoded one at a time.
    /// A frame's <see cref="Frame.Index"/> is the file's position in that order (so it keeps pointing at the same file when
    /// others are skipped), its name the file name, its timestamp index / fps (30 unless given).
    /// Damage policy (reported skips, never a crash and never a wrong frame): an unreadable, corrupt or truncated image is
    /// skipped and reported in <see cref="Warnings"/>; an image whose size differs from the first readable image is also
    /// skipped and reported (a stray thumbnail or screenshot should not stop a run, and a resized frame would be wrong).
    /// An empty folder is an InvalidDataException.
    /// </summary>
    public sealed class ImageFolderSource : IFrameSource
    {
        private static readonly string[] Extensions = { ".png", ".jpg", ".jpeg" };
        private readonly string[] _files;
        private readonly List<string> _warnings = new List<string>();
        private readonly double _fps;
        private int _next;
        private int _width, _height;

        /// <param name="folder">The folder of images.</param>
        /// <param name="fps">Frame rate to state timestamps with (the images carry none); null: 30, and <see cref="FramesPerSecond"/> is null.</param>
        public ImageFolderSource(string folder, double? fps = null)
        {
            if (string.IsNullOrEmpty(folder)) throw new ArgumentException("No image folder given.", nameof(folder));
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Image folder '{folder}' does not exist.");
            if (fps is double f && !(f > 0)) throw new ArgumentOutOfRangeException(nameof(fps), "The frame rate must be positive.");
            Folder = folder;
            _files = Directory.EnumerateFiles(folder)
                .Where(p => Extensions.Contains(Path.GetExtension(p).ToLowerInvariant()))
                .OrderBy(p => Path.GetFileName(p), StringComparer.Ordinal).ToArray();
            if (_files.Length == 0) throw new InvalidDataException($"Image folder '{folder}' holds no PNG or JPEG images.");
            FramesPerSecond = fps;
            _fps = fps ?? 30.0;
            Description = $"image folder {folder} ({_files.Length} images)";
        }

        public string Folder { get; }
        /// <summary>The image files in the order they are read.</summary>
        public IReadOnlyList<string> Files => _files;
        public string Description { get; }
        public int? FrameCount => _files.Length;
        public double? FramesPerSecond { get; }
        public IReadOnlyList<string> Warnings => _warnings;

        public bool TryRead(out Frame frame)
        {
            while (_next < _files.Length)
            {
                int index = _next++;
                var path = _files[index];
                var name = Path.GetFileName(path);
                RgbImage image;
                try { image = PngImage.ReadRgb(path); }
                catch (Exception e) when (e is InvalidDataException || e is IOException || e is UnauthorizedAccessException)
                {
                    _warnings.Add($"frame {index} ({name}): {Reason(e.Message, path)}, skipped");
                    continue;
                }
                if (_width == 0) { _width = image.Width; _height = image.Height; }
                else if (image.Width != _width || image.Height != _height)
                {
                    _warnings.Add($"frame {index} ({name}): size {image.Width}x{image.Height} differs from the sequence's {_width}x{_height}, skipped");
                    continue;
                }
                frame = new Frame(index, index / _fps, image, name);
                return true;
            }
            frame = null!;
            return false;
        }

        private static string Reason(string message, string path) => message.Replace($"'{path}' ", "").Replace($"'{path}'", "the file");

        public void Dispose() { }
    }
}
