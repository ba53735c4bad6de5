using System;
using System.IO;
using System.Linq;
using FlowMap.Capture.Sessions;
using FlowMap.Export;
using Xunit;

namespace FlowMap.Tests.Support
{
    /// <summary>Bad inputs as a user makes them, and the checks every CLI failure must pass (FlowMap.Tests/Issues).</summary>
    public static class IssueInputs
    {
        /// <summary>A textured RGB image (smooth pattern shifted by <paramref name="shift"/> px), so flow has something to see.</summary>
        public static RgbImage Textured(int w, int h, int shift = 0)
        {
            var px = new byte[w * h * 3];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double u = x + shift;
                    int o = 3 * (y * w + x);
                    px[o] = (byte)(127 + 120 * Math.Sin(u * 0.31 + y * 0.17));
                    px[o + 1] = (byte)(127 + 120 * Math.Sin(u * 0.13 - y * 0.29));
                    px[o + 2] = (byte)(127 + 120 * Math.Cos(u * 0.07 + y * 0.11));
                }
            return new RgbImage(w, h, px);
        }

        /// <summary>Writes <paramref name="n"/> PNGs named by <paramref name="name"/>(i) into <paramref name="dir"/>.</summary>
        public static string Images(string dir, int n, int w, int h, Func<int, string>? name = null)
        {
            Directory.CreateDirectory(dir);
            for (int i = 0; i < n; i++) PngImage.WriteRgb(Path.Combine(dir, (name ?? (k => $"{k:D6}.png"))(i)), Textured(w, h, 2 * i));
            return dir;
        }

        /// <summary>A closed session of <paramref name="frames"/> frames (w x h), optionally with one result per frame.</summary>
        public static string Session(string path, int frames, int w, int h, bool results = false)
        {
            using var writer = new SessionWriter(path, new SessionInfo("test", w, h, 30, "2026-01-01T00:00:00Z", LiveReconstruction: results));
            for (int i = 0; i < frames; i++)
            {
                writer.WriteFrame(new Frame(i, i / 30.0, Textured(w, h, 2 * i), $"{i:D6}.png"));
                if (results) writer.WriteResult(new SessionResult(i, "{}"));
            }
            return path;
        }

        /// <summary>The CLI failed with one line "flowmap: ..." (no stack trace, no .NET type names) and the exit code of its kind.</summary>
        public static void OneLineError((int Code, string Stdout, string Stderr) r, int code, string? contains = null)
        {
            Assert.True(r.Code == code, $"exit {r.Code}, expected {code}; stderr: {r.Stderr}");
            var lines = r.Stderr.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("flowmap: ", StringComparison.Ordinal)).ToList();
            Assert.True(lines.Count >= 1, "no 'flowmap: ' error line in: " + r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
            Assert.DoesNotContain("Unhandled exception", r.Stderr);
            Assert.DoesNotContain("System.", r.Stderr);
            Assert.DoesNotContain("internal error", r.Stderr);
            if (contains != null) Assert.Contains(contains, r.Stderr);
        }

        /// <summary>Neither the folder nor a partial sibling of it exists (outputs are complete or absent).</summary>
        public static void NoOutput(string dir)
        {
            Assert.False(Directory.Exists(dir) || File.Exists(dir), $"'{dir}' exists");
            var parent = Path.GetDirectoryName(Path.GetFullPath(dir))!;
            if (Directory.Exists(parent))
                Assert.Empty(Directory.EnumerateDirectories(parent).Where(d => Path.GetFileName(d).StartsWith("." + Path.GetFileName(dir) + ".partial-", StringComparison.Ordinal)));
        }
    }
}
