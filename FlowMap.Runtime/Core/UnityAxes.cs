using System;

namespace FlowMap.Core
{
    /// <summary>
    /// FlowMap's camera axes (OpenCV: x right, y down, z forward, right-handed) to Unity's (x right, y up, z forward,
    /// left-handed), for poses and points given by a session. The change of basis is the reflection S = diag(1, -1, 1):
    /// a point p maps to S p; a camera-to-world rotation R maps to S R S, a proper rotation again (det(S R S) = det R = 1),
    /// so a camera's local axes in Unity (right, up, forward) = S R S applied to Unity's (1,0,0), (0,1,0), (0,0,1).
    /// Units are unchanged (the reconstruction's own; a monocular scale is arbitrary but fixed within a session).
    /// </summary>
    public static class UnityAxes
    {
        /// <summary>A FlowMap world point (x, y, z) in Unity's axes: (x, -y, z).</summary>
        public static (float X, float Y, float Z) Position(double x, double y, double z) => ((float)x, (float)-y, (float)z);

        /// <summary>A camera pose's centre (its camera-to-world translation) in Unity's axes.</summary>
        public static (float X, float Y, float Z) Position(CameraPose pose)
        {
            var c = pose.Center;
            return Position(c.X, c.Y, c.Z);
        }

        /// <summary>
        /// A camera pose's rotation in Unity's axes as a unit quaternion (x, y, z, w), as UnityEngine.Quaternion takes it:
        /// a Transform with this rotation looks along the camera's viewing direction with the image's up as its up.
        /// </summary>
        /// <remarks>
        /// 1. S = diag(1, -1, 1) = -Ry(pi), so S R S = Ry(pi) R Ry(pi)^-1: the conversion conjugates R by a half turn
        ///    about y, whose quaternion is p = (0, 1, 0, 0).
        /// 2. With q = (x, y, z, w) the quaternion of R (<see cref="CameraPose.Quaternion"/>, Shepperd's method, w &gt;= 0),
        ///    p q p^-1 = (-x, y, -z, w) (Hamilton product; conjugation by a half turn negates the vector part's components
        ///    perpendicular to its axis). w is unchanged, so w &gt;= 0 still holds.
        /// </remarks>
        public static (float X, float Y, float Z, float W) Rotation(CameraPose pose)
        {
            var q = pose.Quaternion;
            return ((float)-q.Qx, (float)q.Qy, (float)-q.Qz, (float)q.Qw);
        }

        /// <summary>
        /// Copies a point cloud's positions (float[N, 3], FlowMap world axes) into <paramref name="destination"/> in Unity's
        /// axes (float[N, 3], y negated), e.g. for Mesh.SetVertices through a Vector3 array of the same memory layout.
        /// </summary>
        /// <returns>The number of points written.</returns>
        public static int Positions(PointCloud cloud, Span<float> destination)
        {
            if (cloud == null) throw new ArgumentNullException(nameof(cloud));
            if (destination.Length < cloud.Positions.Length)
                throw new ArgumentException($"The destination holds {destination.Length / 3} points; the cloud has {cloud.Count}.", nameof(destination));
            var p = cloud.Positions;
            for (int i = 0; i < p.Length; i += 3)
            {
                destination[i] = p[i];
                destination[i + 1] = -p[i + 1];
                destination[i + 2] = p[i + 2];
            }
            return cloud.Count;
        }
    }
}
