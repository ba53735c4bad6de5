using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowMap.Synthetic
{
    /// <summary>
    /// A bounding-volume hierarchy over a scene's primitives, built with the surface-area heuristic (MacDonald and
    /// Booth 1990; as explained in Pharr, Jakob, Humphreys, "Physically Based Rendering", 4.3), stored in depth-first
    /// order for a stackless walk with skip indices (Smits, "Efficiency issues for ray tracing", 1998). Node n is packed
    /// as 2 vec4: (lo.xyz, leaf), (hi.xyz, skip): leaf = 8 x first primitive + count (at most 7) of the reordered list,
    /// or -1 for an interior node; skip = the node after n's subtree. Boxes are padded by <see cref="Padding"/> so that
    /// culling never drops a primitive that the float (GPU) or double (reference) intersection would hit.
    /// </summary>
    internal static class SceneBvh
    {
        public const double Padding = 1e-3;
        public const int MaxLeaf = 3;
        public const int MaxDepth = 64;

        private struct Node { public double[] Lo, Hi; public int Leaf, Skip; }

        /// <summary>Builds the hierarchy; returns the primitives in leaf order and the packed nodes float[nodes, 8].</summary>
        public static (List<SyntheticPrimitive> Ordered, float[] Nodes, int NodeCount) Build(IReadOnlyList<SyntheticPrimitive> prims)
        {
            var boxes = prims.Select(Bounds).ToArray();
            var nodes = new List<Node>();
            var ordered = new List<SyntheticPrimitive>();
            Recurse(Enumerable.Range(0, prims.Count).ToList(), 0);

            int Recurse(List<int> items, int depth)
            {
                if (depth > MaxDepth) throw new InvalidOperationException("Scene hierarchy is too deep.");
                var (lo, hi) = Union(items.Select(i => boxes[i]));
                int self = nodes.Count;
                nodes.Add(default);
                var split = items.Count > MaxLeaf ? BestSplit(items) : null;
                if (split == null)
                {
                    nodes[self] = new Node { Lo = lo, Hi = hi, Leaf = 8 * ordered.Count + items.Count, Skip = self + 1 };
                    foreach (int i in items) ordered.Add(prims[i]);
                    return self;
                }
                // The child with the larger boxes first: walls and floors are hit early, and their distance then culls
                // whatever lies behind them.
                var (first, second) = (split.Value.Left, split.Value.Right);
                if (Area(Union(second.Select(i => boxes[i]))) > Area(Union(first.Select(i => boxes[i])))) (first, second) = (second, first);
                Recurse(first, depth + 1);
                Recurse(second, depth + 1);
                nodes[self] = new Node { Lo = lo, Hi = hi, Leaf = -1, Skip = nodes.Count };
                return self;
            }

            (List<int> Left, List<int> Right)? BestSplit(List<int> items)
            {
                double bestCost = double.PositiveInfinity;
                (List<int>, List<int>)? best = null;
                for (int axis = 0; axis < 3; axis++)
                {
                    var sorted = items.OrderBy(i => boxes[i].Lo[axis] + boxes[i].Hi[axis]).ThenBy(i => i).ToList();
                    for (int k = 1; k < sorted.Count; k++)
                    {
                        var l = sorted.Take(k).ToList();
                        var r = sorted.Skip(k).ToList();
                        double cost = Area(Union(l.Select(i => boxes[i]))) * l.Count + Area(Union(r.Select(i => boxes[i]))) * r.Count;
                        if (cost < bestCost) { bestCost = cost; best = (l, r); }
                    }
                }
                return best;
            }

            var packed = new float[nodes.Count * 8];
            for (int n = 0; n < nodes.Count; n++)
            {
                var nd = nodes[n];
                for (int c = 0; c < 3; c++) { packed[8 * n + c] = (float)nd.Lo[c]; packed[8 * n + 4 + c] = (float)nd.Hi[c]; }
                packed[8 * n + 3] = nd.Leaf;
                packed[8 * n + 7] = nd.Skip;
            }
            return (ordered, packed, nodes.Count);
        }

        private static double Area((double[] Lo, double[] Hi) b)
        {
            double x = b.Hi[0] - b.Lo[0], y = b.Hi[1] - b.Lo[1], z = b.Hi[2] - b.Lo[2];
            return 2 * (x * y + y * z + z * x);
        }

        private static (double[] Lo, double[] Hi) Union(IEnumerable<(double[] Lo, double[] Hi)> boxes)
        {
            var lo = new[] { double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity };
            var hi = new[] { double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity };
            foreach (var b in boxes)
                for (int c = 0; c < 3; c++) { lo[c] = Math.Min(lo[c], b.Lo[c]); hi[c] = Math.Max(hi[c], b.Hi[c]); }
            return (lo, hi);
        }

        /// <summary>Padded axis-aligned bounds of a primitive.</summary>
        internal static (double[] Lo, double[] Hi) Bounds(SyntheticPrimitive p)
        {
            var (ex, ey, ez) = p.Extents();
            return (new[] { p.Cx - ex - Padding, p.Cy - ey - Padding, p.Cz - ez - Padding },
                    new[] { p.Cx + ex + Padding, p.Cy + ey + Padding, p.Cz + ez + Padding });
        }
    }
}
