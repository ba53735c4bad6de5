using System;
using System.Threading;
using System.Collections.Generic;

namespace FlowMap.Fusion
{
    /// <summary>Settings of <see cref="PointCloudFusion"/>.</summary>
    internal sealed class FusionOptions
    {
        /// <summary>Voxel edge in scene units, or null to take <see cref="RelativeVoxelSize"/> x the median depth of the first fused frame.</summary>
        public double? VoxelSize { get; set; }
        /// <summary>Voxel edge as a fraction of the first frame's median depth (used when <see cref="VoxelSize"/> is null).</summary>
        public double RelativeVoxelSize { get; set; } = 0.01;
        /// <summary>
        /// Upper bound on stored voxels (memory: about 40 bytes each plus the hash entry). When it is passed, the voxel
        /// edge doubles and all voxels are merged into the coarser grid, so memory stays bounded on any sequence length.
        /// </summary>
        public int MaxVoxels { get; set; } = 1_000_000;
        /// <summary>Pixels with confidence below this are not fused.</summary>
        public float MinConfidence { get; set; } = 0.3f;
        /// <summary>
        /// Pixels whose depth differs from a 4-neighbour by more than this fraction are skipped (the "flying pixels" on
        /// depth edges, which lie between foreground and background).
        /// </summary>
        public double MaxRelativeDepthJump { get; set; } = 0.08;
        /// <summary>Use every n-th pixel in x and y.</summary>
        public int PixelStride { get; set; } = 1;
    }

    /// <summary>
    /// Fuses keyframe depth maps into one global coloured point cloud: each pixel is back-projected with the keyframe's
    /// intrinsics and camera-to-world pose and accumulated into a voxel hash grid, where a voxel keeps the
    /// confidence-weighted mean of the positions and colours that fell into it and the summed confidence.
    /// Deterministic: voxels are kept in first-seen order. Memory is bounded by <see cref="FusionOptions.MaxVoxels"/>.
    /// </summary>
    internal sealed class PointCloudFusion
    {
        private readonly FusionOptions _o;
        private Dictionary<long, int> _index = new Dictionary<long, int>();
        // Per voxel: weight, weighted x, y, z, r, g, b (double for exact, order-independent-enough accumulation).
        private double[] _acc = new double[7 * 1024];
        private int _count;

        public PointCloudFusion(FusionOptions? options = null)
        {
            _o = options ?? new FusionOptions();
            if (_o.VoxelSize.HasValue && !(_o.VoxelSize.Value > 0)) throw new ArgumentException("Voxel size must be positive.");
            if (!(_o.RelativeVoxelSize > 0)) throw new ArgumentException("Relative voxel size must be positive.");
            if (_o.MaxVoxels < 1) throw new ArgumentException("MaxVoxels must be at least 1.");
            if (_o.PixelStride < 1) throw new ArgumentException("PixelStride must be at least 1.");
            VoxelSize = _o.VoxelSize ?? 0;
            UpdateBytes();
        }

        /// <summary>Current voxel edge in scene units (0 until the first frame when it is relative).</summary>
        public double VoxelSize { get; private set; }

        /// <summary>Voxels (= output points) so far.</summary>
        public int Count => _count;

        /// <summary>Frames fused so far.</summary>
        public int Frames { get; private set; }

