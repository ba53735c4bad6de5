using System;
using System.IO;
using System.Text.Json;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// An output folder that is complete or absent (EVALUATION.md): a command writes into a new hidden sibling folder
    /// (".NAME.partial-PID") and <see cref="Commit"/> moves it into place when everything is written; a failure, an
    /// exception or Ctrl-C disposes it uncommitted and the partial folder is deleted. The committed folder holds a
    /// marker file (<see cref="MarkerName"/>) naming the command that wrote it.
    /// Rules for the target: absent or an empty folder: written; a file: refused; a non-empty folder: refused unless
    /// <c>--overwrite</c>, and even then only when its marker says the same command wrote it (a folder of the user's, or
    /// a synthetic sequence's truth, is never replaced by a reconstruction).
    /// </summary>
    internal sealed class StagedOutput : IDisposable
    {
        /// <summary>The marker file in every folder `flowmap` wrote: {"tool": "flowmap", "command": .., "written_utc": ..}.</summary>
        public const string MarkerName = ".flowmap-output";

        private readonly string _command;
        private bool _committed;

        private StagedOutput(string target, string staging, string command)
        {
            Target = target;
            Path = staging;
            _command = command;
        }

        /// <summary>The folder to write into now (the staging folder).</summary>
        public string Path { get; }
        /// <summary>Where the folder lands on <see cref="Commit"/>.</summary>
        public string Target { get; }

        /// <summary>Checks the target and creates the staging folder; every refusal is a one-line <see cref="CliException"/>.</summary>
        /// <param name="target">The --out folder as given.</param>
        /// <param name="overwrite">--overwrite: replace a non-empty folder this command wrote before.</param>
        /// <param name="command">The subcommand ("reconstruct", "synth", ...), stored in the marker.</param>
        public static StagedOutput Begin(string target, bool overwrite, string command)
        {
            if (string.IsNullOrWhiteSpace(target)) throw new CliException("--out needs a folder name.");
            string full;
            try { full = System.IO.Path.GetFullPath(target.TrimEnd('/', '\\').Length == 0 ? target : target.TrimEnd('/', '\\')); }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
            {
                throw new CliException($"--out '{target}' is not a usable path: {e.Message}");
            }
            if (File.Exists(full)) throw new CliException($"--out '{target}' is a file; give a folder (it is created).");
            var parent = System.IO.Path.GetDirectoryName(full);
            if (parent == null) throw new CliException($"--out '{target}' is the file-system root; give a folder.");
            CheckReplaceable(full, target, overwrite, command);
            string staging = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}.partial-{Environment.ProcessId}");
            try
            {
                Directory.CreateDirectory(parent);
                if (Directory.Exists(staging)) Directory.Delete(staging, true); // a leftover of this process id (a killed run)
                Directory.CreateDirectory(staging);
                var probe = System.IO.Path.Combine(staging, MarkerName);
                File.WriteAllText(probe, "");                                // fails now, not after minutes of work
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException)
            {
                throw new CliException($"cannot write the output folder '{target}': {e.Message}", ExitCodes.Failed, e);
            }
            return new StagedOutput(full, staging, command);
        }

        private static void CheckReplaceable(string full, string given, bool overwrite, string command)
        {
            if (!Directory.Exists(full)) return;
            bool empty;
            try { using (var e = Directory.EnumerateFileSystemEntries(full).GetEnumerator()) empty = !e.MoveNext(); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CliException($"--out '{given}' cannot be read: {e.Message}", ExitCodes.Failed, e);
            }
            if (empty) return;
            string? writer = WrittenBy(full);
            if (!overwrite)
                throw new CliException($"--out '{given}' exists and is not empty; choose a new folder" +
                                       (writer == command ? $", or add --overwrite to replace this earlier `{command}` output." : "."));
            if (writer == null)
                throw new CliException($"--out '{given}' was not written by flowmap (no {MarkerName} marker): it is never replaced, even with --overwrite; choose a new folder.");
            if (writer != command)
                throw new CliException($"--out '{given}' holds a `{writer}` output, not a `{command}` one: --overwrite replaces only the same command's output; choose a new folder.");
        }

        /// <summary>The command named in DIR's marker, or null when DIR has no readable marker.</summary>
        public static string? WrittenBy(string dir)
        {
            var marker = System.IO.Path.Combine(dir, MarkerName);
            if (!File.Exists(marker)) return null;
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(marker));
                return doc.RootElement.TryGetProperty("tool", out var t) && t.GetString() == "flowmap" &&
                       doc.RootElement.TryGetProperty("command", out var c) ? c.GetString() : null;
            }
            catch (Exception e) when (e is JsonException || e is IOException || e is UnauthorizedAccessException || e is InvalidOperationException)
            {
                return null;
            }
        }

        /// <summary>Writes the marker and moves the finished folder into place (replacing an earlier output of the same command).</summary>
        public void Commit()
        {
            if (_committed) return;
            try
            {
                File.WriteAllText(System.IO.Path.Combine(Path, MarkerName), JsonSerializer.Serialize(new
                {
                    tool = "flowmap", command = _command, written_utc = DateTime.UtcNow.ToString("o"),
                }));
                string? old = null;
                if (Directory.Exists(Target))
                {
                    // Checked again: the folder may have changed while this run worked.
                    CheckReplaceable(Target, Target, overwrite: true, _command);
                    old = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Target)!, $".{System.IO.Path.GetFileName(Target)}.old-{Environment.ProcessId}");
                    if (Directory.Exists(old)) Directory.Delete(old, true);
                    Directory.Move(Target, old);
                }
                Directory.Move(Path, Target);
                _committed = true;
                if (old != null) Directory.Delete(old, true);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CliException($"cannot move the finished output into '{Target}': {e.Message}", ExitCodes.Failed, e);
            }
        }

        /// <summary>Deletes the staging folder unless committed.</summary>
        public void Dispose()
        {
            if (_committed) return;
            try { if (Directory.Exists(Path)) Directory.Delete(Path, true); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"flowmap: could not remove the unfinished '{Path}': {e.Message}");
            }
        }
    }
}
