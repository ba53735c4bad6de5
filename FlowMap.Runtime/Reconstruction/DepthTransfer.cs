using System;
using System.Collections.Generic;

namespace FlowMap.Reconstruction
{
    /// <summary>Depth of a frame that is not a keyframe, carried over from its keyframe along the flow; and scale alignment of depth maps.</summary>
    internal static class DepthTransfer
    {
        /// <summary>
        /// For every pixel u of the frame: follow the backward flow (frame -> keyframe) to the keyframe pixel p = u + b(u),
        /// lift it with the keyframe depth (bilinear, nearest across depth edges), move it into the frame camera and take
        /// its z (along the undistorted ray of p when <paramref name="k"/> has radial distortion). Confidence = backward flow confidence x keyframe confidence at p. Pixels whose match leaves the keyframe
        /// or lands behind the camera get the median depth with confidence 0.
        /// </summary>
        public static unsafe (FloatImage Depth, FloatImage Confidence) FromKeyframe(FlowField backward, FloatImage backwardConfidence,
            FloatImage keyDepth, FloatImage keyConfidence, Intrinsics k, CameraPose keyToFrame)
        {
            // Pointers, the pose and the pinhole's parameters held in locals, and the valid depths gathered in a list sized
            // once: the same arithmetic as k.Unproject and the indexers (the same floats): 8.8 -> 5.0 ms at 320x240 on a 2-core
            // machine, a live keyframe's tracking.
            int w = backward.Width, h = backward.Height;
            foreach (var im in new[] { backwardConfidence, keyDepth, keyConfidence })
                if (im.Width != w || im.Height != h) throw new ArgumentException($"Depth transfer needs every map at the flow's size {w}x{h}, got {im.Width}x{im.Height}.");
            var depth = new FloatImage(w, h); var conf = new FloatImage(w, h);
            var R = keyToFrame.Rotation; var t = keyToFrame.Translation;
            double r6 = R[6], r7 = R[7], r8 = R[8], t2 = t[2];
            bool pinhole = k.K1 == 0;
            double cx = k.Cx, cy = k.Cy, fx = k.Fx, fy = k.Fy;
            var valid = new bool[w * h];
            var vals = new List<float>(w * h);
            fixed (float* b = backward.Data, kd = keyDepth.Data, kcf = keyConfidence.Data, bc = backwardConfidence.Data, od = depth.Data, oc = conf.Data)
            {
                int kw = keyDepth.Width;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        int i = y * w + x;
                        double px = x + b[2 * i], py = y + b[2 * i + 1];
                        if (!(px >= 0 && py >= 0 && px <= w - 1 && py <= h - 1)) continue;
                        int x0 = Math.Min(w - 2, (int)px), y0 = Math.Min(h - 2, (int)py);
                        double ax = px - x0, ay = py - y0;
                        float* row0 = kd + y0 * kw, row1 = row0 + kw;
                        float d00 = row0[x0], d01 = row0[x0 + 1], d10 = row1[x0], d11 = row1[x0 + 1];
                        double lo = Math.Min(Math.Min(d00, d01), Math.Min(d10, d11)), hi = Math.Max(Math.Max(d00, d01), Math.Max(d10, d11));
                        double d;
                        if (!(lo > 0)) continue;
                        if (hi > 1.1 * lo)
                        {
                            int nx = ax < 0.5 ? x0 : x0 + 1, ny = ay < 0.5 ? y0 : y0 + 1;
                            d = kd[ny * kw + nx];
                        }
                        else d = (1 - ay) * ((1 - ax) * d00 + ax * d01) + ay * ((1 - ax) * d10 + ax * d11);
                        double X, Y, Z;
                        if (pinhole) { X = (px - cx) / fx * d; Y = (py - cy) / fy * d; Z = d; }
                        else (X, Y, Z) = k.Unproject(px, py, d);
                        double zf = r6 * X + r7 * Y + r8 * Z + t2;
                        if (!(zf > 1e-6 * d)) continue; // behind the frame, or p outside the distortion's domain (NaN)
                        od[i] = (float)zf;
                        float kc = kcf[(int)Math.Round(py) * kw + (int)Math.Round(px)];
                        oc[i] = Math.Max(0, Math.Min(1, bc[i] * kc));
                        valid[i] = true;
                        vals.Add(od[i]);
                    }
            }
            float fill = vals.Count > 0 ? Median(vals) : Median(new List<float>(keyDepth.Data));
            for (int i = 0; i < w * h; i++) if (!valid[i]) { depth.Data[i] = fill; conf.Data[i] = 0; }
            return (depth, conf);
        }

