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
    /// The session is now created before the source is opened, as `bench live` and `view` do.
    /// </summary>
    public sealed class RecordStartedItsSessionAfterTheFirstFrame
    {
        [Fact]
        public void Record_creates_its_live_session_before_it_opens_the_source()
        {
            using var tmp = new TempDir();
            var events = new List<string>();
            var options = new SessionOptions { DropFrames = false };
            int code = RecordCommand.Run("synthetic", tmp.File("take.fmsession"), maxFrames: null, maxSeconds: null, reconstruct: true,
                durable: false, pace: true, json: true, options,
                openSource: (_, _) => { events.Add("open"); return new ListSource(events); },
                createSession: o => { events.Add("session"); return new ReconstructionSession(new IdentityProcessor(), queueCapacity: 4, dropFrames: o.DropFrames); });
            Assert.Equal(0, code);
            Assert.Equal(new[] { "session", "open", "read 0" }, events.GetRange(0, 3));
            Assert.Equal(ListSource.Frames + 1, events.FindAll(e => e.StartsWith("read", StringComparison.Ordinal)).Count); // the last read ends the stream
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
