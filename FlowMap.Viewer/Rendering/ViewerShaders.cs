using System;
using System.Collections.Generic;
using System.IO;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>The viewer's SPIR-V modules, compiled at build time from FlowMap.Shaders/viewer/ and embedded as "FlowMap.Shaders.NAME.spv".</summary>
    internal static class ViewerShaders
    {
        private static readonly Dictionary<string, byte[]> s_cache = new Dictionary<string, byte[]>();

        public static byte[] Load(string name)
        {
            lock (s_cache)
            {
                if (s_cache.TryGetValue(name, out var code)) return code;
                using var s = typeof(ViewerShaders).Assembly.GetManifestResourceStream("FlowMap.Shaders." + name + ".spv")
                    ?? throw new InvalidOperationException($"Viewer shader '{name}' is not embedded (is FlowMap.Shaders/viewer/{name} in the build?).");
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                return s_cache[name] = ms.ToArray();
            }
        }
    }
}
