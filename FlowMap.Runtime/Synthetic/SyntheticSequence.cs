using System;
using System.Collections.Generic;
using System.Linq;
using FlowMap.Capture;
using FlowMap.Gpu;

namespace FlowMap.Synthetic
{
    /// <summary>How to generate a <see cref="SyntheticSequence"/>.</summary>
    internal sealed class SyntheticSequenceOptions
    {
        /// <summary>Camera path: "walk" (hand-held, default), "orbit", "forward", "rotation" (pure rotation), "static". See <see cref="SyntheticSequence.PathNames"/>.</summary>
        public string Path { get; set; } = "walk";
        /// <summary>Number of frames (at least 1).</summary>
        public int Frames { get; set; } = 60;
        /// <summary>Image width in pixels.</summary>
        public int Width { get; set; } = 320;
        /// <summary>Image height in pixels.</summary>
        public int Height { get; set; } = 240;
        /// <summary>Seed of the camera path (the scene has its own seed).</summary>
        public int Seed { get; set; }
        /// <summary>Focal length in pixels (fx = fy); null for 0.8 x width (about 64 degrees horizontal field of view).</summary>
        public double? Focal { get; set; }
        /// <summary>
        /// Radial distortion coefficient k1 of the camera (COLMAP SIMPLE_RADIAL, on focal-normalised coordinates; default 0
        /// = pinhole; negative = barrel). Frames, depth and flow are exact for the distorted camera: each pixel sees along
        /// the undistorted ray of its position (<see cref="Intrinsics.Unproject"/>). With k1 &lt; 0 the whole image must lie
        /// inside the model's invertible domain (at 320x240 and the default focal: k1 &gt; -0.24).
        /// </summary>
        public double K1 { get; set; }
        /// <summary>
        /// Scales the motion per frame (the path's shape stays the same). 1: adjacent-frame flow of a few pixels to about
        /// 20 px at 320x240; 3: large motion of 30 px and more. 0 gives a still camera.
        /// </summary>
        public double Motion { get; set; } = 1;
        /// <summary>Anti-aliasing: samples x samples rays per pixel for the colour (1..8, default 2).</summary>
        public int Samples { get; set; } = 2;
        /// <summary>Render on the Vulkan device (default); false renders with the CPU reference (slow, no device needed).</summary>
        public bool UseGpu { get; set; } = true;
    }

    /// <summary>
    /// A synthetic sequence with exact ground truth: per frame the RGB image, its z-depth, the camera-to-world pose
    /// (OpenCV axes), one shared camera <see cref="Intrinsics"/> (principal point at the image centre, pixel-centre
    /// convention; pinhole, or with the radial distortion <see cref="SyntheticSequenceOptions.K1"/>); for any pair of
    /// frames the true optical flow and occlusion. Deterministic: the same scene, seed and
    /// options give the same pixels. Rendered on demand on the GPU (a ray-casting compute shader); the few most recent
    /// frames and pairs are cached, and the images returned are the cached instances: copy before modifying them.
    /// Thread-safe.
    /// </summary>
    internal sealed class SyntheticSequence : IDisposable
    {
        private const int FrameCache = 4, PairCache = 2;
        private readonly object _lock = new object();
        private readonly SyntheticRenderer _renderer;
        private readonly CameraPose[] _poses;
        private readonly LinkedList<(int Index, RgbImage Colour, FloatImage Depth)> _frames = new LinkedList<(int, RgbImage, FloatImage)>();
        private readonly LinkedList<(int A, int B, FlowField Flow, FloatImage Occlusion)> _pairs = new LinkedList<(int, int, FlowField, FloatImage)>();
        private bool _disposed;

        private SyntheticSequence(SyntheticScene scene, SyntheticSequenceOptions o, SyntheticRenderer renderer, CameraPose[] poses)
        {
            Scene = scene; PathName = o.Path; Motion = o.Motion; Seed = o.Seed;
            _renderer = renderer; _poses = poses;
        }

        /// <summary>The camera paths <see cref="SyntheticSequenceOptions.Path"/> accepts.</summary>
        public static IReadOnlyList<string> PathNames => CameraPaths.Names;

