using System;
using System.Linq;
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
        /// Upper bound on stored voxels (memory: 36 bytes each and 5-11 bytes of index). When it is passed, the voxel
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
        /// <summary>
        /// Fused frames that must put points in a voxel's cell (<see cref="ConfirmCell"/>) to confirm it (kept for good, and
        /// in <see cref="PointCloudFusion.ToPointCloud"/>); 1 keeps every voxel. Measured (README, "A map that keeps what two
        /// keyframes confirm"): counted per voxel (1 % of the depth) 2 kept 5,947 of the phone video's 405,340 points
        /// online, where one keyframe's depth and the next disagree by more than a voxel; counted per cell of 4 voxels a
        /// side it keeps the surfaces two keyframes agree on within the depth's noise.
        /// </summary>
        public int MinViews { get; set; } = 2;
        /// <summary>
        /// An unconfirmed cell (<see cref="ConfirmCell"/>) that none of the last this many fused frames added to is removed
        /// with its voxels (checked every this many frames): points one view put there and the views after it did not
        /// confirm are outliers of that view's depth.
        /// </summary>
        public int UnconfirmedFrames { get; set; } = 8;
        /// <summary>
        /// Views are counted per cell of this many voxels a side (1: per voxel): a voxel is confirmed when its cell is. Depth
        /// a few voxels noisy puts two views' points of one surface in neighbouring voxels, rarely in the same one.
        /// </summary>
        public int ConfirmCell { get; set; } = 4;
    }

    /// <summary>
    /// Fuses keyframe depth maps into one global coloured point cloud: each pixel is back-projected with the keyframe's
    /// intrinsics and camera-to-world pose and accumulated into a voxel hash grid, where a voxel keeps the
    /// confidence-weighted mean of the positions and colours that fell into it and the summed confidence.
    /// Deterministic: voxels are kept in first-seen order. Memory is bounded by <see cref="FusionOptions.MaxVoxels"/>.
    /// With <see cref="FusionOptions.MinViews"/> above 1 (the default: 2; 1 keeps every voxel) a voxel is confirmed once
    /// that many fused frames put points in its cell of <see cref="FusionOptions.ConfirmCell"/>^3 voxels; a cell left
    /// unconfirmed for <see cref="FusionOptions.UnconfirmedFrames"/> fused frames is removed with its voxels, as
    /// point-based fusion removes points
    /// that stay unstable (Keller et al. 2013, "Real-time 3D reconstruction in dynamic scenes using point-based fusion";
    /// ElasticFusion's unstable surfels, Whelan et al. 2015). Depth a few voxels noisy scatters each view's points over a
    /// shell around the surface, and most of them land where no other view does: on the synthetic clip of
    /// `bench live`'s memory run 40-52 % of the voxels had less summed confidence than one fully confident pixel, and the map
    /// grew by ~6,000 voxels a keyframe while the camera went back and forth over the same room, reaching the bound (and
    /// a grid twice as coarse) after ~150 keyframes.
    /// </summary>
    /// <remarks>
    /// Memory per voxel (<see cref="VoxelBytes"/>, 36 bytes): the summed confidence and the running means (floats) and the
    /// voxel's key (with <see cref="FusionOptions.MinViews"/> above 1 also a confirmation cell per
    /// <see cref="FusionOptions.ConfirmCell"/>^3 voxels, <see cref="CellBytes"/> each), in blocks of <see cref="BlockVoxels"/> voxels, so the map grows by one block at a time and never copies
    /// itself; and an open-addressing index of 4-byte slots at most three quarters full. The map it replaces held double
    /// sums (56 bytes) in one array doubled as it grew and a Dictionary&lt;long, int&gt; (28 bytes an entry, up to twice the
    /// entries it holds): 84 to 168 bytes a voxel, the whole of a 10,000-frame session's RSS growth (issue 12).
    /// </remarks>
    internal sealed class PointCloudFusion
    {
        private readonly FusionOptions _o;
        /// <summary>Voxels per block of storage.</summary>
        internal const int BlockVoxels = 1 << 14;
        private const int Fields = 7;
        /// <summary>Bytes of one voxel's storage: weight, mean x, y, z, mean r, g, b (floats) and its key (a long).</summary>
        internal const int VoxelBytes = Fields * sizeof(float) + sizeof(long);
        /// <summary>
        /// Bytes a confirmation cell takes (<see cref="FusionOptions.MinViews"/> above 1): a dictionary entry of its key, last
        /// frame, views and voxel count, and its bucket (an estimate of the runtime's layout).
        /// </summary>
        internal const int CellBytes = 40;
        private bool Confirming => _o.MinViews > 1;
        /// <summary>Bytes of one slot of the index.</summary>
        internal const int SlotBytes = sizeof(int);
        // Per voxel (block v / BlockVoxels, offset v % BlockVoxels): the summed confidence, the means, the key.
        private List<float[]> _values = new List<float[]>();
        private List<long[]> _keys = new List<long[]>();
        // Confirmation (MinViews above 1): per cell of ConfirmCell^3 voxels, the last fused frame that added to it (1-based),
        // the fused frames that did (saturating at 255) and its voxels.
        private struct Cell { public int Last; public byte Views; public int Voxels; }
        private Dictionary<long, Cell> _cells = new Dictionary<long, Cell>();
        // Index: voxel + 1 per slot (0: empty), linear probing, a power-of-two length, at most three quarters full.
        private int[] _slots = new int[MinSlots];
        private const int MinSlots = 1024;
        private int _count;

        public PointCloudFusion(FusionOptions? options = null)
        {
            _o = options ?? new FusionOptions();
            if (_o.VoxelSize.HasValue && !(_o.VoxelSize.Value > 0)) throw new ArgumentException("Voxel size must be positive.");
            if (!(_o.RelativeVoxelSize > 0)) throw new ArgumentException("Relative voxel size must be positive.");
            if (_o.MaxVoxels < 1) throw new ArgumentException("MaxVoxels must be at least 1.");
            if (_o.PixelStride < 1) throw new ArgumentException("PixelStride must be at least 1.");
            if (_o.MinViews < 1 || _o.MinViews > 255) throw new ArgumentException("MinViews must be in [1, 255].");
            if (_o.UnconfirmedFrames < 1) throw new ArgumentException("UnconfirmedFrames must be at least 1.");
            if (_o.ConfirmCell < 1 || _o.ConfirmCell > 1024) throw new ArgumentException("ConfirmCell must be in [1, 1024].");
            VoxelSize = _o.VoxelSize ?? 0;
            UpdateBytes();
        }

        /// <summary>Current voxel edge in scene units (0 until the first frame when it is relative).</summary>
        public double VoxelSize { get; private set; }

        /// <summary>
        /// Voxels held after the last frame fused (the confirmed ones and those whose cell still waits for a second view);
        /// read from any thread, published with <see cref="Bytes"/> (a
        /// live count read while a frame was fused, or merged, paired with the bytes of the frame before: a session's stats
        /// showed 412,700 voxels in the 42.3 MB of the 999,000 before a merge).
        /// </summary>
        public int Count => Volatile.Read(ref _published);
        private int _published;

        /// <summary>Points <see cref="ToPointCloud"/> would give after the last frame fused (published with <see cref="Count"/>).</summary>
        public int PointCount => Volatile.Read(ref _publishedPoints);
        private int _publishedPoints;
        private int _confirmed; // voxels with at least MinViews views

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
            lock (_gate) return IntegrateLocked(depth, confidence, image, intrinsics, cameraToWorld);
        }

        // Integrate and ToPointCloud may run on different threads (the pipeline fuses, an engine reads the map).
        private readonly object _gate = new object();

        private PointCloud IntegrateLocked(FloatImage depth, FloatImage confidence, RgbImage image, Intrinsics intrinsics, CameraPose cameraToWorld)
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
                    if (!double.IsFinite(wx) || !double.IsFinite(wy) || !double.IsFinite(wz)) continue; // a non-finite pose fuses nothing
                    int o = 3 * (y * w + x);
                    byte r = image.Pixels[o], g = image.Pixels[o + 1], b = image.Pixels[o + 2];
                    Add(wx, wy, wz, r, g, b, c);
                    pos.Add((float)wx); pos.Add((float)wy); pos.Add((float)wz);
                    col.Add(r); col.Add(g); col.Add(b);
                    conf.Add(Math.Min(1f, c));
                }
            Frames++;
            if (_o.MinViews > 1 && Frames % _o.UnconfirmedFrames == 0) RemoveUnconfirmed();
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
            int i = Find(key, out int slot);
            if (i < 0)
            {
                if (_count >= _o.MaxVoxels)
                {
                    Coarsen();
                    key = Key(x, y, z, VoxelSize);
                    i = Find(key, out slot);
                }
                if (i < 0) i = Insert(key, slot);
            }
            Accumulate(i, x, y, z, r, g, b, weight);
            Seen(i, Frames + 1);
        }

        /// <summary>Notes that fused frame <paramref name="frame"/> (1-based) added to voxel <paramref name="v"/>.</summary>
        private void Seen(int v, int frame)
        {
            if (!Confirming) return;
            long ck = CellKey(_keys[v / BlockVoxels][v % BlockVoxels]);
            var c = _cells[ck]; // made with the voxel (CountInCell)
            if (c.Last == frame) return;
            c.Last = frame;
            if (c.Views < byte.MaxValue && ++c.Views == _o.MinViews) _confirmed += c.Voxels;
            _cells[ck] = c;
        }

        /// <summary>The key of the confirmation cell holding the voxel with key <paramref name="voxelKey"/>.</summary>
        private long CellKey(long voxelKey)
        {
            int f = _o.ConfirmCell;
            if (f == 1) return voxelKey;
            static long Axis(long key, int shift, int f)
            {
                long i = (key >> shift) & 0x1FFFFF;
                if (i >= 0x100000) i -= 0x200000; // 21-bit two's complement
                return (long)Math.Floor(i / (double)f) & 0x1FFFFF;
            }
            return Axis(voxelKey, 0, f) | (Axis(voxelKey, 21, f) << 21) | (Axis(voxelKey, 42, f) << 42);
        }

        /// <summary>Counts a new voxel with key <paramref name="voxelKey"/> in its cell.</summary>
        private void CountInCell(long voxelKey)
        {
            long ck = CellKey(voxelKey);
            _cells.TryGetValue(ck, out var c);
            c.Voxels++;
            if (c.Views >= _o.MinViews) _confirmed++;
            _cells[ck] = c;
        }

        private bool Confirmed(int v) => !Confirming || _cells[CellKey(_keys[v / BlockVoxels][v % BlockVoxels])].Views >= _o.MinViews;

        /// <summary>
        /// Removes the unconfirmed voxels no frame added to in the last <see cref="FusionOptions.UnconfirmedFrames"/> fused
        /// frames; the rest keep their order. Blocks no longer needed are released and the index is rebuilt at the length
        /// the voxels left need.
        /// </summary>
        private void RemoveUnconfirmed()
        {
            // Cells that stayed unconfirmed for the window go with their voxels.
            var stale = new HashSet<long>();
            foreach (var kv in _cells)
                if (kv.Value.Views < _o.MinViews && Frames - kv.Value.Last >= _o.UnconfirmedFrames) stale.Add(kv.Key);
            if (stale.Count == 0) return;
            foreach (var ck in stale) _cells.Remove(ck);
            int keep = 0;
            for (int v = 0; v < _count; v++)
            {
                if (stale.Contains(CellKey(_keys[v / BlockVoxels][v % BlockVoxels]))) continue;
                if (keep != v) Move(v, keep);
                keep++;
            }
            if (keep == _count) return;
            _count = keep;
            int blocks = (keep + BlockVoxels - 1) / BlockVoxels;
            if (_values.Count > blocks)
            {
                int extra = _values.Count - blocks;
                _values.RemoveRange(blocks, extra); _keys.RemoveRange(blocks, extra);
            }
            Reindex(IndexLength(keep));
        }

        /// <summary>Copies voxel <paramref name="from"/> over voxel <paramref name="to"/>.</summary>
        private void Move(int from, int to)
        {
            int fb = from / BlockVoxels, fo = from % BlockVoxels, tb = to / BlockVoxels, to_ = to % BlockVoxels;
            Array.Copy(_values[fb], Fields * fo, _values[tb], Fields * to_, Fields);
            _keys[tb][to_] = _keys[fb][fo];
        }

        /// <summary>The index length for <paramref name="n"/> voxels: the smallest power of two at most three quarters full by them.</summary>
        private static int IndexLength(int n)
        {
            int length = MinSlots;
            while (4L * n > 3L * length) length *= 2;
            return length;
        }

        /// <summary>The voxel with this key, or -1 and the empty slot where it would go.</summary>
        private int Find(long key, out int slot)
        {
            int mask = _slots.Length - 1;
            int s = Slot(key, mask);
            while (_slots[s] != 0)
            {
                int v = _slots[s] - 1;
                if (_keys[v / BlockVoxels][v % BlockVoxels] == key) { slot = s; return v; }
                s = (s + 1) & mask;
            }
            slot = s;
            return -1;
        }

        private static int Slot(long key, int mask)
        {
            // SplitMix64's finaliser: neighbouring voxels' keys differ in few bits, linear probing needs them spread.
            ulong z = unchecked((ulong)key);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            return (int)((z ^ (z >> 31)) & (ulong)mask);
        }

        /// <summary>A new, empty voxel with this key in <paramref name="slot"/> (from <see cref="Find"/>); its number.</summary>
        private int Insert(long key, int slot)
        {
            int v = _count++;
            if (v / BlockVoxels == _values.Count)
            {
                _values.Add(new float[Fields * BlockVoxels]);
                _keys.Add(new long[BlockVoxels]);
            }
            _keys[v / BlockVoxels][v % BlockVoxels] = key;
            // A slot freed by RemoveUnconfirmed keeps its old voxel's fields: cleared.
            Array.Clear(_values[v / BlockVoxels], Fields * (v % BlockVoxels), Fields);
            if (Confirming) CountInCell(key);
            if (4L * _count > 3L * _slots.Length) Reindex(2 * _slots.Length); // the new voxel goes in with the rest
            else _slots[slot] = v + 1;
            return v;
        }

        /// <summary>The index rebuilt at this length from the voxels' keys (in their order).</summary>
        private void Reindex(int length)
        {
            _slots = new int[length];
            int mask = length - 1;
            for (int v = 0; v < _count; v++)
            {
                int s = Slot(_keys[v / BlockVoxels][v % BlockVoxels], mask);
                while (_slots[s] != 0) s = (s + 1) & mask;
                _slots[s] = v + 1;
            }
        }

        /// <summary>Adds a sample of weight <paramref name="w"/> to voxel <paramref name="v"/>'s running means.</summary>
        private void Accumulate(int v, double x, double y, double z, double r, double g, double b, double w)
        {
            float[] a = _values[v / BlockVoxels];
            int o = Fields * (v % BlockVoxels);
            double total = a[o] + w;
            double t = total > 0 ? w / total : 1; // a first sample of weight 0 (MinConfidence 0) sets the means
            a[o] = (float)total;
            a[o + 1] = (float)(a[o + 1] + t * (x - a[o + 1]));
            a[o + 2] = (float)(a[o + 2] + t * (y - a[o + 2]));
            a[o + 3] = (float)(a[o + 3] + t * (z - a[o + 3]));
            a[o + 4] = (float)(a[o + 4] + t * (r - a[o + 4]));
            a[o + 5] = (float)(a[o + 5] + t * (g - a[o + 5]));
            a[o + 6] = (float)(a[o + 6] + t * (b - a[o + 6]));
        }

        /// <summary>
        /// Bytes held by the map: its blocks of voxels and its index at their lengths (what the memory grows with; object
        /// headers aside). Updated after each frame and merge; read from any thread.
        /// </summary>
        public long Bytes => Interlocked.Read(ref _bytes);
        private long _bytes;

        private void UpdateBytes()
        {
            // The bytes first: a reader that sees the new count sees its bytes.
            Interlocked.Exchange(ref _bytes, (long)_values.Count * BlockVoxels * VoxelBytes + (long)_slots.Length * SlotBytes + (long)_cells.Count * CellBytes);
            Volatile.Write(ref _publishedPoints, !Confirming || Frames < _o.MinViews ? _count : _confirmed);
            Volatile.Write(ref _published, _count);
        }

        /// <summary>Confirmation cells held (memory, for tests).</summary>
        internal int Cells => _cells.Count;

        /// <summary>Voxels the blocks have room for (memory, for tests).</summary>
        internal int Capacity => _values.Count * BlockVoxels;

        /// <summary>Slots of the index (memory, for tests).</summary>
        internal int IndexSlots => _slots.Length;

        /// <summary>
        /// Doubles the voxel edge and merges voxels (in first-seen order, weighted by their summed confidence) until under the
        /// bound. The merged map has the blocks and the index its size needs, not the old map's: a session's map cycles up to
        /// the bound and back, and the largest arrays would otherwise stay for the rest of it
        /// (Issues/CoarsenedMapKeptItsLargestArray).
        /// </summary>
        private void Coarsen()
        {
            do
            {
                VoxelSize *= 2;
                var (values, keys, cells, n) = (_values, _keys, _cells, _count);
                var oldCellKeys = new long[n];
                if (Confirming) for (int j = 0; j < n; j++) oldCellKeys[j] = CellKey(keys[j / BlockVoxels][j % BlockVoxels]);
                _values = new List<float[]>(); _keys = new List<long[]>(); _cells = new Dictionary<long, Cell>();
                _slots = new int[MinSlots];
                _count = 0;
                _confirmed = 0;
                for (int j = 0; j < n; j++)
                {
                    float[] a = values[j / BlockVoxels];
                    int o = Fields * (j % BlockVoxels);
                    long key = Key(a[o + 1], a[o + 2], a[o + 3], VoxelSize);
                    int v = Find(key, out int slot);
                    if (v < 0) v = Insert(key, slot);
                    Accumulate(v, a[o + 1], a[o + 2], a[o + 3], a[o + 4], a[o + 5], a[o + 6], a[o]);
                    if (!Confirming) continue;
                    // Merged cells were mostly seen by the same frames: the most views and the latest frame of the merged ones.
                    var old = cells[oldCellKeys[j]];
                    long ck = CellKey(_keys[v / BlockVoxels][v % BlockVoxels]);
                    var c = _cells[ck];
                    c.Last = Math.Max(c.Last, old.Last);
                    c.Views = Math.Max(c.Views, old.Views);
                    _cells[ck] = c;
                }
                if (Confirming)
                {
                    _confirmed = 0;
                    foreach (var c in _cells.Values) if (c.Views >= _o.MinViews) _confirmed += c.Voxels;
                }
            } while (_count >= _o.MaxVoxels && _count > 1);
        }

        private static long Key(double x, double y, double z, double size)
        {
            // 21 bits per axis (two's complement), wrapping far outside +-1M voxels (hash collisions there merge voxels).
            long ix = (long)Math.Floor(x / size) & 0x1FFFFF, iy = (long)Math.Floor(y / size) & 0x1FFFFF, iz = (long)Math.Floor(z / size) & 0x1FFFFF;
            return ix | (iy << 21) | (iz << 42);
        }

        /// <summary>
        /// The fused cloud: one point per confirmed voxel (weighted mean position and colour; confidence = 1 - exp(-summed
        /// confidence)), in first-seen order; every voxel while fewer than <see cref="FusionOptions.MinViews"/> frames were
        /// fused (nothing could be confirmed yet). Thread-safe: waits for a keyframe being fused.
        /// </summary>
        public PointCloud ToPointCloud() { lock (_gate) return Points(Output()); }

        /// <summary>The cloud of the given voxels, in that order.</summary>
        private PointCloud Points(List<int> kept)
        {
            var pos = new float[3 * kept.Count];
            var col = new byte[3 * kept.Count];
            var conf = new float[kept.Count];
            for (int i = 0; i < kept.Count; i++)
            {
                int v = kept[i];
                float[] a = _values[v / BlockVoxels];
                int o = Fields * (v % BlockVoxels);
                for (int k = 0; k < 3; k++)
                {
                    pos[3 * i + k] = a[o + 1 + k];
                    col[3 * i + k] = (byte)Math.Max(0, Math.Min(255, Math.Round(a[o + 4 + k])));
                }
                conf[i] = (float)(1 - Math.Exp(-a[o]));
            }
            return new PointCloud(pos, col, conf);
        }

        /// <summary>The voxels <see cref="ToPointCloud"/> gives, in order.</summary>
        private List<int> Output()
        {
            bool all = Frames < _o.MinViews;
            var kept = new List<int>(_count);
            for (int v = 0; v < _count; v++) if (all || Confirmed(v)) kept.Add(v);
            return kept;
        }

        /// <summary>Each voxel's summed confidence, in the order of <see cref="ToPointCloud"/> (for tests).</summary>
        internal float[] SummedConfidence() => Output().Select(v => _values[v / BlockVoxels][Fields * (v % BlockVoxels)]).ToArray();

        /// <summary>Each voxel's views (fused frames that added to it), in the order the map holds them (for tests).</summary>
        internal int[] Views()
        {
            var n = new int[_count];
            for (int v = 0; v < _count; v++) n[v] = Confirming ? _cells[CellKey(_keys[v / BlockVoxels][v % BlockVoxels])].Views : 0;
            return n;
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
