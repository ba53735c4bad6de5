using System;
using System.IO;
using System.Linq;
using System.Text;
using FlowMap.Export;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Export
{
    public sealed class PlyFileTests
    {
        private static PointCloud RandomCloud(Random r, int n, bool confidence)
        {
            var pos = Rng.Floats(r, 3 * n, -10, 10);
            var col = new byte[3 * n]; r.NextBytes(col);
            return new PointCloud(pos, col, confidence ? Rng.Floats(r, n) : null);
        }

        [Fact]
        public void Binary_cloud_round_trips_with_the_contract_header()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var cloud = RandomCloud(r, 5000, confidence: false);
            var path = tmp.File("points.ply");
            PlyFile.Write(path, cloud);
            var bytes = File.ReadAllBytes(path);
            var text = Encoding.ASCII.GetString(bytes, 0, 400);
            int end = text.IndexOf("end_header\n", StringComparison.Ordinal) + "end_header\n".Length;
            var header = text.Substring(0, end).Split('\n').Where(l => !l.StartsWith("comment")).ToArray();
            Assert.Equal(new[] { "ply", "format binary_little_endian 1.0", "element vertex 5000", "property float x", "property float y",
                "property float z", "property uchar red", "property uchar green", "property uchar blue", "end_header", "" }, header);
            Assert.Equal(end + 5000 * 15, bytes.Length);
            var back = PlyFile.Read(path);
            Assert.True(cloud.Positions.AsSpan().SequenceEqual(back.Positions), $"seed {seed}");
            Assert.Equal(cloud.Colors, back.Colors);
            Assert.Null(back.Confidence);

            var withConf = RandomCloud(r, 10, confidence: true);
            PlyFile.Write(path, withConf, includeConfidence: true);
            Assert.Equal(withConf.Confidence, PlyFile.Read(path).Confidence);
        }

        [Fact]
        public void Reader_accepts_ascii_extra_properties_and_faces()
        {
            using var tmp = new TempDir();
            var path = tmp.File("mesh.ply");
            File.WriteAllText(path,
                "ply\r\nformat ascii 1.0\r\ncomment made by hand\r\nelement vertex 3\r\nproperty double x\r\nproperty double y\r\nproperty double z\r\n" +
                "property float nx\r\nproperty uchar red\r\nproperty uchar green\r\nproperty uchar blue\r\nproperty uchar alpha\r\n" +
                "element face 1\r\nproperty list uchar int vertex_indices\r\nend_header\r\n" +
                "1 2 3 0.5 10 20 30 255\r\n-1.5 0 2 0.5 40 50 60 255\r\n0 0 0 0 70 80 90 255\r\n3 0 1 2\r\n");
            var c = PlyFile.Read(path);
            Assert.Equal(3, c.Count);
            Assert.Equal(new[] { 1f, 2, 3, -1.5f, 0, 2, 0, 0, 0 }, c.Positions);
            Assert.Equal(new byte[] { 10, 20, 30, 40, 50, 60, 70, 80, 90 }, c.Colors);
        }

        [Fact]
        public void Big_endian_file_with_a_face_element_before_the_vertices_reads()
        {
            using var tmp = new TempDir();
            var path = tmp.File("be.ply");
            using (var fs = File.Create(path))
            {
                var h = Encoding.ASCII.GetBytes("ply\nformat binary_big_endian 1.0\nelement face 1\nproperty list uchar int vertex_indices\n" +
                                                "element vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n");
                fs.Write(h);
                fs.WriteByte(2); fs.Write(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1 });
                foreach (var f in new[] { 1.25f, -2f, 3f, 4f, 5f, 6f })
                {
                    var b = BitConverter.GetBytes(f); Array.Reverse(b); fs.Write(b);
                }
            }
            var c = PlyFile.Read(path);
            Assert.Equal(new[] { 1.25f, -2, 3, 4, 5, 6 }, c.Positions);
            Assert.Equal(Enumerable.Repeat((byte)128, 6), c.Colors);
        }

        [Fact]
        public void Truncated_cloud_is_an_error_naming_the_file()
        {
            using var tmp = new TempDir();
            var path = tmp.File("cut.ply");
            PlyFile.Write(path, RandomCloud(new Random(1), 100, false));
            var b = File.ReadAllBytes(path);
            File.WriteAllBytes(path, b.AsSpan(0, b.Length - 20).ToArray());
            var e = Assert.Throws<InvalidDataException>(() => PlyFile.Read(path));
            Assert.Contains("cut.ply", e.Message);
            Assert.Contains("truncated", e.Message);
        }
    }

    public sealed class ColmapTextModelTests
    {
        [Fact]
        public void Model_round_trips_and_poses_come_back_camera_to_world()
        {
            using var tmp = new TempDir();
            var r = Rng.Fresh(out int seed);
            var poses = Enumerable.Range(0, 6).Select(_ => TumTrajectoryTests.RandomPose(r)).ToArray();
            var names = Enumerable.Range(0, 6).Select(i => $"{i:D6}.png").ToArray();
            var k = new Intrinsics(640, 480, 525, 525, 319.5, 239.5);
            var cloud = new PointCloud(Rng.Floats(r, 30, -3, 3), Enumerable.Range(0, 30).Select(i => (byte)(i * 8)).ToArray());
            var model = ColmapTextModel.FromReconstruction(k, names, poses, cloud);
            model.Images[2] = model.Images[2] with { Points2D = new[] { new ColmapPoint2D(10.5, 20.25, 3), new ColmapPoint2D(1, 2, -1) } };
            model.Points3D[2] = model.Points3D[2] with { Track = new[] { (3, 0) }, Error = 0.75 };
            model.Write(tmp.Path);

            var back = ColmapTextModel.Read(tmp.Path);
            var cam = Assert.Single(back.Cameras);
            Assert.Equal("SIMPLE_RADIAL", cam.Model);
            Assert.Equal(new[] { 525, 320.0, 240.0, 0 }, cam.Params); // COLMAP's principal point: pixel centre + 0.5; k1 = 0
            Assert.Equal(k, cam.ToIntrinsics());
            Assert.Equal(names, back.Images.Select(i => i.Name));
            for (int i = 0; i < poses.Length; i++)
            {
                TumTrajectoryTests.AssertPoseEqual(poses[i], back.Images[i].CameraToWorld, 1e-12, $"seed {seed} image {i}");
                // COLMAP: the projection centre is -R^T t.
                var w2c = back.Images[i].WorldToCamera;
                var c = w2c.Inverse().Center;
                Assert.Equal(poses[i].T(0), c.X, 10);
            }
            Assert.Equal(model.Images[2].Points2D, back.Images[2].Points2D);
            Assert.Empty(back.Images[3].Points2D);
            Assert.Equal(10, back.Points3D.Count);
            Assert.Equal(model.Points3D.Select(p => (p.Id, p.X, p.Y, p.Z, p.R, p.G, p.B, p.Error)), back.Points3D.Select(p => (p.Id, p.X, p.Y, p.Z, p.R, p.G, p.B, p.Error)));
            Assert.Equal(new[] { (3, 0) }, back.Points3D[2].Track);
        }

        /// <summary>The layout of COLMAP's text format (colmap doc/format.rst, and COLMAP 3.8's model writer): comment headers, one
        /// line per camera, two lines per image (the second empty without keypoints), one line per point.</summary>
        [Fact]
        public void Written_model_has_exactly_the_COLMAP_text_layout()
        {
            using var tmp = new TempDir();
            var poses = new[] { CameraPose.Identity, CameraPose.FromQuaternion(0, 0, 0, 1, 1, 0, 0) };
            var cloud = new PointCloud(new[] { 0.5f, -1, 4, 1, 2, 3 }, new byte[] { 255, 0, 10, 1, 2, 3 });
            var model = ColmapTextModel.FromReconstruction(new Intrinsics(64, 48, 50, 51, 31.5, 23.5), new[] { "a.png", "b.png" }, poses, cloud);
            model.Write(tmp.Path);

            Assert.Equal(
                "# Camera list with one line of data per camera:\n" +
                "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n" +
                "# Number of cameras: 1\n" +
                "1 PINHOLE 64 48 50 51 32 24\n", File.ReadAllText(tmp.File("cameras.txt")));
            Assert.Equal(
                "# Image list with two lines of data per image:\n" +
                "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n" +
                "#   POINTS2D[] as (X, Y, POINT3D_ID)\n" +
                "# Number of images: 2, mean observations per image: 0\n" +
                "1 1 0 0 0 0 0 0 1 a.png\n" +
                "\n" +
                "2 1 0 0 0 -1 0 0 1 b.png\n" +   // camera centre (1, 0, 0) -> world-to-camera t = -R^T c = (-1, 0, 0)
                "\n", File.ReadAllText(tmp.File("images.txt")));
            Assert.Equal(
                "# 3D point list with one line of data per point:\n" +
                "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n" +
                "# Number of points: 2, mean track length: 0\n" +
                "1 0.5 -1 4 255 0 10 0\n" +
                "2 1 2 3 1 2 3 0\n", File.ReadAllText(tmp.File("points3D.txt")));
        }

        /// <summary>
        /// The radial coefficient goes to cameras.txt as COLMAP's SIMPLE_RADIAL "f cx cy k" (pixel-corner principal point,
        /// the same k on focal-normalised coordinates), OPENCV when fx != fy, and comes back; models written by COLMAP
        /// (SIMPLE_PINHOLE, PINHOLE, RADIAL, OPENCV) read with their first radial term.
        /// </summary>
        [Fact]
        public void Radial_distortion_is_written_as_SIMPLE_RADIAL_and_read_back()
        {
            using var tmp = new TempDir();
            var k = Intrinsics.Centered(640, 480, 525.25) with { K1 = -0.0625 };
            ColmapTextModel.FromReconstruction(k, new[] { "a.png" }, new[] { CameraPose.Identity }).Write(tmp.Path);
            Assert.Contains("\n1 SIMPLE_RADIAL 640 480 525.25 320 240 -0.0625\n", File.ReadAllText(tmp.File("cameras.txt")));
            Assert.Equal(k, Assert.Single(ColmapTextModel.Read(tmp.Path).Cameras).ToIntrinsics());

            var k2 = new Intrinsics(64, 48, 50, 51, 31.5, 23.5) { K1 = 0.125 };
            var cam2 = ColmapCamera.FromIntrinsics(1, k2);
            Assert.Equal("OPENCV", cam2.Model);
            Assert.Equal(new double[] { 50, 51, 32, 24, 0.125, 0, 0, 0 }, cam2.Params);
            Assert.Equal(k2, cam2.ToIntrinsics());

            Assert.Equal(Intrinsics.Centered(64, 48, 50), new ColmapCamera(1, "SIMPLE_PINHOLE", 64, 48, new double[] { 50, 32, 24 }).ToIntrinsics());
            Assert.Equal(new Intrinsics(64, 48, 50, 51, 31.5, 23.5), new ColmapCamera(1, "PINHOLE", 64, 48, new double[] { 50, 51, 32, 24 }).ToIntrinsics());
            Assert.Equal(Intrinsics.Centered(64, 48, 50) with { K1 = 0.01 }, new ColmapCamera(1, "RADIAL", 64, 48, new double[] { 50, 32, 24, 0.01, 0.002 }).ToIntrinsics());
            Assert.Throws<InvalidDataException>(() => new ColmapCamera(1, "SIMPLE_RADIAL", 64, 48, new double[] { 50, 32, 24 }).ToIntrinsics());
        }

        [Fact]
        public void Names_with_spaces_become_underscores_so_COLMAP_reads_them_whole()
        {
            using var tmp = new TempDir();
            ColmapTextModel.FromReconstruction(Intrinsics.Centered(8, 8, 10), new[] { "my frame 1.png", "" }, new[] { CameraPose.Identity, CameraPose.Identity }).Write(tmp.Path);
            Assert.Equal(new[] { "my_frame_1.png", "000001.png" }, ColmapTextModel.Read(tmp.Path).Images.Select(i => i.Name));
            Assert.Throws<ArgumentException>(() => ColmapImage.FromCameraToWorld(1, 1, "a b.png", CameraPose.Identity));
        }

        [Fact]
        public void Images_file_missing_a_keypoint_line_is_an_error()
        {
            using var tmp = new TempDir();
            ColmapTextModel.FromReconstruction(Intrinsics.Centered(8, 8, 10), new[] { "x.png" }, new[] { CameraPose.Identity }).Write(tmp.Path);
            var text = File.ReadAllText(tmp.File("images.txt"));
            File.WriteAllText(tmp.File("images.txt"), text.Substring(0, text.Length - 1));
            var e = Assert.Throws<InvalidDataException>(() => ColmapTextModel.Read(tmp.Path));
            Assert.Contains("images.txt", e.Message);
            Assert.Contains("keypoint line", e.Message);
        }
    }
}
