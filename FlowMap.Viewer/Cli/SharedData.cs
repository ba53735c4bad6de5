using System;
using System.IO;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// Finds the shared ground-truth data the benchmarks use: $FLOWMAP_DATA, else a "shared/data" folder next to the
    /// repository (../shared/data from its root), searched upwards from the working folder and from the program.
    /// A user's clone usually has none; benchmarks then say so and use synthetic data.
    /// </summary>
    internal static class SharedData
    {
        public static string? Root()
        {
            if (Environment.GetEnvironmentVariable("FLOWMAP_DATA") is { Length: > 0 } env && Directory.Exists(env)) return env;
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
                for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                {
                    var candidate = Path.Combine(d.FullName, "shared", "data");
                    if (Directory.Exists(candidate)) return candidate;
                }
            return null;
        }

        /// <summary>The dataset folder (e.g. "icl_nuim_livingroom1"), or null when it is not on this machine.</summary>
        public static string? Find(string dataset)
        {
            var root = Root();
            if (root == null) return null;
            var p = Path.Combine(root, dataset);
            return Directory.Exists(p) ? p : null;
        }
    }
}
