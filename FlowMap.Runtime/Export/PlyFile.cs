using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace FlowMap.Export
{
    /// <summary>
    /// PLY point clouds (Turk, "The PLY Polygon File Format"). The writer produces binary little-endian PLY with one
    /// <c>vertex</c> element: <c>x y z</c> float, <c>red green blue</c> uchar (and, on request, a <c>confidence</c> float).
    /// The reader accepts ascii, binary little- and big-endian files, extra vertex properties and other elements
    /// (faces with list properties are skipped); colours default to grey 128 when absent.
    /// </summary>
    internal static class PlyFile
    {
        /// <summary>Writes the cloud; with <paramref name="includeConfidence"/> and a cloud that has one, adds a float <c>confidence</c> property.</summary>
        public static void Write(string path, PointCloud cloud, bool includeConfidence = false)
        {
            if (cloud == null) throw new ArgumentNullException(nameof(cloud));
            bool conf = includeConfidence && cloud.Confidence != null;
            var header = new StringBuilder();
            header.Append("ply\nformat binary_little_endian 1.0\ncomment FlowMap fused point cloud\n");
            header.Append("element vertex ").Append(cloud.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            header.Append("property float x\nproperty float y\nproperty float z\n");
            header.Append("property uchar red\nproperty uchar green\nproperty uchar blue\n");
            if (conf) header.Append("property float confidence\n");
            header.Append("end_header\n");
            BinaryIo.WriteAtomically(path, s =>
            {
                var hb = Encoding.ASCII.GetBytes(header.ToString());
                s.Write(hb, 0, hb.Length);
                int stride = 15 + (conf ? 4 : 0);
                const int block = 4096;
                var buf = new byte[stride * block];
                var pos = cloud.Positions; var col = cloud.Colors; var c = cloud.Confidence;
                for (int start = 0; start < cloud.Count; start += block)
                {
                    int n = Math.Min(block, cloud.Count - start), o = 0;
                    for (int i = start; i < start + n; i++)
                    {
                        PutFloat(buf, o, pos[3 * i]); PutFloat(buf, o + 4, pos[3 * i + 1]); PutFloat(buf, o + 8, pos[3 * i + 2]);
                        buf[o + 12] = col[3 * i]; buf[o + 13] = col[3 * i + 1]; buf[o + 14] = col[3 * i + 2];
                        if (conf) PutFloat(buf, o + 15, c![i]);
                        o += stride;
                    }
                    s.Write(buf, 0, o);
                }
            });
        }

        private static void PutFloat(byte[] b, int o, float f)
        {
            int v = BitConverter.SingleToInt32Bits(f);
            b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); b[o + 2] = (byte)(v >> 16); b[o + 3] = (byte)(v >> 24);
        }

        private enum Format { Ascii, BinaryLittle, BinaryBig }

        private sealed class Property
        {
            public string Name = "";
            public string Type = "";       // scalar type, or item type of a list
            public string? CountType;      // non-null for a list property
        }

        private sealed class Element
        {
            public string Name = "";
            public long Count;
            public readonly List<Property> Properties = new List<Property>();
        }

        /// <summary>Reads the vertex element's x, y, z, colour (red/green/blue or r/g/b) and optional confidence.</summary>
        public static PointCloud Read(string path)
        {
            using var fs = BinaryIo.OpenRead(path);
            var (format, elements) = ReadHeader(fs, path);
            var vertex = elements.Find(e => e.Name == "vertex")
                         ?? throw new InvalidDataException($"'{path}': PLY has no 'vertex' element.");
            if (vertex.Count > int.MaxValue / 3) throw new InvalidDataException($"'{path}': {vertex.Count} vertices is too many.");
            int ix = vertex.Properties.FindIndex(p => p.Name == "x"), iy = vertex.Properties.FindIndex(p => p.Name == "y"), iz = vertex.Properties.FindIndex(p => p.Name == "z");
            if (ix < 0 || iy < 0 || iz < 0) throw new InvalidDataException($"'{path}': vertex element lacks x, y or z.");
            int ir = FindAny(vertex, "red", "r", "diffuse_red"), ig = FindAny(vertex, "green", "g", "diffuse_green"), ib = FindAny(vertex, "blue", "b", "diffuse_blue");
            int ic = FindAny(vertex, "confidence");

            int n = (int)vertex.Count;
            var positions = new float[3 * n];
            var colors = new byte[3 * n];
            float[]? confidence = ic >= 0 ? new float[n] : null;
            var values = new double[vertex.Properties.Count];

            var reader = format == Format.Ascii ? null : new BinaryReader(new BufferedStream(fs, 1 << 16), Encoding.ASCII, leaveOpen: true);
            var ascii = format == Format.Ascii ? new AsciiTokens(fs, path) : null;
            try
            {
                foreach (var e in elements)
                {
                    bool isVertex = ReferenceEquals(e, vertex);
                    for (long k = 0; k < e.Count; k++)
                    {
                        for (int p = 0; p < e.Properties.Count; p++)
                        {
                            var prop = e.Properties[p];
                            if (prop.CountType != null)
                            {
                                long len = (long)ReadValue(reader, ascii, prop.CountType, format);
                                if (len < 0 || len > 1 << 20) throw new InvalidDataException($"'{path}': implausible list length {len} in element '{e.Name}'.");
                                for (long j = 0; j < len; j++) ReadValue(reader, ascii, prop.Type, format);
                                if (isVertex) values[p] = double.NaN;
                            }
                            else
                            {
                                double v = ReadValue(reader, ascii, prop.Type, format);
                                if (isVertex) values[p] = v;
                            }
                        }
                        if (isVertex)
                        {
                            int i = (int)k;
                            positions[3 * i] = (float)values[ix]; positions[3 * i + 1] = (float)values[iy]; positions[3 * i + 2] = (float)values[iz];
                            colors[3 * i] = Color(values, vertex, ir); colors[3 * i + 1] = Color(values, vertex, ig); colors[3 * i + 2] = Color(values, vertex, ib);
                            if (confidence != null) confidence[i] = (float)values[ic];
                        }
                    }
                    if (isVertex) break; // nothing after the vertices is needed
                }
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException($"'{path}' is truncated: the file ends inside the PLY data ({vertex.Count} vertices declared).", e);
            }
            finally { reader?.Dispose(); }
            return new PointCloud(positions, colors, confidence);
        }

        private static int FindAny(Element e, params string[] names)
        {
            foreach (var n in names)
            {
                int i = e.Properties.FindIndex(p => p.Name == n && p.CountType == null);
                if (i >= 0) return i;
            }
            return -1;
        }

        private static byte Color(double[] values, Element e, int index)
        {
            if (index < 0) return 128;
            double v = values[index];
            var t = e.Properties[index].Type;
            if (t == "float" || t == "float32" || t == "double" || t == "float64") v *= 255; // float colours are in [0, 1]
            if (t == "ushort" || t == "uint16") v /= 257;
            return (byte)Math.Max(0, Math.Min(255, Math.Round(v)));
        }

        private static (Format, List<Element>) ReadHeader(Stream s, string path)
        {
            var elements = new List<Element>();
            Format? format = null;
            int lineNo = 0;
            string? first = null;
            while (true)
            {
                var line = ReadHeaderLine(s, path);
                lineNo++;
                if (first == null)
                {
                    first = line;
                    if (line != "ply") throw new InvalidDataException($"'{path}' is not a PLY file (first line '{Trim(line)}').");
                    continue;
                }
                var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 0) continue;
                switch (parts[0])
                {
                    case "end_header":
                        if (format == null) throw new InvalidDataException($"'{path}': PLY header has no format line.");
                        return (format.Value, elements);
                    case "format":
                        if (parts.Length < 2) throw new InvalidDataException($"'{path}' header line {lineNo}: incomplete format line.");
                        format = parts[1] switch
                        {
                            "ascii" => Format.Ascii,
                            "binary_little_endian" => Format.BinaryLittle,
                            "binary_big_endian" => Format.BinaryBig,
                            _ => throw new InvalidDataException($"'{path}': unknown PLY format '{parts[1]}'."),
                        };
                        break;
                    case "element":
                        if (parts.Length < 3 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long count))
                            throw new InvalidDataException($"'{path}' header line {lineNo}: bad element line '{line}'.");
                        elements.Add(new Element { Name = parts[1], Count = count });
                        break;
                    case "property":
                        if (elements.Count == 0) throw new InvalidDataException($"'{path}' header line {lineNo}: property before any element.");
                        if (parts.Length >= 5 && parts[1] == "list")
                        {
                            CheckType(parts[2], path); CheckType(parts[3], path);
                            elements[elements.Count - 1].Properties.Add(new Property { CountType = parts[2], Type = parts[3], Name = parts[4] });
                        }
                        else if (parts.Length >= 3)
                        {
                            CheckType(parts[1], path);
                            elements[elements.Count - 1].Properties.Add(new Property { Type = parts[1], Name = parts[2] });
                        }
                        else throw new InvalidDataException($"'{path}' header line {lineNo}: bad property line '{line}'.");
                        break;
                    // comment, obj_info and anything else in the header: ignored
                }
                if (lineNo > 10000) throw new InvalidDataException($"'{path}': PLY header has no end_header.");
            }
        }

        private static string Trim(string s) => s.Length > 40 ? s.Substring(0, 40) + "..." : s;

        private static string ReadHeaderLine(Stream s, string path)
        {
            var sb = new StringBuilder();
            while (true)
            {
                int b = s.ReadByte();
                if (b < 0) throw new InvalidDataException($"'{path}' is truncated or not a PLY file: the header never ends.");
                if (b == '\n') return sb.ToString().TrimEnd('\r');
                sb.Append((char)b);
                if (sb.Length > 4096) throw new InvalidDataException($"'{path}' is not a PLY file (header line too long).");
            }
        }

        private static void CheckType(string t, string path)
        {
            if (Size(t) == 0) throw new InvalidDataException($"'{path}': unknown PLY property type '{t}'.");
        }

        private static int Size(string t) => t switch
        {
            "char" or "int8" or "uchar" or "uint8" => 1,
            "short" or "int16" or "ushort" or "uint16" => 2,
            "int" or "int32" or "uint" or "uint32" or "float" or "float32" => 4,
            "double" or "float64" => 8,
            _ => 0,
        };

        private static double ReadValue(BinaryReader? r, AsciiTokens? a, string type, Format format)
        {
            if (a != null) return a.Next();
            bool swap = (format == Format.BinaryBig) == BitConverter.IsLittleEndian;
            switch (type)
            {
                case "char": case "int8": return r!.ReadSByte();
                case "uchar": case "uint8": return r!.ReadByte();
                case "short": case "int16": { var v = r!.ReadInt16(); return swap ? (short)((v << 8) | ((v >> 8) & 0xFF)) : v; }
                case "ushort": case "uint16": { var v = r!.ReadUInt16(); return swap ? (ushort)((v << 8) | (v >> 8)) : v; }
                case "int": case "int32": { var v = r!.ReadInt32(); return swap ? Swap32(v) : v; }
                case "uint": case "uint32": { var v = r!.ReadInt32(); return (uint)(swap ? Swap32(v) : v); }
                case "float": case "float32": { var v = r!.ReadInt32(); return BitConverter.Int32BitsToSingle(swap ? Swap32(v) : v); }
                default: { var v = r!.ReadInt64(); if (swap) v = Swap64(v); return BitConverter.Int64BitsToDouble(v); }
            }
        }

        private static int Swap32(int v) => (int)(((uint)v >> 24) | (((uint)v >> 8) & 0xFF00u) | (((uint)v << 8) & 0xFF0000u) | ((uint)v << 24));
        private static long Swap64(long v) => ((long)Swap32((int)v) << 32) | (uint)Swap32((int)(v >> 32));

        /// <summary>Whitespace-separated numbers of an ascii PLY body.</summary>
        private sealed class AsciiTokens
        {
            private readonly StreamReader _r;
            private readonly string _path;
            private string[] _tokens = Array.Empty<string>();
            private int _next;

            public AsciiTokens(Stream s, string path) { _r = new StreamReader(s, Encoding.ASCII, false, 1 << 16, leaveOpen: true); _path = path; }

            public double Next()
            {
                while (_next >= _tokens.Length)
                {
                    var line = _r.ReadLine();
                    if (line == null) throw new EndOfStreamException();
                    _tokens = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                    _next = 0;
                }
                var t = _tokens[_next++];
                if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new InvalidDataException($"'{_path}': '{t}' in the PLY body is not a number.");
                return v;
            }
        }
    }
}
