using System;
using System.Collections.Generic;
using System.IO;

namespace FlowMap.Capture.Sessions
{
    /// <summary>
    /// A recorded session (.fmsession) read as a frame stream, so `reconstruct` and `replay` accept it like any other
    /// input. Damaged frames are skipped and reported in <see cref="Warnings"/>, as is a recording cut off by a crash
    /// (every complete frame before the cut is delivered).
    /// </summary>
    internal sealed class SessionFileSource : IFrameSource
    {
        private readonly SessionReader _reader;
        private readonly IEnumerator<Frame> _frames;

        public SessionFileSource(string path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"Session '{path}' does not exist.", path);
            _reader = new SessionReader(path);
            _frames = _reader.Frames().GetEnumerator();
            Description = $"session {Path.GetFileName(path)} ({_reader.Info.Width}x{_reader.Info.Height}, recorded from {_reader.Info.Source})";
        }

        /// <summary>True when <paramref name="path"/> is a file that starts with the session file magic.</summary>
        public static bool IsSessionFile(string path)
        {
            if (!File.Exists(path)) return false;
            var head = new byte[SessionFormat.FileMagic.Length + SessionFormat.RecordMagic.Length];
            using var fs = File.OpenRead(path);
            int n = 0, got;
            while (n < head.Length && (got = fs.Read(head, n, head.Length - n)) > 0) n += got;
            return SessionFormat.LooksLikeSession(head.AsSpan(0, n));
        }

        public string Description { get; }
        /// <summary>Not known before the file is read (a cut recording may hold fewer frames than planned).</summary>
        public int? FrameCount => null;
        public double? FramesPerSecond => _reader.Info.Fps > 0 ? _reader.Info.Fps : (double?)null;
        /// <summary>Where the recording came from, its size and codec.</summary>
        public SessionInfo Info => _reader.Info;
        /// <summary>Results recorded with the session that have been read so far (all of them once the stream ended).</summary>
        public IReadOnlyList<SessionResult> RecordedResults => _reader.Results;
        /// <summary>True once the end record was read (the recording was closed properly).</summary>
        public bool Complete => _reader.Complete;
        /// <summary>Byte offset where a cut-off recording ends, or null.</summary>
        public long? CutAtByte => _reader.CutAtByte;

        public bool TryRead(out Frame frame)
        {
            if (_frames.MoveNext()) { frame = _frames.Current; return true; }
            frame = null!;
            return false;
        }

        public IReadOnlyList<string> Warnings => _reader.Problems;

        public void Dispose()
        {
            _frames.Dispose();
            _reader.Dispose();
        }
    }
}
