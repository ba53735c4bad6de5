using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FlowMap.Export;

namespace FlowMap.Capture
{
    /// <summary>
    /// The PNG and JPEG images of a folder as frames, in natural file-name order (digit runs compare as numbers, so
    /// frame2 comes before frame10; a note in <see cref="Warnings"/> says so when that differs from plain name order),
    /// decoded one at a time.
    /// A frame's <see cref="Frame.Index"/> is the file's position in that order (so it keeps pointing at the same file when
    /// others are skipped), its name the file name, its timestamp index / fps (30 unless given).
    /// Damage policy (reported skips, never a crash and never a wrong frame): an unreadable, corrupt or truncated image is
    /// skipped and reported in <see cref="Warnings"/>; an image whose size differs from the size most images of the folder
    /// declare in their headers is also skipped and reported (a stray thumbnail or screenshot should not stop a run, and a resized frame would be wrong).
    /// An empty folder is an InvalidDataException.
    /// </summary>
    internal sealed class ImageFolderSource : IFrameSource
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
            var files = Directory.EnumerateFiles(folder)
                .Where(p => Extensions.Contains(Path.GetExtension(p).ToLowerInvariant())).ToArray();
            if (files.Length == 0) throw new InvalidDataException($"Image folder '{folder}' holds no PNG or JPEG images.");
            _files = files.OrderBy(p => Path.GetFileName(p), NaturalNameComparer.Instance).ToArray();
            var ordinal = files.OrderBy(p => Path.GetFileName(p), StringComparer.Ordinal).ToArray();
            if (!ordinal.SequenceEqual(_files))
                _warnings.Add($"note: the file names are numbered without zero padding ({Path.GetFileName(_files[0])} ... {Path.GetFileName(_files[_files.Length - 1])}); " +
                              "frames are read in numeric order, not in plain name order");
            (_width, _height) = MostCommonSize(_files);
            FramesPerSecond = fps;
            _fps = fps ?? 30.0;
            Description = $"image folder {folder} ({_files.Length} image{(_files.Length == 1 ? "" : "s")})";
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

        private static string Reason(string message, string path) =>
            message.Replace($"'{path}' ", "").Replace($"'{path}'", "the file").TrimEnd().TrimEnd('.');

        /// <summary>
        /// The image size most files of the folder declare in their headers (ties: the earliest file's), so one odd image
        /// (a thumbnail, a screenshot), even the first, is the one skipped. (0, 0) when no header is readable: the first
        /// decoded image then sets the size.
        /// </summary>
        private static (int Width, int Height) MostCommonSize(string[] files)
        {
            var counts = new Dictionary<(int, int), (int Count, int First)>();
            for (int i = 0; i < files.Length; i++)
            {
                int w, h;
                try
                {
                    using var fs = File.OpenRead(files[i]);
                    // JPEG headers are walked here (Export/JpegMarkers.cs), never by StbImageSharp's header parser, which
                    // loops forever on a segment length past the end of the file.
                    var magic = new byte[(int)Math.Min(fs.Length, 3)];
                    BinaryIo.ReadExactly(fs, magic, 0, magic.Length, files[i], "the image header");
                    if (JpegMarkers.IsJpeg(magic)) (w, h) = JpegSize(fs, files[i]);
                    else
                    {
                        fs.Position = 0;
                        if (!(StbImageSharp.ImageInfo.FromStream(fs) is { } info)) continue;
                        (w, h) = (info.Width, info.Height);
                    }
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidOperationException || e is ArgumentException
                                          || e is IndexOutOfRangeException || e is NotSupportedException || e is InvalidDataException)
                {
                    continue; // unreadable: reported when the frame is decoded
                }
                if (w < 1 || h < 1) continue;
                var key = (w, h);
                counts[key] = counts.TryGetValue(key, out var c) ? (c.Count + 1, c.First) : (1, i);
            }
            if (counts.Count == 0) return (0, 0);
            return counts.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Value.First).First().Key;
        }

        /// <summary>
        /// A JPEG's frame size from a prefix of the file: 64 KiB holds the header of nearly every file; a file with large
        /// segments before its first scan (EXIF thumbnails, ICC profiles: at most 64 KiB each) is read further, up to 1 MiB.
        /// </summary>
        private static (int Width, int Height) JpegSize(FileStream fs, string path)
        {
            for (int prefix = 1 << 16; ; prefix <<= 4)
            {
                var head = new byte[(int)Math.Min(fs.Length, prefix)];
                fs.Position = 0;
                BinaryIo.ReadExactly(fs, head, 0, head.Length, path, "the image header");
                try { return JpegMarkers.Check(head, path, headerOnly: true); }
                catch (InvalidDataException) when (head.Length < fs.Length && prefix < 1 << 20) { } // the header goes on: read more
            }
        }

        public void Dispose() { }
    }

    /// <summary>
    /// File names compared with runs of digits as numbers ("frame2" &lt; "frame10"; equal numbers: fewer leading zeros
    /// first), other characters ordinally; "000012" and "12"-style padded names keep their plain order.
    /// </summary>
    internal sealed class NaturalNameComparer : IComparer<string>
    {
        public static readonly NaturalNameComparer Instance = new NaturalNameComparer();

        private static bool IsDigit(char c) => c >= '0' && c <= '9';

        public int Compare(string? a, string? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            if (a == null) return -1;
            if (b == null) return 1;
            int i = 0, j = 0;
            while (i < a.Length && j < b.Length)
            {
                if (IsDigit(a[i]) && IsDigit(b[j]))
                {
                    int si = i, sj = j;
                    while (i < a.Length && IsDigit(a[i])) i++;
                    while (j < b.Length && IsDigit(b[j])) j++;
                    var da = a.AsSpan(si, i - si).TrimStart('0');
                    var db = b.AsSpan(sj, j - sj).TrimStart('0');
                    if (da.Length != db.Length) return da.Length.CompareTo(db.Length);
                    int c = da.SequenceCompareTo(db);
                    if (c != 0) return c;
                    if (i - si != j - sj) return (i - si).CompareTo(j - sj);
                }
                else
                {
                    if (a[i] != b[j]) return a[i].CompareTo(b[j]);
                    i++; j++;
                }
            }
            int rest = (a.Length - i).CompareTo(b.Length - j);
            return rest != 0 ? rest : string.CompareOrdinal(a, b);
        }
    }
}
