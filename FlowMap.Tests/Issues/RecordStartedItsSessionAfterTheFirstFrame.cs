using System;
using System.Collections.Generic;
using System.Threading;
using FlowMap.Capture;
using FlowMap.Viewer.Cli;
using FlowMap.Core;
using FlowMap.Session;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found closing issue 12's first-run work: `flowmap record` created its live session when the first frame had been
    /// read. Creating a session builds and dispatches its kernels once (0.5 s with the driver's cache warm, 2.3 s on a
    /// machine's first run on lavapipe), and a real-time source is paced from its first read, so the frames due meanwhile
    /// came at once when the session started and it dropped them (all were recorded; the live reconstruction lost them).
    /// The session is now created before the first frame is read: a file, folder or session is opened first (it is paced from
    /// its first read, and a bad one is reported at once), a camera (which captures from its opening) after the session.
    /// </summary>
    public sealed class RecordStartedItsSessionAfterTheFirstFrame
    {
        [Theory]
        [InlineData("take.mkv", new[] { "open", "session", "read 0" })] // paced from its first read: opened first, a bad one reported at once
        [InlineData("camera:7", new[] { "session", "open", "read 0" })] // captures from its opening: opened once the session is up
        public void Record_creates_its_live_session_before_it_reads_the_first_frame(string input, string[] order)
        {
            using var tmp = new TempDir();
            var events = new List<string>();
            var options = new SessionOptions { DropFrames = false };
            int code = RecordCommand.Run(input, tmp.File("take.fmsession"), maxFrames: null, maxSeconds: null, reconstruct: true,
                durable: false, pace: true, json: true, options,
                openSource: (_, _) => { events.Add("open"); return new ListSource(events); },
                createSession: o => { events.Add("session"); return new ReconstructionSession(new IdentityProcessor(), queueCapacity: 4, dropFrames: o.DropFrames); });
            Assert.Equal(0, code);
            Assert.Equal(order, events.GetRange(0, 3));
            Assert.Equal(ListSource.Frames + 1, events.FindAll(e => e.StartsWith("read", StringComparison.Ordinal)).Count); // the last read ends the stream
        }

        [Fact]
        public void A_missing_file_is_reported_before_a_session_is_started()
        {
            using var tmp = new TempDir();
            int sessions = 0;
            var e = Assert.Throws<CliException>(() => RecordCommand.Run(tmp.File("missing.mp4"), tmp.File("take.fmsession"), null, null, reconstruct: true,
                durable: false, pace: true, json: true, new SessionOptions(), FrameSources.Open,
                _ => { sessions++; throw new InvalidOperationException("no session in this test"); }));
            Assert.Equal(2, e.ExitCode);
            Assert.Contains("missing.mp4", e.Message);
            Assert.Equal(0, sessions);
        }

        /// <summary>Poses every frame at the identity (the session's machinery without a device).</summary>
        private sealed class IdentityProcessor : IFrameProcessor
        {
            public FrameUpdate Process(Frame frame, CancellationToken token) =>
                new FrameUpdate { FrameIndex = frame.Index, TimestampSeconds = frame.TimestampSeconds, Pose = CameraPose.Identity };

            public void Dispose() { }
        }

        /// <summary>A few frames of a textured synthetic image, each read noted in the shared event list.</summary>
        private sealed class ListSource : IFrameSource
        {
            public const int Frames = 4;
            private readonly List<string> _events;
            private int _next;

            public ListSource(List<string> events) { _events = events; }

            public string Description => "a test source";
            public int? FrameCount => Frames;
            public double? FramesPerSecond => 30;
            public IReadOnlyList<string> Warnings => Array.Empty<string>();

            public bool TryRead(out Frame frame)
            {
                _events.Add("read " + _next);
                frame = null!;
                if (_next >= Frames) return false;
                var px = new byte[64 * 48 * 3];
                for (int i = 0; i < px.Length; i++) px[i] = (byte)((i * 37 + _next * 11) % 251);
                frame = new Frame(_next, _next / 30.0, new RgbImage(64, 48, px), $"{_next:D6}.png");
                _next++;
                return true;
            }

            public void Dispose() { }
        }
    }
}
