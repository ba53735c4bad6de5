using System;

namespace FlowMap.Capture.Sessions
{
    /// <summary>What a recorded session came from.</summary>
    /// <param name="Source">The live source: a device path ("/dev/video0") or a file paced in real time.</param>
    /// <param name="Width">Frame width, pixels.</param>
    /// <param name="Height">Frame height, pixels.</param>
    /// <param name="Fps">Nominal frame rate of the source (0 when unknown).</param>
    /// <param name="CreatedUtc">When recording started, ISO 8601 UTC.</param>
    /// <param name="Codec">How frames are stored: "lz4-rgb8" (lossless).</param>
    /// <param name="LiveReconstruction">True when the live reconstruction ran while recording (results follow the frames),
    /// false for `record --no-reconstruct`, null in sessions written before this field existed.</param>
    internal sealed record SessionInfo(string Source, int Width, int Height, double Fps, string CreatedUtc, string Codec = "lz4-rgb8",
        bool? LiveReconstruction = null);

    /// <summary>A result recorded with a session as it was produced (the live run's pose and focal for a frame).</summary>
    /// <param name="FrameIndex">Index of the frame this result belongs to.</param>
    /// <param name="Json">The result as UTF-8 JSON (pose, focal, ...), stored verbatim.</param>
    internal sealed record SessionResult(int FrameIndex, string Json);
}
