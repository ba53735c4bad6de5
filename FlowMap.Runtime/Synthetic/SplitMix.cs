using System;

namespace FlowMap.Synthetic
{
    /// <summary>
    /// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose sequence is fixed by its seed on every runtime,
    /// so a synthetic sequence is the same wherever it is generated.
    /// </summary>
    internal sealed class SplitMix
    {
        private ulong _state;

        public SplitMix(ulong seed, ulong stream = 0) { _state = seed ^ (stream * 0xD1B54A32D192ED03UL); }

        public ulong Next()
        {
            unchecked
            {
                ulong z = _state += 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }

        /// <summary>Uniform in [0, 1).</summary>
        public double NextDouble() => (Next() >> 11) * (1.0 / 9007199254740992.0);

        public double Range(double lo, double hi) => lo + (hi - lo) * NextDouble();

        public int Int(int lo, int hiExclusive) => lo + (int)(NextDouble() * (hiExclusive - lo));

        public uint TextureSeed() => (uint)(Next() & 0xFFFFFFu);
    }
}
