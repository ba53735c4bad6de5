using System;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Engine
{
    /// <summary>
    /// The OpenCV-to-Unity axis conversion (Core/UnityAxes.cs), checked without Unity: a quaternion q acts on a vector as
    /// the rotation matrix it stands for (standard Hamilton product, which UnityEngine.Quaternion also uses), so a camera
    /// placed with Unity's conversion must look at the points FlowMap's pose says it looks at, with the image's up as up.
    /// </summary>
    public sealed class UnityAxesTests
    {
        /// <summary>v rotated by the unit quaternion (x, y, z, w): v + 2 u x (u x v + w v), u = (x, y, z).</summary>
        private static (double, double, double) Rotate((float X, float Y, float Z, float W) q, (double X, double Y, double Z) v)
        {
            double ux = q.X, uy = q.Y, uz = q.Z, w = q.W;
            double tx = uy * v.Z - uz * v.Y + w * v.X, ty = uz * v.X - ux * v.Z + w * v.Y, tz = ux * v.Y - uy * v.X + w * v.Z;
            return (v.X + 2 * (uy * tz - uz * ty), v.Y + 2 * (uz * tx - ux * tz), v.Z + 2 * (ux * ty - uy * tx));
        }

        [Fact]
        public void Camera_axes_map_to_unitys_right_up_and_forward()
        {
            var rng = Rng.Fresh(out int seed);
            for (int trial = 0; trial < 200; trial++)
            {
                // Random rotation from a random unit quaternion (covers every branch of Shepperd's method), random centre.
                double a = rng.NextDouble() * 2 - 1, b = rng.NextDouble() * 2 - 1, c = rng.NextDouble() * 2 - 1, d = rng.NextDouble() * 2 - 1;
                double n = Math.Sqrt(a * a + b * b + c * c + d * d);
                if (n < 1e-3) continue;
                var pose = CameraPose.FromQuaternion(a / n, b / n, c / n, d / n, rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2);
                var q = UnityAxes.Rotation(pose);
                // Unit norm and w >= 0: float32 components of a double-precision unit quaternion (rounding 6e-8 each).
                Assert.Equal(1.0, Math.Sqrt(q.X * q.X + q.Y * q.Y + q.Z * q.Z + q.W * q.W), 1e-6);
                Assert.True(q.W >= 0);
                // OpenCV camera axes in FlowMap's world: right = R e_x, down = R e_y, forward = R e_z. In Unity: right,
                // up (= -down) and forward must be q applied to Unity's (1,0,0), (0,1,0), (0,0,1), each flipped by S.
                // Tolerance: float32 quaternion components (relative 6e-8) through a few products of unit values: 1e-6.
                var checks = new (double, double, double, (double, double, double))[]
                {
                    (pose.R(0, 0), pose.R(1, 0), pose.R(2, 0), (1, 0, 0)),
                    (-pose.R(0, 1), -pose.R(1, 1), -pose.R(2, 1), (0, 1, 0)),
                    (pose.R(0, 2), pose.R(1, 2), pose.R(2, 2), (0, 0, 1)),
                };
                foreach (var (x, y, z, unityAxis) in checks)
                {
                    var expected = UnityAxes.Position(x, y, z);
                    var got = Rotate(q, unityAxis);
                    Assert.True(Math.Abs(got.Item1 - expected.X) < 1e-6 && Math.Abs(got.Item2 - expected.Y) < 1e-6 && Math.Abs(got.Item3 - expected.Z) < 1e-6,
                        $"seed {seed} trial {trial}: axis {unityAxis} -> {got}, expected {expected}");
                }
                var centre = UnityAxes.Position(pose);
                Assert.Equal((float)pose.Center.X, centre.X);
                Assert.Equal((float)-pose.Center.Y, centre.Y);
                Assert.Equal((float)pose.Center.Z, centre.Z);
            }
        }

        [Fact]
        public void Identity_pose_is_the_identity_rotation_and_points_flip_y()
        {
            Assert.Equal((0f, 0f, 0f, 1f), UnityAxes.Rotation(CameraPose.Identity));
            var cloud = new PointCloud(new float[] { 1, 2, 3, -4, -5, 6 }, new byte[6]);
            var dst = new float[7];
            Assert.Equal(2, UnityAxes.Positions(cloud, dst));
            Assert.Equal(new float[] { 1, -2, 3, -4, 5, 6, 0 }, dst);
            Assert.Throws<ArgumentException>(() => UnityAxes.Positions(cloud, new float[5]));
        }
    }
}
