using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace FlowMap.Capture
{
    /// <summary>
    /// Delivers another source's frames no earlier than their timestamps (relative to the first frame) on the wall clock:
    /// a recorded stream replayed at its recorded pace, as a stand-in for the live source it came from.
    /// </summary>
    internal sealed class PacedFrameSource : IFrameSource
    {
        private readonly IFrameSource _inner;
        private readonly Stopwatch _clock = new Stopwatch();
        private double? _first;

        public PacedFrameSource(IFrameSource inner) { _inner = inner ?? throw new ArgumentNullException(nameof(inner)); }

        public string Description => _inner.Description + ", real time";
        public int? FrameCount => _inner.FrameCount;
        public double? FramesPerSecond => _inner.FramesPerSecond;
        public IReadOnlyList<string> Warnings => _inner.Warnings;
        /// <summary>The source being paced.</summary>
        public IFrameSource Inner => _inner;

        public bool TryRead(out Frame frame)
        {
            if (!_inner.TryRead(out frame)) return false;
            if (_first == null) { _first = frame.TimestampSeconds; _clock.Start(); return true; }
            double wait = frame.TimestampSeconds - _first.Value - _clock.Elapsed.TotalSeconds;
            if (wait > 0) Thread.Sleep(TimeSpan.FromSeconds(Math.Min(wait, 60)));
            return true;
        }

        public void Dispose() => _inner.Dispose();
    }
}
