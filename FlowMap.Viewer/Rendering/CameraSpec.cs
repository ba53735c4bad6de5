using System;
using System.Globalization;
using FlowMap.Viewer.Scenes;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// How to place the view for a screenshot (--camera): "overview" (default: above and behind the scene, looking at its
    /// centre, at the distance that frames the robust box of points and cameras and the current camera, see
    /// <see cref="Fit"/>), "top" (straight down, framed the same way), "frame:N" or "frame:last" (through that frame's
    /// camera with its intrinsics), or "orbit:YAW,PITCH[,DIST]" (degrees about the scene centre; DIST in scene radii,
    /// default 2.2). Overview and top keep framing a growing live scene (<see cref="AutoFits"/>).
    /// </summary>
    public sealed class CameraSpec
    {
        private enum Kind { Overview, Top, Frame, Orbit }
        private readonly Kind _kind;
        private readonly int _frame;
        private readonly double _yaw, _pitch, _dist;

        private CameraSpec(Kind kind, int frame = 0, double yaw = -35, double pitch = 30, double dist = 2.2)
        {
            _kind = kind; _frame = frame; _yaw = yaw; _pitch = pitch; _dist = dist;
        }

        public static CameraSpec Overview => new CameraSpec(Kind.Overview);

        /// <summary>Whether a window keeps this view fitted to a growing scene until the user pans, zooms or flies.</summary>
        public bool AutoFits => _kind == Kind.Overview || _kind == Kind.Top;

        public static CameraSpec Parse(string text)
        {
            var s = (text ?? "").Trim().ToLowerInvariant();
            if (s == "" || s == "overview") return Overview;
            if (s == "top") return new CameraSpec(Kind.Top, pitch: 89.9);
            if (s.StartsWith("frame:", StringComparison.Ordinal))
            {
                var v = s.Substring(6);
                if (v == "last") return new CameraSpec(Kind.Frame, -1);
                if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0) return new CameraSpec(Kind.Frame, n);
            }
            if (s.StartsWith("orbit:", StringComparison.Ordinal))
            {
                var p = s.Substring(6).Split(',');
                if ((p.Length == 2 || p.Length == 3) && TryD(p[0], out double yaw) && TryD(p[1], out double pitch))
                {
                    double dist = 2.2;
                    if (p.Length == 2 || (TryD(p[2], out dist) && dist > 0)) return new CameraSpec(Kind.Orbit, yaw: yaw, pitch: pitch, dist: dist);
                }
            }
            throw new FormatException($"'{text}' is not a camera; use overview, top, frame:N, frame:last or orbit:YAW,PITCH[,DIST].");
        }

        private static bool TryD(string s, out double v) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && !double.IsNaN(v) && !double.IsInfinity(v);

        /// <summary>The view for an image of <paramref name="width"/> x <paramref name="height"/>.</summary>
        public ViewCamera Resolve(ViewerSnapshot s, SceneBounds b, int width, int height)
        {
            if (_kind == Kind.Frame)
            {
                if (s.Trajectory.Count == 0) throw new ArgumentException("The scene has no camera trajectory, so --camera frame:N has no camera to look through.");
                int i = _frame < 0 ? s.Trajectory.Count - 1 : _frame;
                if (i >= s.Trajectory.Count) throw new ArgumentException($"--camera frame:{_frame}: the trajectory has {s.Trajectory.Count} frames (0..{s.Trajectory.Count - 1}).");
                var k = s.Intrinsics?.Resized(width, height) ?? Intrinsics.Centered(width, height, height / (2 * Math.Tan(Math.PI / 6)));
                return new ViewCamera { Pose = s.Trajectory[i], Intrinsics = k, Near = b.Radius * 1e-3, Far = b.Radius * 200 };
            }
            return Perspective(StartOrbit(b, width, height, CurrentCamera(s)), b, width, height);
        }

        /// <summary>The centre of the snapshot's current camera, or null.</summary>
        public static (double X, double Y, double Z)? CurrentCamera(ViewerSnapshot s) =>
            s.CurrentFrame >= 0 && s.CurrentFrame < s.Trajectory.Count ? s.Trajectory[s.CurrentFrame].Center : null;

        /// <summary>
        /// The orbit this spec starts a window of <paramref name="width"/> x <paramref name="height"/> with (a frame camera
        /// starts from the default overview): overview and top framed by <see cref="Fit"/>, orbit at its distance.
        /// </summary>
        public OrbitController StartOrbit(SceneBounds b, int width = 4, int height = 3, (double X, double Y, double Z)? current = null)
        {
            var orbit = FromBounds(b, width, height, current);
            if (_kind == Kind.Frame) return orbit;
            orbit.Yaw = _yaw * Math.PI / 180;
            orbit.Pitch = _pitch * Math.PI / 180;
            if (_kind == Kind.Orbit) orbit.Distance = _dist * b.Radius;
            return orbit;
        }

        /// <summary>The default orbit about the scene, framed by <see cref="Fit"/>.</summary>
        public static OrbitController FromBounds(SceneBounds b, int width = 4, int height = 3, (double X, double Y, double Z)? current = null)
        {
            var (target, distance) = Fit(b, width, height, current);
            return new OrbitController { Target = target, Yaw = -35 * Math.PI / 180, Pitch = 30 * Math.PI / 180, Distance = distance };
        }

        /// <summary>
        /// Where an orbit looks and how far back it stands so that the scene fills a <see cref="Perspective"/> view of
        /// <paramref name="width"/> x <paramref name="height"/> from any direction:
        /// 1. the robust box of points and camera centres (<see cref="SceneBounds.Lo"/>, <see cref="SceneBounds.Hi"/>),
        ///    grown to hold the current camera (the user came to see where the camera is);
        /// 2. its bounding sphere: centre = box centre, r = half the diagonal;
        /// 3. the distance at which that sphere just fits the narrower half field of view a: d = 1.05 r / sin a
        ///    (a = 30 degrees vertically, atan(tan 30 W / H) horizontally; 5 % margin).
        /// </summary>
        public static ((double X, double Y, double Z) Target, double Distance) Fit(SceneBounds b, int width, int height, (double X, double Y, double Z)? current = null)
        {
            var lo = b.Lo; var hi = b.Hi;
            if (current is (double cx, double cy, double cz) && double.IsFinite(cx) && double.IsFinite(cy) && double.IsFinite(cz))
            {
                lo = (Math.Min(lo.X, cx), Math.Min(lo.Y, cy), Math.Min(lo.Z, cz));
                hi = (Math.Max(hi.X, cx), Math.Max(hi.Y, cy), Math.Max(hi.Z, cz));
            }
            var centre = (0.5 * (lo.X + hi.X), 0.5 * (lo.Y + hi.Y), 0.5 * (lo.Z + hi.Z));
            double r = Math.Max(1e-3, 0.5 * Math.Sqrt((hi.X - lo.X) * (hi.X - lo.X) + (hi.Y - lo.Y) * (hi.Y - lo.Y) + (hi.Z - lo.Z) * (hi.Z - lo.Z)));
            double tanV = Math.Tan(Math.PI / 6), tanH = tanV * Math.Max(1, width) / Math.Max(1, height);
            double half = Math.Atan(Math.Min(tanV, tanH));
            return (centre, 1.05 * r / Math.Sin(half));
        }

        /// <summary>
        /// Moves <paramref name="orbit"/>'s target and distance toward <see cref="Fit"/> of the current bounds, exponentially
        /// with a time constant of <paramref name="seconds"/> (so a growing scene is followed smoothly, without jumps when
        /// the bounds are recomputed); yaw and pitch stay the user's. dt = 0 leaves the orbit as it is.
        /// </summary>
        public static void Approach(OrbitController orbit, SceneBounds b, int width, int height, (double X, double Y, double Z)? current, double dt, double seconds = 0.5)
        {
            if (!(dt > 0)) return;
            var (t, d) = Fit(b, width, height, current);
            double a = 1 - Math.Exp(-dt / seconds);
            var o = orbit.Target;
            orbit.Target = (o.X + a * (t.X - o.X), o.Y + a * (t.Y - o.Y), o.Z + a * (t.Z - o.Z));
            orbit.Distance += a * (d - orbit.Distance);
        }

        /// <summary>A 60-degree vertical field of view from the orbit's eye; near/far from the scene size.</summary>
        public static ViewCamera Perspective(OrbitController orbit, SceneBounds b, int width, int height)
        {
            double fy = height / (2 * Math.Tan(Math.PI / 6));
            return new ViewCamera
            {
                Pose = orbit.Pose, Intrinsics = Intrinsics.Centered(width, height, fy),
                Near = Math.Max(1e-5, Math.Min(orbit.Distance, b.Radius) * 1e-3), Far = orbit.Distance + b.Radius * 50,
            };
        }
    }
}