        /// <summary>
        /// Back-projects one keyframe and fuses it. Returns this frame's accepted points (world coordinates, colour,
        /// confidence) for streaming displays.
        /// </summary>
        /// <param name="depth">z-depth, W x H, scene units; non-positive or non-finite pixels are skipped.</param>
        /// <param name="confidence">Per pixel in [0, 1], W x H.</param>
        /// <param name="image">Colours, W x H.</param>
        /// <param name="intrinsics">Camera at W x H (with its radial distortion: pixels are lifted along undistorted rays).</param>
        /// <param name="cameraToWorld">Pose of the keyframe.</param>
        public PointCloud Integrate(FloatImage depth, FloatImage confidence, RgbImage image, Intrinsics intrinsics, CameraPose cameraToWorld)
        {
            if (depth == null || confidence == null || image == null || intrinsics == null) throw new ArgumentNullException(depth == null ? nameof(depth) : confidence == null ? nameof(confidence) : image == null ? nameof(image) : nameof(intrinsics));
            int w = depth.Width, h = depth.Height;
            if (confidence.Width != w || confidence.Height != h || image.Width != w || image.Height != h || intrinsics.Width != w || intrinsics.Height != h)
                throw new ArgumentException($"Depth ({w}x{h}), confidence ({confidence.Width}x{confidence.Height}), image ({image.Width}x{image.Height}) and intrinsics ({intrinsics.Width}x{intrinsics.Height}) must have one size.");

            if (VoxelSize <= 0)
            {
                double med = MedianPositive(depth.Data);
                if (!(med > 0)) return PointCloud.Empty; // nothing usable yet; the size is set by the first frame with depth
                VoxelSize = _o.RelativeVoxelSize * med;
            }

            var pos = new List<float>();
            var col = new List<byte>();
            var conf = new List<float>();
            int s = _o.PixelStride;
            double jump = _o.MaxRelativeDepthJump;
            for (int y = 0; y < h; y += s)
                for (int x = 0; x < w; x += s)
                {
                    float d = depth[x, y], c = confidence[x, y];
                    if (!(d > 0) || float.IsInfinity(d) || !(c >= _o.MinConfidence)) continue;
                    if (IsEdge(depth, x, y, d, jump)) continue;
                    var (cx, cy, cz) = intrinsics.Unproject(x, y, d); // along the undistorted ray (radial distortion K1)
                    if (double.IsNaN(cx) || double.IsNaN(cy)) continue; // outside the distortion's domain
                    var (wx, wy, wz) = cameraToWorld.Transform(cx, cy, cz);
                    int o = 3 * (y * w + x);
                    byte r = image.Pixels[o], g = image.Pixels[o + 1], b = image.Pixels[o + 2];
                    Add(wx, wy, wz, r, g, b, c);
                    pos.Add((float)wx); pos.Add((float)wy); pos.Add((float)wz);
                    col.Add(r); col.Add(g); col.Add(b);
                    conf.Add(Math.Min(1f, c));
                }
            Frames++;
            UpdateBytes();
            return new PointCloud(pos.ToArray(), col.ToArray(), conf.ToArray());
        }

        private static bool IsEdge(FloatImage depth, int x, int y, float d, double jump)
        {
            int w = depth.Width, h = depth.Height;
            double lim = jump * d;
            if (x > 0 && Math.Abs(depth[x - 1, y] - d) > lim) return true;
            if (x < w - 1 && Math.Abs(depth[x + 1, y] - d) > lim) return true;
            if (y > 0 && Math.Abs(depth[x, y - 1] - d) > lim) return true;
            if (y < h - 1 && Math.Abs(depth[x, y + 1] - d) > lim) return true;
            return false;
        }

        private void Add(double x, double y, double z, byte r, byte g, byte b, double weight)
        {
            long key = Key(x, y, z, VoxelSize);
            if (!_index.TryGetValue(key, out int i))
            {
                if (_count >= _o.MaxVoxels)
                {
                    Coarsen();
                    key = Key(x, y, z, VoxelSize);
                    if (_index.TryGetValue(key, out i)) { Accumulate(i, x, y, z, r, g, b, weight); return; }
                }
                i = _count++;
                if (7 * _count > _acc.Length) Array.Resize(ref _acc, 7 * RoomFor(_count));
                Array.Clear(_acc, 7 * i, 7);
                _index[key] = i;
            }
            Accumulate(i, x, y, z, r, g, b, weight);
        }

        private void Accumulate(int i, double x, double y, double z, double r, double g, double b, double w)
        {
            int o = 7 * i;
            _acc[o] += w; _acc[o + 1] += w * x; _acc[o + 2] += w * y; _acc[o + 3] += w * z;
            _acc[o + 4] += w * r; _acc[o + 5] += w * g; _acc[o + 6] += w * b;
        }

