using System;
using System.Collections.Generic;

namespace FlowMap.Synthetic
{
    /// <summary>
    /// An analytic indoor scene with exact geometry (boxes, vertical cylinders, spheres) and band-limited procedural
    /// textures. World coordinates in metres, x right, y down, z forward (the world y axis points down, like the
    /// camera's). Everything, including the furniture layout, textures and lights, is fixed by the name and the seed.
    /// </summary>
    internal sealed class SyntheticScene
    {
        private SyntheticScene(string name, int seed, SceneDescription description)
        {
            Name = name; Seed = seed; Description = description;
        }

        /// <summary>The built-in scenes: "room" (a furnished living room: table with thin legs, chair, shelf with books, cabinet, sofa, poles) and "boxes" (the same room shell with seeded clutter).</summary>
        public static IReadOnlyList<string> Names => SceneLibrary.Names;

        /// <summary>Builds a built-in scene. Unknown names throw <see cref="ArgumentException"/> listing the known ones.</summary>
        public static SyntheticScene Create(string name = "room", int seed = 0)
        {
            if (name == null) throw new ArgumentNullException(nameof(name));
            return new SyntheticScene(name, seed, SceneLibrary.Build(name, unchecked((ulong)(uint)seed)));
        }

        public string Name { get; }
        public int Seed { get; }
        /// <summary>Number of analytic primitives.</summary>
        public int PrimitiveCount => Description.Count;
        internal SceneDescription Description { get; }
    }
}
