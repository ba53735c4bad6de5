using System;
using System.Collections.Generic;

namespace FlowMap.Capture
{
    /// <summary>
    /// A stream of frames (image folder, video file, live camera, recorded session), read one at a time and never
    /// loaded whole into memory.
    /// </summary>
    internal interface IFrameSource : IDisposable
    {
        /// <summary>What is being read, for messages (e.g. "video clip.mp4 (640x480, 30 fps)").</summary>
        string Description { get; }
        /// <summary>Frames in the stream when known in advance, else null (live camera).</summary>
        int? FrameCount { get; }
        /// <summary>Nominal frame rate when known, else null.</summary>
        double? FramesPerSecond { get; }
        /// <summary>
        /// Reads the next frame; false at the end of the stream. A frame that cannot be read is skipped and reported in
        /// <see cref="Warnings"/>, or, where skipping would give a silently wrong stream, an <see cref="System.IO.InvalidDataException"/>
        /// names the file and frame.
        /// </summary>
        bool TryRead(out Frame frame);
        /// <summary>Skips and damage seen so far (e.g. "frame 12 (000012.png): truncated PNG, skipped").</summary>
        IReadOnlyList<string> Warnings { get; }
    }
}
