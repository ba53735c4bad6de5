using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Export
{
    public sealed class TumTrajectoryTests
    {
        internal static CameraPose RandomPose(Random r, double scale = 3)
        {
            double qx = r.NextDouble() * 2 - 1, qy = r.NextDouble() * 2 - 1, qz = r.NextDouble() * 2 - 1, qw = r.NextDouble() * 2 - 1;
            return CameraPose.FromQuaternion(qx, qy, qz, qw, (r.NextDouble() * 2 - 1) * scale, (r.NextDouble() * 2 - 1) * scale, (r.NextDouble() * 2 - 1) * scale);
        }

        internal static void AssertPoseEqual(CameraPose a, CameraPose b, double tol, string what)
        {
            for (int i = 0; i < 3; i++)
            {
                Assert.True(Math.Abs(a.T(i) - b.T(i)) <= tol, $"{what}: t[{i}] {a.T(i)} vs {b.T(i)}");
                for (int j = 0; j < 3; j++)
                    Assert.True(Math.Abs(a.R(i, j) - b.R(i, j)) <= tol, $"{what}: R[{i},{j}] {a.R(i, j)} vs {b.R(i, j)}");
            }
        }

        [Fact]
        public void Poses_round_trip_with_index_stamps()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var poses = Enumerable.Range(0, 25).Select(_ => RandomPose(r)).ToList();
            poses[0] = CameraPose.Identity;
            var path = tmp.File("trajectory.txt");
            TumTrajectory.Write(path, poses);
            var lines = File.ReadAllLines(path);
            Assert.Equal(25, lines.Length);
            Assert.StartsWith("0 0 0 0 0 0 0 1", lines[0]);
            Assert.Equal(8, lines[7].Split(' ').Length);
            Assert.StartsWith("7 ", lines[7]);
            var back = TumTrajectory.Read(path);
            Assert.Equal(Enumerable.Range(0, 25).Select(i => (double)i), back.Select(e => e.Stamp));
            for (int i = 0; i < poses.Count; i++) AssertPoseEqual(poses[i], back[i].Pose, 1e-12, $"seed {seed} pose {i}");
        }

        [Fact]
        public void Timestamps_and_comments_are_read_and_bad_lines_name_file_and_line()
        {
            using var tmp = new TempDir();
            var path = tmp.File("tum.txt");
            File.WriteAllText(path, "# timestamp tx ty tz qx qy qz qw\n1305031102.175304 1.5 -2 0.25 0 0 0.7071068 0.7071068\n\n");
            var e = Assert.Single(TumTrajectory.Read(path));
            Assert.Equal(1305031102.175304, e.Stamp);
            Assert.Equal(1.5, e.Pose.T(0));
            Assert.Equal(90, e.Pose.RotationAngle() * 180 / Math.PI, 5);
            Assert.Equal(-1, e.Pose.R(0, 1), 6); // 90 degrees about z: x' = -y

            File.AppendAllText(path, "2 1 2 3 0 0 0\n");
            var ex = Assert.Throws<InvalidDataException>(() => TumTrajectory.Read(path));
            Assert.Contains("tum.txt", ex.Message);
            Assert.Contains("line 4", ex.Message);
        }
    }

    public sealed class IntrinsicsJsonTests
    {
        [Fact]
        public void Both_forms_round_trip_with_the_exact_keys()
        {
            using var tmp = new TempDir();
            var k = new Intrinsics(640, 480, 525.5, 524.25, 319.5, 239.5);
            var synth = tmp.File("synth.json");
            IntrinsicsJson.Write(synth, k);
            using (var doc = JsonDocument.Parse(File.ReadAllText(synth)))
                Assert.Equal(new[] { "width", "height", "fx", "fy", "cx", "cy", "k1" }, doc.RootElement.EnumerateObject().Select(p => p.Name));
            var d = IntrinsicsJson.Read(synth);
            Assert.Equal(k, d.Input);
            Assert.Null(d.Processing);

            var proc = k.Resized(320, 240);
            var rec = tmp.File("rec.json");
            IntrinsicsJson.Write(rec, k, proc);
            using (var doc = JsonDocument.Parse(File.ReadAllText(rec)))
            {
                Assert.Equal(new[] { "input", "processing" }, doc.RootElement.EnumerateObject().Select(p => p.Name));
                Assert.Equal(320, doc.RootElement.GetProperty("processing").GetProperty("width").GetInt32());
            }
            var d2 = IntrinsicsJson.Read(rec);
            Assert.Equal(k, d2.Input);
            Assert.Equal(proc, d2.Processing);
        }

        /// <summary>
        /// k1 (EVALUATION.md: SIMPLE_RADIAL, resolution-independent) is written in both forms, the same value in input and
        /// processing, and read back exactly; a file written before k1 existed reads as k1 = 0.
        /// </summary>
        [Fact]
        public void K1_is_written_in_input_and_processing_and_read_back()
        {
            using var tmp = new TempDir();
            var k = Intrinsics.Centered(640, 480, 525) with { K1 = -0.183 };
            var rec = tmp.File("rec.json");
            IntrinsicsJson.Write(rec, k, k.Resized(320, 240));
            using (var doc = JsonDocument.Parse(File.ReadAllText(rec)))
            {
                Assert.Equal(-0.183, doc.RootElement.GetProperty("input").GetProperty("k1").GetDouble());
                Assert.Equal(-0.183, doc.RootElement.GetProperty("processing").GetProperty("k1").GetDouble());
            }
            var d = IntrinsicsJson.Read(rec);
            Assert.Equal(k, d.Input);
            Assert.Equal(-0.183, d.Processing!.K1);
            var old = tmp.File("old.json");
            File.WriteAllText(old, "{\"width\": 64, \"height\": 48, \"fx\": 50, \"fy\": 50, \"cx\": 31.5, \"cy\": 23.5}");
            Assert.Equal(0, IntrinsicsJson.ReadInput(old).K1);
            File.WriteAllText(old, "{\"width\": 64, \"height\": 48, \"fx\": 50, \"fy\": 50, \"cx\": 31.5, \"cy\": 23.5, \"k1\": \"big\"}");
            Assert.Contains("\"k1\"", Assert.Throws<InvalidDataException>(() => IntrinsicsJson.Read(old)).Message);
        }

        [Fact]
        public void Missing_keys_and_bad_values_are_refused()
        {
            using var tmp = new TempDir();
            var p = tmp.File("k.json");
            File.WriteAllText(p, "{\"width\": 640, \"height\": 480, \"fx\": 500, \"cx\": 1, \"cy\": 2}");
            Assert.Contains("\"fy\"", Assert.Throws<InvalidDataException>(() => IntrinsicsJson.Read(p)).Message);
            File.WriteAllText(p, "{\"width\": 640, \"height\": 480, \"fx\": -500, \"fy\": 500, \"cx\": 1, \"cy\": 2}");
            Assert.Contains("positive", Assert.Throws<InvalidDataException>(() => IntrinsicsJson.Read(p)).Message);
            File.WriteAllText(p, "{\"width\": 640,");
            Assert.Contains("k.json", Assert.Throws<InvalidDataException>(() => IntrinsicsJson.Read(p)).Message);
        }
    }

    public sealed class ReportJsonTests
    {
        [Fact]
        public void Report_round_trips_with_every_contract_key_and_keeps_unknown_keys()
        {
            using var tmp = new TempDir();
            var rep = new ReconstructionReport
            {
                FramesIn = 211, FramesOut = 210, Mode = "offline", ProcessingSize = new[] { 320, 240 }, WallSeconds = 12.5, Fps = 16.8,
                StageMs = new Dictionary<string, double> { ["flow"] = 20.5, ["solve"] = 31 }, PeakMemoryMb = 812.25,
                Warnings = new List<string> { "frame 12 (000012.png): truncated PNG, skipped" }, FocalPx = 524.9,
            };
            var path = tmp.File("report.json");
            ReportJson.Write(path, rep);
            using (var doc = JsonDocument.Parse(File.ReadAllText(path)))
            {
                foreach (var key in new[] { "frames_in", "frames_out", "mode", "processing_size", "wall_s", "fps", "stage_ms", "peak_memory_mb", "warnings" })
                    Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
                Assert.Equal(240, doc.RootElement.GetProperty("processing_size")[1].GetInt32());
            }
            var back = ReportJson.Read(path);
            Assert.Equal(rep.FramesIn, back.FramesIn);
            Assert.Equal(rep.Mode, back.Mode);
            Assert.Equal(rep.ProcessingSize, back.ProcessingSize);
            Assert.Equal(rep.StageMs, back.StageMs);
            Assert.Equal(rep.Warnings, back.Warnings);
            Assert.Equal(rep.PeakMemoryMb, back.PeakMemoryMb);
            Assert.Equal(rep.FocalPx, back.FocalPx);

            var json = File.ReadAllText(path).TrimEnd().TrimEnd('}') + ", \"device\": \"llvmpipe\"}";
            File.WriteAllText(path, json);
            var withExtra = ReportJson.Read(path);
            Assert.Equal("llvmpipe", withExtra.Extra!["device"].GetString());
            ReportJson.Write(path, withExtra);
            Assert.Contains("\"device\": \"llvmpipe\"", File.ReadAllText(path));

            File.WriteAllText(path, "{\"frames_in\": 3}");
            Assert.Contains("frames_out", Assert.Throws<InvalidDataException>(() => ReportJson.Read(path)).Message);
        }
    }
}