        /// <summary>
        /// Creates a sequence. Throws <see cref="ArgumentException"/> for a bad option (unknown path, empty size, no
        /// frames, non-positive focal, a k1 whose distortion folds over inside the image) and
        /// <see cref="GpuUnavailableException"/> when <see cref="SyntheticSequenceOptions.UseGpu"/>
        /// is set and there is no Vulkan device.
        /// </summary>
        public static SyntheticSequence Create(SyntheticScene scene, SyntheticSequenceOptions? options = null)
        {
            var o = options ?? new SyntheticSequenceOptions();
            GpuContext? ctx = null;
            if (o.UseGpu) ctx = GpuContext.Create();
            try
            {
                return Create(scene, o, ctx, ownsContext: true);
            }
            catch
            {
                ctx?.Dispose();
                throw;
            }
        }

        /// <summary>A sequence on an existing context (tests share one with validation on); null renders on the CPU.</summary>
        internal static SyntheticSequence Create(SyntheticScene scene, SyntheticSequenceOptions o, GpuContext? ctx, bool ownsContext)
        {
            if (scene == null) throw new ArgumentNullException(nameof(scene));
            if (o.Width < 1 || o.Height < 1) throw new ArgumentException($"Image size {o.Width}x{o.Height} is empty.");
            if ((long)o.Width * o.Height > 4_000_000) throw new ArgumentException($"Image size {o.Width}x{o.Height} is too large (at most 4 megapixels: the per-pixel hit buffer must fit one storage-buffer binding).");
            if (o.Frames < 1) throw new ArgumentException($"A sequence needs at least one frame, got {o.Frames}.");
            if (o.Focal is double f && !(f > 0 && !double.IsInfinity(f))) throw new ArgumentException($"Focal must be a positive number of pixels, got {f}.");
            if (double.IsNaN(o.K1) || double.IsInfinity(o.K1)) throw new ArgumentException($"Radial distortion k1 must be a finite number, got {o.K1}.");
            if (!(o.Motion >= 0) || double.IsInfinity(o.Motion)) throw new ArgumentException($"Motion scale must be a finite number >= 0, got {o.Motion}.");
            if (o.Samples < 1 || o.Samples > 8) throw new ArgumentException($"Anti-aliasing samples per axis must be 1..8, got {o.Samples}.");
            if (o.Path == null || !CameraPaths.Names.Contains(o.Path))
                throw new ArgumentException($"Unknown camera path '{o.Path}'. Known: {string.Join(", ", CameraPaths.Names)}.");
            var k = Intrinsics.Centered(o.Width, o.Height, o.Focal ?? 0.8 * o.Width) with { K1 = o.K1 };
            if (k.DistortionDomainError() is string domain) throw new ArgumentException(domain);
            var poses = CameraPaths.Generate(o.Path, o.Frames, unchecked((ulong)(uint)o.Seed), o.Motion);
            var renderer = new SyntheticRenderer(scene.Description, k, o.Samples, ctx, ownsContext);
            var copy = new SyntheticSequenceOptions
            {
                Path = o.Path, Frames = o.Frames, Width = o.Width, Height = o.Height, Seed = o.Seed, Focal = o.Focal, K1 = o.K1, Motion = o.Motion, Samples = o.Samples, UseGpu = ctx != null,
            };
            return new SyntheticSequence(scene, copy, renderer, poses);
        }

        public SyntheticScene Scene { get; }
        public string PathName { get; }
        public double Motion { get; }
        public int Seed { get; }
        /// <summary>Number of frames.</summary>
        public int Count => _poses.Length;
        /// <summary>The shared camera (pixels, principal point at ((W-1)/2, (H-1)/2), radial distortion <see cref="Intrinsics.K1"/>).</summary>
        public Intrinsics Intrinsics => _renderer.Intrinsics;
        /// <summary>True when frames are rendered on a Vulkan device, false on the CPU reference.</summary>
        public bool OnGpu => _renderer.OnGpu;
        internal SyntheticRenderer Renderer => _renderer;

        /// <summary>Camera-to-world pose of frame <paramref name="i"/> (world: metres, y down; OpenCV camera axes).</summary>
        public CameraPose Pose(int i) { CheckIndex(i); return _poses[i]; }

        /// <summary>All camera-to-world poses in frame order.</summary>
        public IReadOnlyList<CameraPose> Poses => _poses;

