using System;
using System.Globalization;
using FlowMap.Viewer.Scenes;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// How to place the view for a screenshot (--camera): "overview" (default: above and behind the scene, looking at its
    /// centre), "top" (straight down), "frame:N" or "frame:last" (through that frame's camera with its intrinsics), or
    /// "orbit:YAW,PITCH[,DIST]" (degrees about the scene centre; DIST in scene radii, default 2.2).
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
            return Perspective(StartOrbit(b), b, width, height);
        }

        /// <summary>The orbit this spec starts a window with (a frame camera starts from the default overview).</summary>
        public OrbitController StartOrbit(SceneBounds b)
        {
            var orbit = FromBounds(b);
            if (_kind == Kind.Frame) return orbit;
            orbit.Yaw = _yaw * Math.PI / 180;
            orbit.Pitch = _pitch * Math.PI / 180;
            orbit.Distance = _dist * b.Radius;
            return orbit;
        }

        /// <summary>The default orbit about the scene.</summary>
        public static OrbitController FromBounds(SceneBounds b) => new OrbitController
        {
            Target = b.Center, Yaw = -35 * Math.PI / 180, Pitch = 30 * Math.PI / 180, Distance = 2.2 * b.Radius,
        };

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
