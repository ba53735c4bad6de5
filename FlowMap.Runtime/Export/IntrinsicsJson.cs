using System;
using System.IO;
using System.Text.Json;

namespace FlowMap.Export
{
    /// <summary>
    /// The intrinsics of a sequence: <see cref="Input"/> at the input resolution, and, for a reconstruction, the same camera
    /// at the processing resolution (<see cref="Processing"/>; null for a synthetic sequence's single camera).
    /// </summary>
    internal sealed record IntrinsicsDocument(Intrinsics Input, Intrinsics? Processing);

    /// <summary>
    /// <c>intrinsics.json</c> in its two forms (pixels; principal point in the pixel-centre convention, see <see cref="Intrinsics"/>):
    /// the synthetic-sequence form <c>{"width", "height", "fx", "fy", "cx", "cy", "k1"}</c> and the reconstruction form
    /// <c>{"input": {same keys}, "processing": {same keys}}</c>. <c>k1</c> is the radial distortion coefficient
    /// (<see cref="Intrinsics.K1"/>, COLMAP SIMPLE_RADIAL; resolution-independent, so input and processing carry the same
    /// value); always written, and read as 0 when a file has none (files written before it existed).
    /// </summary>
    internal static class IntrinsicsJson
    {
        /// <summary>Writes the single-camera form <c>{"width", "height", "fx", "fy", "cx", "cy", "k1"}</c>.</summary>
        public static void Write(string path, Intrinsics intrinsics)
        {
            Validate(intrinsics, nameof(intrinsics));
            WriteJson(path, w => WriteCamera(w, intrinsics));
        }

        /// <summary>Writes the reconstruction form <c>{"input": {...}, "processing": {...}}</c>.</summary>
        public static void Write(string path, Intrinsics input, Intrinsics processing)
        {
            Validate(input, nameof(input));
            Validate(processing, nameof(processing));
            WriteJson(path, w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("input"); WriteCamera(w, input);
                w.WritePropertyName("processing"); WriteCamera(w, processing);
                w.WriteEndObject();
            });
        }

        /// <summary>
        /// Reads either form. Throws InvalidDataException naming the file on a missing key (other than the optional "k1"),
        /// a value that is not a finite number, or a non-positive size or focal.
        /// </summary>
        public static IntrinsicsDocument Read(string path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
            JsonDocument doc;
            try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
            catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e); }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{path}': expected a JSON object.");
                if (root.TryGetProperty("input", out var input))
                {
                    var inCam = ReadCamera(input, path, "input");
                    Intrinsics? proc = root.TryGetProperty("processing", out var p) && p.ValueKind == JsonValueKind.Object
                        ? ReadCamera(p, path, "processing") : null;
                    return new IntrinsicsDocument(inCam, proc);
                }
                return new IntrinsicsDocument(ReadCamera(root, path, "root"), null);
            }
        }

        /// <summary>The camera at the input resolution, from either form.</summary>
        public static Intrinsics ReadInput(string path) => Read(path).Input;

        private static Intrinsics ReadCamera(JsonElement e, string path, string where)
        {
            if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{path}': \"{where}\" is not an object.");
            double Get(string key)
            {
                if (!e.TryGetProperty(key, out var v) || v.ValueKind != JsonValueKind.Number)
                    throw new InvalidDataException($"'{path}': {where} has no number \"{key}\".");
                double d = v.GetDouble();
                if (double.IsNaN(d) || double.IsInfinity(d)) throw new InvalidDataException($"'{path}': {where}.{key} is not finite.");
                return d;
            }
            double wd = Get("width"), hd = Get("height");
            if (wd < 1 || hd < 1 || wd != Math.Floor(wd) || hd != Math.Floor(hd) || wd > int.MaxValue || hd > int.MaxValue)
                throw new InvalidDataException($"'{path}': {where} size {wd}x{hd} is not a positive whole number of pixels.");
            double k1 = e.TryGetProperty("k1", out var k1Value) && k1Value.ValueKind != JsonValueKind.Null ? Get("k1") : 0;
            var k = new Intrinsics((int)wd, (int)hd, Get("fx"), Get("fy"), Get("cx"), Get("cy")) { K1 = k1 };
            if (!(k.Fx > 0) || !(k.Fy > 0)) throw new InvalidDataException($"'{path}': {where} focal ({k.Fx}, {k.Fy}) must be positive.");
            return k;
        }

        private static void WriteCamera(Utf8JsonWriter w, Intrinsics k)
        {
            w.WriteStartObject();
            w.WriteNumber("width", k.Width);
            w.WriteNumber("height", k.Height);
            w.WriteNumber("fx", k.Fx);
            w.WriteNumber("fy", k.Fy);
            w.WriteNumber("cx", k.Cx);
            w.WriteNumber("cy", k.Cy);
            w.WriteNumber("k1", k.K1);
            w.WriteEndObject();
        }

        private static void WriteJson(string path, Action<Utf8JsonWriter> body)
        {
            BinaryIo.WriteAtomically(path, s =>
            {
                using (var w = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true })) body(w);
                s.WriteByte((byte)'\n');
            });
        }

        private static void Validate(Intrinsics k, string name)
        {
            if (k == null) throw new ArgumentNullException(name);
            if (k.Width < 1 || k.Height < 1) throw new ArgumentException($"Intrinsics size {k.Width}x{k.Height} is empty.", name);
            foreach (var v in new[] { k.Fx, k.Fy, k.Cx, k.Cy })
                if (double.IsNaN(v) || double.IsInfinity(v)) throw new ArgumentException("Intrinsics must be finite.", name);
            if (!(k.Fx > 0) || !(k.Fy > 0)) throw new ArgumentException($"Focal ({k.Fx}, {k.Fy}) must be positive.", name);
        }
    }
}
