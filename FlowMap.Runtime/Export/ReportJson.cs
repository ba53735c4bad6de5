using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlowMap.Export
{
    /// <summary>
    /// <c>report.json</c> of a reconstruction (see EVALUATION.md): frame counts, mode, processing size, wall time, frame rate,
    /// median per-frame time of each stage, peak memory and warnings. Keys are snake_case; keys this record does not know
    /// are kept in <see cref="Extra"/> and written back.
    /// </summary>
    internal sealed record ReconstructionReport
    {
        /// <summary>Frames read from the input.</summary>
        [JsonPropertyName("frames_in")] public int FramesIn { get; init; }
        /// <summary>Frames with a pose in the output.</summary>
        [JsonPropertyName("frames_out")] public int FramesOut { get; init; }
        /// <summary>"online" or "offline".</summary>
        [JsonPropertyName("mode")] public string Mode { get; init; } = "online";
        /// <summary>[width, height] in pixels of the processing resolution.</summary>
        [JsonPropertyName("processing_size")] public int[] ProcessingSize { get; init; } = new int[2];
        /// <summary>Wall time of the whole run, seconds.</summary>
        [JsonPropertyName("wall_s")] public double WallSeconds { get; init; }
        /// <summary>Frames out per second of wall time.</summary>
        [JsonPropertyName("fps")] public double Fps { get; init; }
        /// <summary>Median milliseconds per frame of each stage (stage name to ms).</summary>
        [JsonPropertyName("stage_ms")] public Dictionary<string, double> StageMs { get; init; } = new Dictionary<string, double>();
        /// <summary>Peak process memory (working set), MB.</summary>
        [JsonPropertyName("peak_memory_mb")] public double PeakMemoryMb { get; init; }
        /// <summary>Human-readable warnings: low parallax, dropped frames, skipped input, ...</summary>
        [JsonPropertyName("warnings")] public List<string> Warnings { get; init; } = new List<string>();
        /// <summary>Estimated focal length in pixels at the input resolution, when known.</summary>
        [JsonPropertyName("focal_px")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? FocalPx { get; init; }
        /// <summary>
        /// How well the data determine the focal: its relative standard deviation (0.01 = 1 %); null when the focal was given
        /// or could not be estimated. Always written (EVALUATION.md).
        /// </summary>
        [JsonPropertyName("focal_rel_std")] public double? FocalRelStd { get; init; }
        /// <summary>Further keys, written as they are.</summary>
        [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }
    }

    /// <summary>Reads and writes <see cref="ReconstructionReport"/> as indented JSON.</summary>
    internal static class ReportJson
    {
        private static readonly JsonSerializerOptions Options = new JsonSerializerOptions
        {
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };

        public static void Write(string path, ReconstructionReport report)
        {
            if (report == null) throw new ArgumentNullException(nameof(report));
            if (report.ProcessingSize == null || report.ProcessingSize.Length != 2)
                throw new ArgumentException("processing_size must be [width, height].", nameof(report));
            var bytes = JsonSerializer.SerializeToUtf8Bytes(report, Options);
            BinaryIo.WriteAtomically(path, s => { s.Write(bytes, 0, bytes.Length); s.WriteByte((byte)'\n'); });
        }

        /// <summary>Reads a report; throws InvalidDataException naming the file when it is not valid JSON or lacks a required key.</summary>
        public static ReconstructionReport Read(string path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
            var bytes = File.ReadAllBytes(path);
            try
            {
                using (var doc = JsonDocument.Parse(bytes))
                {
                    foreach (var key in new[] { "frames_in", "frames_out", "mode", "processing_size", "wall_s", "fps", "stage_ms", "peak_memory_mb", "warnings" })
                        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(key, out _))
                            throw new InvalidDataException($"'{path}' lacks the report key \"{key}\".");
                }
                return JsonSerializer.Deserialize<ReconstructionReport>(bytes, Options)
                       ?? throw new InvalidDataException($"'{path}' holds no report.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{path}' is not a valid report: {e.Message}", e);
            }
        }
    }
}
