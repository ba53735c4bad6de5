using System;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace FlowMap.Capture.Sessions
{
    /// <summary>
    /// The FlowMap session file (".fmsession"): append-only and crash-safe.
    ///
    /// Layout: an 8-byte file magic "FMSESS\0\x01" (format version 1), then records. Every record is framed:
    /// <code>
    ///   offset size  field
    ///   0      4     record magic 0x46 0x4D 0x52 0x43 ("FMRC")
    ///   4      4     type (uint32 LE): 1 = session info (UTF-8 JSON), 2 = frame, 3 = result (UTF-8 JSON), 4 = end
    ///   8      4     payload length in bytes (uint32 LE, at most 256 MiB)
    ///   12     4     CRC-32 (IEEE) of bytes 4..11 and the payload
    ///   16     n     payload
    /// </code>
    /// Frame payload: index (int32), timestamp seconds (float64), width, height (int32), codec (int32: 1 = LZ4 block of
    /// tightly packed RGB8 rows), raw length (int32), then the compressed bytes. All little-endian.
    /// The info record is written twice at the start (two identical records, the second right after the first), so one
    /// damaged byte in either copy loses nothing; files with one copy (the first writers) read the same. A reader also
    /// accepts a file magic with one damaged byte when a record magic follows it.
    /// A writer appends one whole record per write and flushes it, so a process killed at any moment leaves a file
    /// whose every complete record is intact; a reader stops at a cut record and reports the byte offset, and skips a
    /// record whose checksum fails (reporting it), resynchronising on the next record magic.
    /// </summary>
    internal static class SessionFormat
    {
        public static readonly byte[] FileMagic = { (byte)'F', (byte)'M', (byte)'S', (byte)'E', (byte)'S', (byte)'S', 0, 1 };
        public static readonly byte[] RecordMagic = { (byte)'F', (byte)'M', (byte)'R', (byte)'C' };
        public const int HeaderSize = 16;
        public const int MaxPayload = 256 << 20;

        public const int TypeInfo = 1, TypeFrame = 2, TypeResult = 3, TypeEnd = 4;
        public const int CodecLz4Rgb8 = 1;

        /// <summary>
        /// True when <paramref name="head"/> (the first 12 bytes or more of a file) starts like a session: the file magic,
        /// or the file magic with one damaged byte followed by a record magic.
        /// </summary>
        public static bool LooksLikeSession(ReadOnlySpan<byte> head)
        {
            if (head.Length < FileMagic.Length) return false;
            if (head.Slice(0, FileMagic.Length).SequenceEqual(FileMagic)) return true;
            if (head.Length < FileMagic.Length + RecordMagic.Length || !head.Slice(FileMagic.Length, RecordMagic.Length).SequenceEqual(RecordMagic)) return false;
            int differ = 0;
            for (int i = 0; i < FileMagic.Length; i++) if (head[i] != FileMagic[i]) differ++;
            return differ <= 1;
        }

        public static uint Checksum(ReadOnlySpan<byte> typeAndLength, ReadOnlySpan<byte> payload)
        {
            var crc = new Crc32();
            crc.Append(typeAndLength);
            crc.Append(payload);
            return BinaryPrimitives.ReadUInt32LittleEndian(crc.GetCurrentHash());
        }
    }
}