        /// <summary>The RGB image of frame <paramref name="i"/>.</summary>
        public RgbImage Frame(int i) => Rendered(i).Colour;

        /// <summary>z-depth of frame <paramref name="i"/> in metres, float[H, W] (every pixel sees a surface: all values &gt; 0).</summary>
        public FloatImage Depth(int i) => Rendered(i).Depth;

        /// <summary>True optical flow from frame <paramref name="a"/> to frame <paramref name="b"/>: pixel (x, y) of a moves to (x + u, y + v) in b.</summary>
        public FlowField Flow(int a, int b) => Pair(a, b).Flow;

        /// <summary>
        /// Occlusion from a to b, float[H, W]: 1 where the surface seen at a pixel of a is not visible in b (it projects
        /// outside b's image area [-0.5, W-0.5] x [-0.5, H-0.5], behind b, or a nearer surface hides it: the exact
        /// depth of b at the reprojected point is nearer by more than 0.5 %), else 0.
        /// </summary>
        public FloatImage Occlusion(int a, int b) => Pair(a, b).Occlusion;

        /// <summary>A frame source over this sequence (frames in order, timestamps at <paramref name="framesPerSecond"/>); the sequence stays owned by the caller.</summary>
        public IFrameSource AsFrameSource(double framesPerSecond = 30) => new SyntheticFrameSource(this, framesPerSecond);

        private void CheckIndex(int i)
        {
            if (i < 0 || i >= _poses.Length) throw new ArgumentOutOfRangeException(nameof(i), i, $"Frame index must be in [0, {_poses.Length - 1}].");
        }

        private (RgbImage Colour, FloatImage Depth) Rendered(int i)
        {
            CheckIndex(i);
            lock (_lock)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(SyntheticSequence));
                for (var n = _frames.First; n != null; n = n.Next)
                    if (n.Value.Index == i)
                    {
                        _frames.Remove(n); _frames.AddFirst(n);
                        return (n.Value.Colour, n.Value.Depth);
                    }
                var (c, d) = _renderer.Render(_poses[i]);
                _frames.AddFirst((i, c, d));
                while (_frames.Count > FrameCache) _frames.RemoveLast();
                return (c, d);
            }
        }

        private (FlowField Flow, FloatImage Occlusion) Pair(int a, int b)
        {
            CheckIndex(a); CheckIndex(b);
            lock (_lock)
            {
                for (var n = _pairs.First; n != null; n = n.Next)
                    if (n.Value.A == a && n.Value.B == b) return (n.Value.Flow, n.Value.Occlusion);
                var depth = Rendered(a).Depth;
                var (f, o) = _renderer.Flow(depth, _poses[a], _poses[b]);
                _pairs.AddFirst((a, b, f, o));
                while (_pairs.Count > PairCache) _pairs.RemoveLast();
                return (f, o);
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                if (_disposed) return;
                _disposed = true;
                _frames.Clear(); _pairs.Clear();
                _renderer.Dispose();
            }
        }
    }

    /// <summary>Frames of a <see cref="SyntheticSequence"/> as a stream.</summary>
    internal sealed class SyntheticFrameSource : IFrameSource
    {
        private readonly SyntheticSequence _seq;
        private readonly double _fps;
        private int _next;

        public SyntheticFrameSource(SyntheticSequence seq, double fps)
        {
            if (!(fps > 0)) throw new ArgumentOutOfRangeException(nameof(fps), fps, "Frame rate must be positive.");
            _seq = seq; _fps = fps;
        }

        public string Description => $"synthetic {_seq.Scene.Name} / {_seq.PathName} ({_seq.Intrinsics.Width}x{_seq.Intrinsics.Height}, {_seq.Count} frames)";
        public int? FrameCount => _seq.Count;
        public double? FramesPerSecond => _fps;
        public IReadOnlyList<string> Warnings => Array.Empty<string>();

        public bool TryRead(out Frame frame)
        {
            if (_next >= _seq.Count) { frame = null!; return false; }
            int i = _next++;
            frame = new Frame(i, i / _fps, _seq.Frame(i), $"{i:D6}.png");
            return true;
        }

        public void Dispose() { }
    }
}
