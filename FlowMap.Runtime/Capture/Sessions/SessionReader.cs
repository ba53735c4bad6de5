using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using K4os.Compression.LZ4;

namespace FlowMap.Capture.Sessions
{
    /// <summary>
    /// Reads a session file record by record (streaming: one record in memory at a time). Damage never stops the read
    /// silently and never yields a wrong frame: a record whose checksum fails is skipped and reported in
    /// <see cref="Problems"/>, the reader resynchronising on the next record magic; a record cut off by a crash ends the
    /// read and is reported with its byte offset (<see cref="CutAtByte"/>).
    /// </summary>
    internal sealed class SessionReader : IDisposable
    {
        private readonly FileStream _stream;
        private readonly List<string> _problems = new List<string>();

        public SessionReader(string path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"Session '{path}' does not exist.", path);
            Path = path;
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            var head = new byte[SessionFormat.FileMagic.Length + SessionFormat.RecordMagic.Length];
            int got = ReadFully(head);
            if (!SessionFormat.LooksLikeSession(head.AsSpan(0, got)))
                throw new InvalidDataException($"'{path}' is not a FlowMap session (bad file magic).");
            if (!head.AsSpan(0, SessionFormat.FileMagic.Length).SequenceEqual(SessionFormat.FileMagic))
                _problems.Add("damaged file magic (one byte) ignored");
            _stream.Position = SessionFormat.FileMagic.Length;
            // The first intact record must be the session info (written twice: a damaged first copy is skipped by the
            // resynchronisation and the second copy read).
            if (!TryReadRecord(out int type, out var payload) || type != SessionFormat.TypeInfo)
                throw new InvalidDataException($"Session '{path}' has no readable info record at its start" +
                                               (_problems.Count > 0 ? $" ({_problems[_problems.Count - 1]})." : "."));
            SessionInfo? info;
            try { info = JsonSerializer.Deserialize<SessionInfo>(Encoding.UTF8.GetString(payload)); }
            catch (JsonException e) { throw new InvalidDataException($"Session '{path}': the info record is not valid JSON ({e.Message}).", e); }
            if (info == null) throw new InvalidDataException($"Session '{path}': empty info record.");
            if (info.Width < 1 || info.Height < 1 || (long)info.Width * info.Height > int.MaxValue / 3 || !double.IsFinite(info.Fps) || info.Fps < 0)
                throw new InvalidDataException($"Session '{path}': implausible info record (size {info.Width}x{info.Height}, {info.Fps} fps).");
            Info = info;
        }

        public string Path { get; }
        public SessionInfo Info { get; }
        /// <summary>Damaged records skipped and where the file was cut, in the order met.</summary>
        public IReadOnlyList<string> Problems => _problems;
        /// <summary>Byte offset where an incomplete record starts (the file was cut there), or null.</summary>
        public long? CutAtByte { get; private set; }
        /// <summary>True once the end record was read: the recording was closed properly.</summary>
        public bool Complete { get; private set; }
        /// <summary>Results recorded with the session, collected while reading.</summary>
        public List<SessionResult> Results { get; } = new List<SessionResult>();

        /// <summary>
        /// The frames in recorded order. Results are gathered into <see cref="Results"/> on the way.
        /// Frames whose record is damaged are skipped (see <see cref="Problems"/>).
        /// </summary>
        public IEnumerable<Frame> Frames()
        {
            while (TryReadRecord(out int type, out var payload))
            {
                switch (type)
                {
                    case SessionFormat.TypeFrame:
                        var frame = DecodeFrame(payload, out var problem);
                        if (frame != null) yield return frame;
                        else _problems.Add(problem!);
                        break;
                    case SessionFormat.TypeResult:
                        if (payload.Length >= 4)
                            Results.Add(new SessionResult(BinaryPrimitives.ReadInt32LittleEndian(payload), Encoding.UTF8.GetString(payload, 4, payload.Length - 4)));
                        break;
                    case SessionFormat.TypeEnd:
                        Complete = true;
                        yield break;
                    case SessionFormat.TypeInfo:
                        break;
                    default:
                        _problems.Add($"unknown record type {type} skipped");
                        break;
                }
            }
        }

