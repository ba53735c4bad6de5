using System;
using System.IO;

namespace FlowMap.Export
{
    /// <summary>
    /// The marker structure of a JPEG file, checked before any decoder sees it. StbImageSharp 2.30.16 loops forever on a
    /// file whose segment length points past the end of the file (a fuzzed APP0 length of 0x0410 in a 725-byte file hung
    /// its header parser, in <c>ImageInfo.FromStream</c> and <c>ImageResult.FromMemory</c> alike), so every segment is
    /// walked here first and damage is an <see cref="InvalidDataException"/> naming the byte where it is.
    /// </summary>
    /// <remarks>
    /// The layout is ITU-T T.81 Annex B (B.1.1.2-B.1.1.4, B.2):
    /// 1. The file starts with SOI (FF D8). Every marker is FF xx; any number of FF fill bytes may precede it (B.1.1.2).
    /// 2. SOI, EOI (FF D9), TEM (FF 01) and RST0-7 (FF D0-D7) stand alone; every other marker starts a segment whose
    ///    two-byte big-endian length counts itself and the parameters (so at least 2), and the segment must end inside
    ///    the file.
    /// 3. A frame header SOFn (C0-CF except DHT C4, JPG C8, DAC CC) carries P (1 byte), Y (2), X (2): the height and width.
    /// 4. After each SOS segment comes entropy-coded data, in which every FF is followed by 00 (byte stuffing) or is a
    ///    restart marker FF D0-D7 (B.1.1.5); the first other marker ends the scan and the walk resumes there.
    /// 5. The walk ends at EOI, which must follow at least one scan after a frame header.
    /// </remarks>
    internal static class JpegMarkers
    {
        /// <summary>True when the bytes start with a JPEG SOI marker followed by a marker.</summary>
        public static bool IsJpeg(ReadOnlySpan<byte> b) => b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;

        /// <summary>
        /// Walks every marker of a JPEG (see the remarks on the type) and returns the frame size of its SOF header; throws
        /// an <see cref="InvalidDataException"/> naming <paramref name="name"/> and the damaged byte otherwise.
        /// </summary>
        /// <param name="b">The file's bytes (with <paramref name="headerOnly"/>, a prefix of them may do).</param>
        /// <param name="name">The file, for messages.</param>
        /// <param name="headerOnly">Stop at the first scan (the size is known there): for reading sizes from file prefixes.</param>
        public static (int Width, int Height) Check(ReadOnlySpan<byte> b, string name, bool headerOnly = false)
        {
            if (!IsJpeg(b)) throw new InvalidDataException($"'{name}' is not a JPEG file (no start-of-image marker).");
            int width = 0, height = 0, scans = 0;
            int i = 2;                                                     // 1. after SOI
            while (true)
            {
                if (i >= b.Length) throw Truncated(name, b.Length);
                if (b[i] != 0xFF) throw Bad(name, i, $"expected a marker (FF), found {b[i]:X2}");
                while (i < b.Length && b[i] == 0xFF) i++;                  // 1. fill bytes
                if (i >= b.Length) throw Truncated(name, b.Length);
                byte m = b[i];
                int markerAt = i - 1;
                i++;
                if (m == 0xD9)                                             // 5. EOI
                {
                    if (scans == 0) throw Bad(name, markerAt, "the end-of-image marker comes before any image data");
                    return (width, height);
                }
                if (m == 0x00) throw Bad(name, markerAt, "FF 00 is not a marker outside image data");
                if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;   // 2. stand-alone markers
                if (i + 2 > b.Length) throw Truncated(name, b.Length);
                int length = (b[i] << 8) | b[i + 1];                       // 2. segment length, counting itself
                if (length < 2) throw Bad(name, markerAt, $"segment FF {m:X2} declares a length of {length} bytes (at least 2)");
                if (i + length > b.Length)
                    throw Bad(name, markerAt, $"segment FF {m:X2} declares {length} bytes, past the end of the file ({b.Length} bytes)");
                bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
                if (sof)                                                   // 3. frame header: P, Y, X
                {
                    if (length < 8) throw Bad(name, markerAt, $"frame header of {length} bytes is too short");
                    height = (b[i + 3] << 8) | b[i + 4];
                    width = (b[i + 5] << 8) | b[i + 6];
                    if (width < 1 || height < 1) throw Bad(name, markerAt, $"frame header declares an image of {width}x{height}");
                }
                i += length;
                if (m != 0xDA) continue;
                if (width == 0) throw Bad(name, markerAt, "a scan comes before any frame header");
                scans++;
                if (headerOnly) return (width, height);
                while (true)                                               // 4. entropy-coded data up to the next marker
                {
                    if (i + 1 >= b.Length) throw Truncated(name, b.Length);
                    if (b[i] == 0xFF && b[i + 1] != 0x00 && !(b[i + 1] >= 0xD0 && b[i + 1] <= 0xD7) && b[i + 1] != 0xFF) break;
                    i++;
                }
            }
        }

        private static InvalidDataException Truncated(string name, int length) =>
            new InvalidDataException($"'{name}' is truncated: the JPEG ends after {length} bytes without its end-of-image marker.");

        private static InvalidDataException Bad(string name, int at, string what) =>
            new InvalidDataException($"'{name}' is not a valid JPEG: at byte {at}, {what}.");
    }
}
