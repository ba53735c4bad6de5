using System;
using System.Linq;
using FlowMap.Synthetic;
using Xunit;

namespace FlowMap.Tests.Synthetic
{
    /// <summary>Scenes, camera paths and argument checks of the synthetic generator (no device needed).</summary>
    public sealed class SyntheticSceneTests
    {
        /// <summary>No camera of any path comes within 0.3 m of any primitive's bounds, in either scene, for several seeds and motions.</summary>
        [Theory]
        [InlineData("room")]
        [InlineData("boxes")]
        public void Cameras_keep_clear_of_the_geometry(string sceneName)
        {
            foreach (int seed in new[] { 0, 1, 2, 3, 17 })
            {
                var scene = SyntheticScene.Create(sceneName, seed).Description;
                foreach (var path in SyntheticSequence.PathNames)
                    foreach (double motion in new[] { 1.0, 3.0 })
                    {
                        var poses = CameraPaths.Generate(path, 400, (ulong)seed, motion);
                        for (int i = 0; i < poses.Length; i++)
                        {
                            var (x, y, z) = poses[i].Center;
                            double c = scene.Clearance(x, y, z);
                            Assert.True(c >= 0.3, $"{sceneName} seed {seed} {path} motion {motion} frame {i}: camera at ({x:F2}, {y:F2}, {z:F2}) is {c:F2} m from a primitive");
                        }
                    }
            }
        }

        [Fact]
        public void Poses_are_rigid_and_paths_have_their_character()
        {
            foreach (var path in SyntheticSequence.PathNames)
                foreach (var p in CameraPaths.Generate(path, 50, 3, 1))
                {
                    var r = p.Rotation;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++)
                        {
                            double dot = r[i] * r[j] + r[3 + i] * r[3 + j] + r[6 + i] * r[6 + j];
                            Assert.True(Math.Abs(dot - (i == j ? 1 : 0)) < 1e-12, $"{path}: R is not orthonormal");
                        }
                    double det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
                    Assert.True(Math.Abs(det - 1) < 1e-12, $"{path}: det R = {det}");
                }
            var rot = CameraPaths.Generate("rotation", 30, 3, 1);
            Assert.All(rot, p => Assert.Equal(rot[0].Center, p.Center));
            Assert.True(rot[0].Inverse().Compose(rot[29]).RotationAngle() > 0.05);
            var st = CameraPaths.Generate("static", 5, 3, 1);
            Assert.All(st, p => { Assert.Equal(st[0].Center, p.Center); Assert.Equal(st[0].Rotation, p.Rotation); });
            // Forward: on the straight legs the camera moves along its own optical axis.
            var fw = CameraPaths.Generate("forward", 3, 3, 1);
            var step = fw[1].Inverse().Transform(fw[0].T(0), fw[0].T(1), fw[0].T(2));
            Assert.True(step.Z < -0.07 && Math.Abs(step.X) < 1e-9, $"forward step in camera 1 coordinates: {step}");
            // Motion 0 is a still camera; motion scales the step.
            var m0 = CameraPaths.Generate("walk", 3, 3, 0);
            Assert.Equal(m0[0].Center, m0[2].Center);
        }

        /// <summary>The hierarchy never changes a hit: random rays from the paths' cameras give the same nearest hit as testing every primitive.</summary>
        [Theory]
        [InlineData("room", 0)]
        [InlineData("boxes", 5)]
        public void Hierarchy_traversal_equals_testing_every_primitive(string sceneName, int seed)
        {
            var scene = SyntheticScene.Create(sceneName, seed).Description;
            Assert.True(scene.NodeCount > 1);
            var ray = new SceneRaycaster(scene);
            var rng = new Random(seed);
            var poses = CameraPaths.Generate("walk", 200, (ulong)seed, 1).Concat(CameraPaths.Generate("forward", 200, (ulong)seed, 1)).ToArray();
            int hits = 0;
            for (int n = 0; n < 4000; n++)
            {
                var (ox, oy, oz) = poses[rng.Next(poses.Length)].Center;
                double dx = rng.NextDouble() * 2 - 1, dy = rng.NextDouble() * 2 - 1, dz = rng.NextDouble() * 2 - 1;
                var a = ray.Trace(ox, oy, oz, dx, dy, dz);
                var b = ray.TraceAll(ox, oy, oz, dx, dy, dz);
                Assert.Equal(b.Prim, a.Prim);
                Assert.Equal(b.T, a.T);
                if (a.Prim >= 0) hits++;
            }
            Assert.Equal(4000, hits); // the room is closed
        }

        [Fact]
        public void Bad_arguments_get_clear_errors()
        {
            var e = Assert.Throws<ArgumentException>(() => SyntheticScene.Create("attic"));
            Assert.Contains("room", e.Message);
            var scene = SyntheticScene.Create("room");
            void Bad(SyntheticSequenceOptions o, string fragment)
            {
                var ex = Assert.Throws<ArgumentException>(() => SyntheticSequence.Create(scene, o, null, false));
                Assert.Contains(fragment, ex.Message);
            }
            Bad(new SyntheticSequenceOptions { Path = "spiral" }, "walk");
            Bad(new SyntheticSequenceOptions { Frames = 0 }, "frame");
            Bad(new SyntheticSequenceOptions { Width = 0 }, "empty");
            Bad(new SyntheticSequenceOptions { Focal = -5 }, "Focal");
            Bad(new SyntheticSequenceOptions { Focal = double.NaN }, "Focal");
            Bad(new SyntheticSequenceOptions { Motion = double.NaN }, "Motion");
            Bad(new SyntheticSequenceOptions { Samples = 0 }, "samples");
            Bad(new SyntheticSequenceOptions { K1 = double.NaN }, "k1");
            Bad(new SyntheticSequenceOptions { K1 = -0.5 }, "folds over"); // 320x240 at focal 256 allows k1 > -0.2427
            using var seq = SyntheticSequence.Create(scene, new SyntheticSequenceOptions { Frames = 2, Width = 8, Height = 6 }, null, false);
            Assert.Throws<ArgumentOutOfRangeException>(() => seq.Frame(2));
            Assert.Throws<ArgumentOutOfRangeException>(() => seq.Flow(-1, 0));
            Assert.Equal(Intrinsics.Centered(8, 6, 6.4), seq.Intrinsics);
        }

        [Fact]
        public void Frame_source_streams_the_sequence()
        {
            using var seq = SyntheticSequence.Create(SyntheticScene.Create("room"), new SyntheticSequenceOptions { Frames = 3, Width = 12, Height = 9 }, null, false);
            using var src = seq.AsFrameSource(10);
            Assert.Equal(3, src.FrameCount);
            int n = 0;
            while (src.TryRead(out var f))
            {
                Assert.Equal(n, f.Index);
                Assert.Equal(n / 10.0, f.TimestampSeconds, 12);
                Assert.Equal($"{n:D6}.png", f.Name);
                Assert.Equal(seq.Frame(n).Pixels, f.Image.Pixels);
                n++;
            }
            Assert.Equal(3, n);
        }
    }
}