        private Frame? DecodeFrame(byte[] p, out string? problem)
        {
            problem = null;
            if (p.Length < 28) { problem = "frame record too short"; return null; }
            int index = BinaryPrimitives.ReadInt32LittleEndian(p);
            double ts = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(p.AsSpan(4)));
            int w = BinaryPrimitives.ReadInt32LittleEndian(p.AsSpan(12)), h = BinaryPrimitives.ReadInt32LittleEndian(p.AsSpan(16));
            int codec = BinaryPrimitives.ReadInt32LittleEndian(p.AsSpan(20)), rawLen = BinaryPrimitives.ReadInt32LittleEndian(p.AsSpan(24));
            if (codec != SessionFormat.CodecLz4Rgb8) { problem = $"frame {index}: unknown codec {codec}, skipped"; return null; }
            if (w < 1 || h < 1 || (long)w * h * 3 != rawLen) { problem = $"frame {index}: inconsistent size {w}x{h} / {rawLen} bytes, skipped"; return null; }
            if (w != Info.Width || h != Info.Height) { problem = $"frame {index}: size {w}x{h} differs from the session's {Info.Width}x{Info.Height}, skipped"; return null; }
            var raw = new byte[rawLen];
            int n = LZ4Codec.Decode(p, 28, p.Length - 28, raw, 0, raw.Length);
            if (n != rawLen) { problem = $"frame {index}: pixel data does not decode, skipped"; return null; }
            return new Frame(index, ts, new RgbImage(w, h, raw), $"{index:D6}.png");
        }

        private bool TryReadRecord(out int type, out byte[] payload)
        {
            type = 0; payload = Array.Empty<byte>();
            var header = new byte[SessionFormat.HeaderSize];
            while (true)
            {
                long start = _stream.Position;
                int got = ReadFully(header);
                if (got == 0) return false; // clean end of file
                string? why = null;
                bool incomplete = false;
                if (got < header.Length) { why = "incomplete record header"; incomplete = true; }
                else if (!header.AsSpan(0, 4).SequenceEqual(SessionFormat.RecordMagic)) why = "bad record magic";
                else
                {
                    uint len = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
                    if (len > SessionFormat.MaxPayload) why = $"implausible record length {len}";
                    else
                    {
                        payload = new byte[len];
                        if (ReadFully(payload) < len) { why = "incomplete record"; incomplete = true; }
                        else if (SessionFormat.Checksum(header.AsSpan(4, 8), payload) != BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12)))
                            why = "checksum mismatch";
                        else
                        {
                            type = (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
                            return true;
                        }
                    }
                }
                long next = FindNextMagic(start + 1);
                if (next < 0)
                {
                    if (incomplete)
                    {
                        CutAtByte = start;
                        _problems.Add($"session cut at byte {start} ({why}): the recording ended there, every complete record before it was read");
                    }
                    else _problems.Add($"damaged record at byte {start} ({why}) and nothing readable after it");
                    return false;
                }
                _problems.Add($"damaged record at byte {start} ({why}) skipped; resumed at byte {next}");
                _stream.Position = next;
            }
        }

        private long FindNextMagic(long from)
        {
            var buf = new byte[1 << 16];
            long pos = from;
            while (pos < _stream.Length)
            {
                _stream.Position = pos;
                int n = ReadFully(buf);
                if (n < 4) return -1;
                var span = buf.AsSpan(0, n);
                int i = span.IndexOf(SessionFormat.RecordMagic);
                if (i >= 0) return pos + i;
                pos += n - 3;
            }
            return -1;
        }

        private int ReadFully(byte[] buffer)
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int n = _stream.Read(buffer, total, buffer.Length - total);
                if (n == 0) break;
                total += n;
            }
            return total;
        }

        public void Dispose() => _stream.Dispose();
    }
}