        /// <summary>
        /// Per pixel the depth of whichever of two transfers (the same frame from two keyframes) is more confident there
        /// (<paramref name="a"/> on a tie): a pixel that one keyframe does not see (occluded, or outside it) has no confidence
        /// from it, and the other keyframe may see it.
        /// </summary>
        public static (FloatImage Depth, FloatImage Confidence) MoreConfident((FloatImage Depth, FloatImage Confidence) a, (FloatImage Depth, FloatImage Confidence) b)
        {
            int w = a.Depth.Width, h = a.Depth.Height;
            if (b.Depth.Width != w || b.Depth.Height != h || a.Confidence.Width != w || a.Confidence.Height != h || b.Confidence.Width != w || b.Confidence.Height != h)
                throw new ArgumentException("Both transfers must have the frame's size.");
            var depth = new FloatImage(w, h); var conf = new FloatImage(w, h);
            for (int i = 0; i < w * h; i++)
            {
                bool takeB = b.Confidence.Data[i] > a.Confidence.Data[i];
                depth.Data[i] = takeB ? b.Depth.Data[i] : a.Depth.Data[i];
                conf.Data[i] = takeB ? b.Confidence.Data[i] : a.Confidence.Data[i];
            }
            return (depth, conf);
        }

        /// <summary>
        /// The factor s that best maps depth b onto depth a (a ~ s b): the median of a / b over pixels where both are
        /// valid and the confidence is at least 0.3 (all valid pixels when too few are confident); 1 when none.
        /// </summary>
        public static double ScaleRatio(FloatImage a, FloatImage b, FloatImage? confidence)
        {
            var r = new List<float>(a.Data.Length);
            for (int pass = 0; pass < 2 && r.Count < 50; pass++)
            {
                r.Clear();
                for (int i = 0; i < a.Data.Length; i++)
                {
                    float x = a.Data[i], y = b.Data[i];
                    if (!(x > 0) || !(y > 0) || float.IsInfinity(x) || float.IsInfinity(y)) continue;
                    if (pass == 0 && confidence != null && !(confidence.Data[i] >= 0.3f)) continue;
                    r.Add(x / y);
                }
            }
            return r.Count == 0 ? 1 : Median(r);
        }

        public static float Median(List<float> v)
        {
            if (v.Count == 0) return float.NaN;
            foreach (var x in v) if (float.IsNaN(x)) { v.Sort(); return v[v.Count / 2]; } // Sort's order for NaN
            return Select(v, v.Count / 2);
        }

        /// <summary>
        /// The k-th smallest element (0-based), the element a sort would put at k, in average linear time (Hoare's
        /// selection with a median-of-three pivot; the list is reordered). No NaN in <paramref name="v"/>.
        /// A live keyframe's depth carried along the flow spent a third of its 13 ms sorting 76,800 depths for this.
        /// </summary>
        internal static float Select(List<float> v, int k)
        {
            int lo = 0, hi = v.Count - 1;
            while (lo < hi)
            {
                int mid = lo + (hi - lo) / 2;
                // Median of three as the pivot value.
                float a = v[lo], b = v[mid], c = v[hi];
                float pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
                int i = lo, j = hi;
                while (i <= j)
                {
                    while (v[i] < pivot) i++;
                    while (v[j] > pivot) j--;
                    if (i <= j) { (v[i], v[j]) = (v[j], v[i]); i++; j--; }
                }
                // [lo, j] <= pivot, [i, hi] >= pivot, (j, i) == pivot.
                if (k <= j) hi = j;
                else if (k >= i) lo = i;
                else return v[k];
            }
            return v[k];
        }

        /// <summary>Median end-point length of a flow field over pixels with confidence at least 0.3 (all pixels if too few).</summary>
        public static double MedianFlow(FlowField f, FloatImage? confidence)
        {
            var m = new List<float>(f.Width * f.Height);
            for (int pass = 0; pass < 2 && m.Count < 50; pass++)
            {
                m.Clear();
                for (int i = 0; i < f.Width * f.Height; i++)
                {
                    if (pass == 0 && confidence != null && !(confidence.Data[i] >= 0.3f)) continue;
                    float u = f.Data[2 * i], v = f.Data[2 * i + 1];
                    m.Add((float)Math.Sqrt(u * u + v * v));
                }
            }
            return m.Count == 0 ? 0 : Median(m);
        }
    }
}
