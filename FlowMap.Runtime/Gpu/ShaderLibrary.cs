using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace FlowMap.Gpu
{
    /// <summary>The SPIR-V modules embedded at build time from FlowMap.Shaders (resource "FlowMap.Shaders.NAME.spv").</summary>
    internal static class ShaderLibrary
    {
        private const string Prefix = "FlowMap.Shaders.";
        private static readonly Dictionary<string, byte[]> s_cache = new Dictionary<string, byte[]>();

        /// <summary>Shader names such as "luminance.comp".</summary>
        public static IReadOnlyList<string> Names =>
            typeof(ShaderLibrary).Assembly.GetManifestResourceNames()
                .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".spv", StringComparison.Ordinal))
                .Select(n => n.Substring(Prefix.Length, n.Length - Prefix.Length - 4))
                .OrderBy(n => n, StringComparer.Ordinal).ToList();

        public static byte[] Load(string name)
        {
            lock (s_cache)
            {
                if (s_cache.TryGetValue(name, out var code)) return code;
                using var s = typeof(ShaderLibrary).Assembly.GetManifestResourceStream(Prefix + name + ".spv")
                    ?? throw new InvalidOperationException($"Shader '{name}' is not embedded in FlowMap.Runtime (known: {string.Join(", ", Names)}).");
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                code = ms.ToArray();
                s_cache[name] = code;
                return code;
            }
        }

        public static SpirvReflection Reflect(string name) => new SpirvReflection(Load(name));
    }
}
