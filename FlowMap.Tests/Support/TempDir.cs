using System;
using System.IO;

namespace FlowMap.Tests.Support
{
    /// <summary>A fresh temporary folder, deleted with everything in it on Dispose: <c>using var tmp = new TempDir();</c>.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir(string prefix = "flowmap-test-")
        {
            Path = Directory.CreateTempSubdirectory(prefix).FullName;
        }

        /// <summary>The folder's full path.</summary>
        public string Path { get; }

        /// <summary>A path inside the folder (parts joined; nothing is created).</summary>
        public string File(params string[] parts) => System.IO.Path.Combine(Path, System.IO.Path.Combine(parts));

        /// <summary>Creates (if needed) and returns a sub-folder.</summary>
        public string Sub(params string[] parts) => Directory.CreateDirectory(File(parts)).FullName;

        public override string ToString() => Path;

        public void Dispose()
        {
            try { if (Directory.Exists(Path)) Directory.Delete(Path, true); }
            catch (IOException) { /* a child process may still hold a file for a moment; the OS cleans temp */ }
            catch (UnauthorizedAccessException) { }
        }
    }
}
