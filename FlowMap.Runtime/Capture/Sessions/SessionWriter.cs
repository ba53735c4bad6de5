using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using System.Text.Json;
using K4os.Compression.LZ4;

namespace FlowMap.Capture.Sessions
{
    /// <summary>
    /// Appends frames and results to a session file (format: <see cref="SessionFormat"/>). Each record is written whole
    /// and flushed to the operating system before the call returns, so a crash loses at most the record being written.
    /// Not thread-safe: one writer thread (the capture loop) owns it.
    /// </summary>
    internal sealed class SessionWriter : IDisposable
    {
        private readonly FileStream _stream;
        private readonly bool _durable;
        private bool _disposed;

        /// <param name="path">The session file to create (an existing file is an error: sessions are never overwritten).</param>
        /// <param name="info">Source metadata, written first.</param>
        /// <param name="durable">Also fsync after each frame (survives power loss, slower).</param>
        public SessionWriter(string path, SessionInfo info, bool durable = false)
        {
            if (info == null) throw new ArgumentNullException(nameof(info));
            if (File.Exists(path)) throw new IOException($"Session '{path}' already exists; choose another name.");
            _durable = durable;
            _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
            Info = info;
            _stream.Write(SessionFormat.FileMagic, 0, SessionFormat.FileMagic.Length);
            // The info record twice: a damaged byte in one copy leaves the other (readers take the first intact one).
            var infoJson = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(info));
            WriteRecord(SessionFormat.TypeInfo, infoJson);
            WriteRecord(SessionFormat.TypeInfo, infoJson);
        }

        public SessionInfo Info { get; }
        public int FramesWritten { get; private set; }
        public long BytesWritten => _stream.Position;

        /// <summary>Appends one frame, losslessly (LZ4 of the RGB8 pixels).</summary>
        public void WriteFrame(Frame frame)
        {
            if (frame == null) throw new ArgumentNullException(nameof(frame));
            var img = frame.Image;
            var raw = img.Pixels;
            var compressed = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
            int n = LZ4Codec.Encode(raw, 0, raw.Length, compressed, 0, compressed.Length, LZ4Level.L00_FAST);
            if (n <= 0) throw new InvalidOperationException("LZ4 compression failed.");
            var payload = new byte[28 + n];
            var s = payload.AsSpan();
            BinaryPrimitives.WriteInt32LittleEndian(s, frame.Index);
            BinaryPrimitives.WriteInt64LittleEndian(s.Slice(4), BitConverter.DoubleToInt64Bits(frame.TimestampSeconds));
            BinaryPrimitives.WriteInt32LittleEndian(s.Slice(12), img.Width);
            BinaryPrimitives.WriteInt32LittleEndian(s.Slice(16), img.Height);
            BinaryPrimitives.WriteInt32LittleEndian(s.Slice(20), SessionFormat.CodecLz4Rgb8);
            BinaryPrimitives.WriteInt32LittleEndian(s.Slice(24), raw.Length);
            Buffer.BlockCopy(compressed, 0, payload, 28, n);
            WriteRecord(SessionFormat.TypeFrame, payload);
            FramesWritten++;
            if (_durable) _stream.Flush(true);
        }

        /// <summary>Appends a result produced for a frame (e.g. its live pose), as JSON.</summary>
        public void WriteResult(SessionResult result)
        {
            if (result == null) throw new ArgumentNullException(nameof(result));
            var json = Encoding.UTF8.GetBytes(result.Json);
            var payload = new byte[4 + json.Length];
            BinaryPrimitives.WriteInt32LittleEndian(payload, result.FrameIndex);
            Buffer.BlockCopy(json, 0, payload, 4, json.Length);
            WriteRecord(SessionFormat.TypeResult, payload);
        }

        private void WriteRecord(int type, byte[] payload)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(SessionWriter));
            if (payload.Length > SessionFormat.MaxPayload) throw new ArgumentException($"Record of {payload.Length} bytes exceeds the format's {SessionFormat.MaxPayload}.");
            var header = new byte[SessionFormat.HeaderSize];
            Buffer.BlockCopy(SessionFormat.RecordMagic, 0, header, 0, 4);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)type);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), SessionFormat.Checksum(header.AsSpan(4, 8), payload));
            // One contiguous write per record, then hand it to the OS: a kill -9 after Flush() keeps the record.
            var record = new byte[header.Length + payload.Length];
            Buffer.BlockCopy(header, 0, record, 0, header.Length);
            Buffer.BlockCopy(payload, 0, record, header.Length, payload.Length);
            _stream.Write(record, 0, record.Length);
            _stream.Flush();
        }

        /// <summary>Writes the end record and closes the file. A session without it was cut short (still readable).</summary>
        public void Dispose()
        {
            if (_disposed) return;
            WriteRecord(SessionFormat.TypeEnd, Array.Empty<byte>());
            _disposed = true;
            _stream.Flush(true);
            _stream.Dispose();
        }
    }
}
