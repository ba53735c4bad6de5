namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// The `flowmap` exit codes, one per kind of failure (README "Exit codes"): scripts can tell a bad input from a
    /// missing device or a full disk without parsing the message.
    /// </summary>
    public static class ExitCodes
    {
        /// <summary>Finished.</summary>
        public const int Ok = 0;
        /// <summary>Usage or input: a bad option value, a missing, unreadable or unsuitable input, an output folder that is refused.</summary>
        public const int BadInput = 2;
        /// <summary>The machine lacks something: no Vulkan device, no display, an unusable model or tool.</summary>
        public const int Environment = 3;
        /// <summary>The run failed while processing or writing (disk full, permission, a failing reconstruction).</summary>
        public const int Failed = 4;
        /// <summary>A bug: an exception the command did not expect (the message names it; FLOWMAP_DEBUG=1 prints the stack).</summary>
        public const int Internal = 70;
        /// <summary>Interrupted by Ctrl-C (SIGINT) or SIGTERM; nothing complete-looking was left behind.</summary>
        public const int Interrupted = 130;
    }
}
