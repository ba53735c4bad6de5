using System;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// The viewer's virtual camera as a pinhole in the same conventions as the reconstruction: a camera-to-world pose in
    /// OpenCV axes (x right, y down, z forward) and intrinsics in pixels with the pixel-centre principal point. The world's
    /// "up" is -y (frame 0 of a reconstruction is upright). <see cref="ViewProjection"/> maps world points to Vulkan clip
    /// space so that a point lands on exactly the pixel <see cref="Intrinsics.Project"/> gives for it.
    /// </summary>
    public sealed class ViewCamera
    {
        /// <summary>Camera-to-world pose of the view.</summary>
        public CameraPose Pose { get; set; } = CameraPose.Identity;
        /// <summary>Intrinsics of the view at the framebuffer size.</summary>
        public Intrinsics Intrinsics { get; set; } = Intrinsics.Centered(640, 480, 500);
        /// <summary>Near and far planes along z, world units.</summary>
        public double Near { get; set; } = 0.01;
        public double Far { get; set; } = 1000;

        /// <summary>
        /// Row-major 4x4 world -> clip: clip = P [R^T | -R^T C] X with
        /// P = [[2fx/W, 0, 2(cx+0.5)/W - 1, 0], [0, 2fy/H, 2(cy+0.5)/H - 1, 0], [0, 0, f/(f-n), -f n/(f-n)], [0, 0, 1, 0]].
        /// Vulkan's framebuffer x = (x_ndc + 1) W / 2 puts pixel u's centre (u + 0.5 in framebuffer coordinates) where the
        /// pinhole projection says; y likewise (Vulkan NDC y points down, like OpenCV's image y); depth z_ndc in [0, 1].
        /// </summary>
        public double[] ViewProjection()
        {
            var K = Intrinsics;
            double W = K.Width, H = K.Height, n = Near, f = Far;
            var p = new double[16]
            {
                2 * K.Fx / W, 0, 2 * (K.Cx + 0.5) / W - 1, 0,
                0, 2 * K.Fy / H, 2 * (K.Cy + 0.5) / H - 1, 0,
                0, 0, f / (f - n), -f * n / (f - n),
                0, 0, 1, 0,
            };
            var view = Pose.Inverse();
            var v = new double[16];
            for (int r = 0; r < 3; r++)
            {
                for (int c = 0; c < 3; c++) v[r * 4 + c] = view.R(r, c);
                v[r * 4 + 3] = view.T(r);
            }
            v[15] = 1;
            return Mul(p, v);
        }

        /// <summary>The view-projection as float[16] column-major, the layout of a GLSL mat4.</summary>
        public float[] ViewProjectionColumnMajor()
        {
            var m = ViewProjection();
            var o = new float[16];
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                    o[c * 4 + r] = (float)m[r * 4 + c];
            return o;
        }

        internal static double[] Mul(double[] a, double[] b)
        {
            var o = new double[16];
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                {
                    double s = 0;
                    for (int k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
                    o[r * 4 + c] = s;
                }
            return o;
        }

        /// <summary>A camera at <paramref name="eye"/> looking at <paramref name="target"/>, upright (world up = -y).</summary>
        public static CameraPose LookAt((double X, double Y, double Z) eye, (double X, double Y, double Z) target)
        {
            var f = Normalize((target.X - eye.X, target.Y - eye.Y, target.Z - eye.Z));
            var down = (0.0, 1.0, 0.0);
            var right = Cross(down, f);
            if (Length(right) < 1e-9) right = (1, 0, 0); // looking straight up or down
            right = Normalize(right);
            var d = Cross(f, right);
            // Columns of R (camera-to-world) are the camera's right, down and forward axes in world coordinates.
            var r = new[] { right.Item1, d.Item1, f.Item1, right.Item2, d.Item2, f.Item2, right.Item3, d.Item3, f.Item3 };
            return new CameraPose(r, new[] { eye.X, eye.Y, eye.Z });
        }

        internal static (double, double, double) Cross((double X, double Y, double Z) a, (double X, double Y, double Z) b) =>
            (a.Y * b.Z - a.Z * b.Y, a.Z * b.X - a.X * b.Z, a.X * b.Y - a.Y * b.X);

        internal static double Length((double X, double Y, double Z) a) => Math.Sqrt(a.X * a.X + a.Y * a.Y + a.Z * a.Z);

        internal static (double, double, double) Normalize((double X, double Y, double Z) a)
        {
            double l = Length(a);
            return l > 0 ? (a.X / l, a.Y / l, a.Z / l) : (0, 0, 1);
        }
    }

    /// <summary>
    /// Orbit / pan / zoom / fly controls around a target point (yaw about the world vertical, pitch above the horizon),
    /// producing a <see cref="ViewCamera"/> pose.
    /// </summary>
    public sealed class OrbitController
    {
        public (double X, double Y, double Z) Target { get; set; }
        /// <summary>Radians about the world vertical; 0 looks along +z.</summary>
        public double Yaw { get; set; }
        /// <summary>Radians above the horizon (positive looks down on the target).</summary>
        public double Pitch { get; set; }
        public double Distance { get; set; } = 1;

        public (double X, double Y, double Z) Eye
        {
            get
            {
                double cp = Math.Cos(Pitch);
                // The direction from the target back to the eye: at yaw 0, pitch 0 the eye is at -z looking along +z.
                var back = (-cp * Math.Sin(Yaw), -Math.Sin(Pitch), -cp * Math.Cos(Yaw));
                return (Target.X + Distance * back.Item1, Target.Y + Distance * back.Item2, Target.Z + Distance * back.Item3);
            }
        }

        public CameraPose Pose => ViewCamera.LookAt(Eye, Target);

        public void Orbit(double dYaw, double dPitch)
        {
            Yaw += dYaw;
            Pitch = Math.Max(-1.5, Math.Min(1.5, Pitch + dPitch));
        }

        /// <summary>Moves the target in the view plane by a fraction of the distance (dx right, dy down).</summary>
        public void Pan(double dx, double dy)
        {
            var p = Pose;
            Target = (Target.X + Distance * (dx * p.R(0, 0) + dy * p.R(0, 1)),
                      Target.Y + Distance * (dx * p.R(1, 0) + dy * p.R(1, 1)),
                      Target.Z + Distance * (dx * p.R(2, 0) + dy * p.R(2, 1)));
        }

        public void Zoom(double steps) => Distance = Math.Max(1e-4, Distance * Math.Exp(-0.15 * steps));

        /// <summary>Moves eye and target together along the view's forward/right/down axes (world units).</summary>
        public void Fly(double forward, double right, double down)
        {
            var p = Pose;
            Target = (Target.X + forward * p.R(0, 2) + right * p.R(0, 0) + down * p.R(0, 1),
                      Target.Y + forward * p.R(1, 2) + right * p.R(1, 0) + down * p.R(1, 1),
                      Target.Z + forward * p.R(2, 2) + right * p.R(2, 0) + down * p.R(2, 1));
        }
    }
}
