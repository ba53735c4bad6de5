using System;

namespace FlowMap
{
    /// <summary>
    /// Pinhole intrinsics in pixels for an image of <see cref="Width"/> x <see cref="Height"/>. The principal point uses the
    /// pixel-centre convention: pixel (0, 0)'s centre is at (0, 0), so the image centre is ((W-1)/2, (H-1)/2).
    /// Projection of a camera-space point (X, Y, Z), Z forward: u = Fx X / Z + Cx, v = Fy Y / Z + Cy.
    /// </summary>
    public sealed record Intrinsics(int Width, int Height, double Fx, double Fy, double Cx, double Cy)
    {
        /// <summary>One focal, principal point at the image centre.</summary>
        public static Intrinsics Centered(int width, int height, double focal) =>
            new Intrinsics(width, height, focal, focal, (width - 1) / 2.0, (height - 1) / 2.0);

        /// <summary>The same camera seen at another resolution (pixel-centre convention: c' = (c + 0.5) s - 0.5).</summary>
        public Intrinsics Resized(int width, int height)
        {
            double sx = (double)width / Width, sy = (double)height / Height;
            return new Intrinsics(width, height, Fx * sx, Fy * sy, (Cx + 0.5) * sx - 0.5, (Cy + 0.5) * sy - 0.5);
        }

        /// <summary>Projects a camera-space point; returns false when it is behind the camera (Z &lt;= 0).</summary>
        public bool Project(double x, double y, double z, out double u, out double v)
        {
            if (z <= 0) { u = v = double.NaN; return false; }
            u = Fx * x / z + Cx;
            v = Fy * y / z + Cy;
            return true;
        }

        /// <summary>Back-projects pixel (u, v) at z-depth <paramref name="depth"/> to camera space.</summary>
        public (double X, double Y, double Z) Unproject(double u, double v, double depth) =>
            ((u - Cx) / Fx * depth, (v - Cy) / Fy * depth, depth);
    }
}
