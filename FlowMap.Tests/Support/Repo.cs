using System;
using System.IO;

namespace FlowMap.Tests.Support
{
    /// <summary>Locations relative to the repository: its root, and the shared ground-truth data next to it.</summary>
    public static class Repo
    {
        /// <summary>
        /// The repository root: the first folder above the test assembly that holds FlowMap.sln, or null.
        /// </summary>
        public static string? Root()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "FlowMap.sln"))) return dir.FullName;
            return null;
        }

        /// <summary>
        /// The shared ground-truth data folder (<c>../shared/data</c> seen from the repository root, i.e. holding
        /// icl_nuim_livingroom1/ and sintel/), found by walking up from the test assembly; null when absent.
        /// The environment variable FLOWMAP_SHARED_DATA overrides the search.
        /// </summary>
        public static string? SharedData()
        {
            var env = Environment.GetEnvironmentVariable("FLOWMAP_SHARED_DATA");
            if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            }
            return null;
        }

        /// <summary>A sub-folder of <see cref="SharedData"/> (e.g. "sintel"), or null when the data or that folder is absent.</summary>
        public static string? SharedData(string sub)
        {
            var root = SharedData();
            if (root == null) return null;
            var p = Path.Combine(root, sub);
            return Directory.Exists(p) ? p : null;
        }
    }
}