        /// <summary>
        /// Bytes held by the map: its accumulators' array and its index's entries and buckets, at their lengths (what the
        /// memory grows with; object headers aside). Updated after each frame and merge; read from any thread.
        /// </summary>
        public long Bytes => Interlocked.Read(ref _bytes);
        private long _bytes;

        /// <summary>An entry of the Dictionary&lt;long, int&gt; index (hash, next, key, value: 24 bytes aligned) and its bucket (4).</summary>
        internal const int IndexEntryBytes = 28;

        private void UpdateBytes() =>
            Interlocked.Exchange(ref _bytes, (long)_acc.Length * sizeof(double) + (long)_index.EnsureCapacity(0) * IndexEntryBytes);

        /// <summary>Voxels the accumulators have room for (memory, for tests).</summary>
        internal int Capacity => _acc.Length / 7;

        /// <summary>
        /// Doubles the voxel edge and merges voxels (in first-seen order) until under the bound. The merged map keeps the room
        /// that growing to its new size would have given it (a power of two), not the old map's: a session's map cycles up to
        /// the bound and back, and the largest array would otherwise stay for the rest of it
        /// (Issues/CoarsenedMapKeptItsLargestArray).
        /// </summary>
        private void Coarsen()
        {
            do
            {
                VoxelSize *= 2;
                var old = _acc; int n = _count;
                _index = new Dictionary<long, int>();
                _acc = new double[7 * RoomFor(n)]; // merging never adds voxels
                _count = 0;
                for (int j = 0; j < n; j++)
                {
                    int o = 7 * j;
                    double wgt = old[o];
                    long key = Key(old[o + 1] / wgt, old[o + 2] / wgt, old[o + 3] / wgt, VoxelSize);
                    if (!_index.TryGetValue(key, out int i)) { i = _count++; _index[key] = i; }
                    for (int k = 0; k < 7; k++) _acc[7 * i + k] += old[o + k];
                }
            } while (_count >= _o.MaxVoxels);
            if (RoomFor(_count) < _acc.Length / 7) Array.Resize(ref _acc, 7 * RoomFor(_count));
        }

        /// <summary>The accumulators' room for n voxels: 1024 doubled until it holds them (what growing one at a time reaches).</summary>
        private static int RoomFor(int n)
        {
            int room = 1024;
            while (room < n && room <= int.MaxValue / 14) room *= 2;
            return Math.Max(room, n);
        }

        private static long Key(double x, double y, double z, double size)
        {
            // 21 bits per axis (two's complement), wrapping far outside +-1M voxels (hash collisions there merge voxels).
            long ix = (long)Math.Floor(x / size) & 0x1FFFFF, iy = (long)Math.Floor(y / size) & 0x1FFFFF, iz = (long)Math.Floor(z / size) & 0x1FFFFF;
            return ix | (iy << 21) | (iz << 42);
        }

        /// <summary>The fused cloud: one point per voxel (weighted mean position and colour; confidence = 1 - exp(-summed confidence)).</summary>
        public PointCloud ToPointCloud()
        {
            var pos = new float[3 * _count];
            var col = new byte[3 * _count];
            var conf = new float[_count];
            for (int i = 0; i < _count; i++)
            {
                int o = 7 * i;
                double w = _acc[o];
                for (int k = 0; k < 3; k++)
                {
                    pos[3 * i + k] = (float)(_acc[o + 1 + k] / w);
                    col[3 * i + k] = (byte)Math.Max(0, Math.Min(255, Math.Round(_acc[o + 4 + k] / w)));
                }
                conf[i] = (float)(1 - Math.Exp(-w));
            }
            return new PointCloud(pos, col, conf);
        }

        private static double MedianPositive(float[] data)
        {
            var v = new List<float>(data.Length);
            foreach (var d in data) if (d > 0 && !float.IsInfinity(d)) v.Add(d);
            if (v.Count == 0) return 0;
            v.Sort();
            return v[v.Count / 2];
        }
    }
}
