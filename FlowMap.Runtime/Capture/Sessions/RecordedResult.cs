using System;
using System.Globalization;
using System.Collections.Generic;
using System.Text.Json;
using FlowMap.Session;

namespace FlowMap.Capture.Sessions
{
    /// <summary>
    /// The per-frame result a live run stores in its session as it is produced, so a replay can be compared with it:
    /// JSON <c>{"frame": i, "t": seconds, "pose": [tx, ty, tz, qx, qy, qz, qw], "focal": px, "keyframe": bool,
    /// "latency_ms": ms}</c> (pose camera-to-world, OpenCV axes; focal at the processing size).
    /// </summary>
    internal sealed record RecordedResult(int FrameIndex, double TimestampSeconds, CameraPose Pose, double Focal, bool IsKeyframe, double LatencyMs)
    {
        public static RecordedResult From(FrameUpdate u) =>
            new RecordedResult(u.FrameIndex, u.TimestampSeconds, u.Pose, u.Intrinsics?.Fx ?? double.NaN, u.IsKeyframe, u.LatencySeconds * 1000);

        public SessionResult ToSessionResult()
        {
            var q = Pose.Quaternion;
            string F(double v) => double.IsNaN(v) ? "null" : v.ToString("R", CultureInfo.InvariantCulture);
            var json = $"{{\"frame\":{FrameIndex},\"t\":{F(TimestampSeconds)},\"pose\":[{F(Pose.T(0))},{F(Pose.T(1))},{F(Pose.T(2))}," +
                       $"{F(q.Qx)},{F(q.Qy)},{F(q.Qz)},{F(q.Qw)}],\"focal\":{F(Focal)},\"keyframe\":{(IsKeyframe ? "true" : "false")},\"latency_ms\":{F(LatencyMs)}}}";
            return new SessionResult(FrameIndex, json);
        }

        /// <summary>Parses a recorded result; throws <see cref="FormatException"/> naming the frame when it is malformed.</summary>
        public static RecordedResult Parse(SessionResult r)
        {
            try
            {
                using var doc = JsonDocument.Parse(r.Json);
                var e = doc.RootElement;
                var p = e.GetProperty("pose");
                if (p.GetArrayLength() != 7) throw new InvalidOperationException("pose needs 7 numbers");
                double G(JsonElement x) => x.ValueKind == JsonValueKind.Null ? double.NaN : x.GetDouble();
                var pose = CameraPose.FromQuaternion(G(p[3]), G(p[4]), G(p[5]), G(p[6]), G(p[0]), G(p[1]), G(p[2]));
                return new RecordedResult(e.GetProperty("frame").GetInt32(), G(e.GetProperty("t")), pose, G(e.GetProperty("focal")),
                    e.GetProperty("keyframe").GetBoolean(), G(e.GetProperty("latency_ms")));
            }
            catch (Exception ex) when (ex is JsonException || ex is KeyNotFoundException || ex is InvalidOperationException || ex is ArgumentException)
            {
                throw new FormatException($"Recorded result of frame {r.FrameIndex} is malformed: {ex.Message}", ex);
            }
        }
    }
}
