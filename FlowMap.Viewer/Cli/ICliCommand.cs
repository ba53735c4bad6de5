using System;
using System.CommandLine;

namespace FlowMap.Viewer.Cli
{
    /// <summary>One `flowmap` subcommand. Implementations are discovered by reflection (see Program).</summary>
    public interface ICliCommand
    {
        /// <summary>Position in `flowmap --help` (lower first).</summary>
        int Order { get; }

        Command Build();
    }

    /// <summary>A user-facing failure: printed as "flowmap: message" with the exit code, no stack trace.</summary>
    public sealed class CliException : Exception
    {
        public CliException(string message, int exitCode = 2, Exception? inner = null) : base(message, inner) { ExitCode = exitCode; }
        public int ExitCode { get; }
    }
}
