using System;
using System.Collections.Generic;
using System.Threading;
using FlowMap.Flow;
using FlowMap.Reconstruction;
using FlowMap.Solve;
using Xunit;

namespace FlowMap.Tests.Reconstruction
{
    public sealed class SolverResolutionTests
    {
        private sealed class Recorder : IWindowSolver
        {
            public SolverWindow? Seen;
            public SolverWarmStart? Warm;
            public SolverResult Solve(SolverWindow window, SolverOptions options, SolverWarmStart? warmStart = null, CancellationToken token = default)
            {
                Seen = window; Warm = warmStart;
                var d = new FloatImage[window.Count]; var c = new FloatImage[window.Count]; var p = new CameraPose[window.Count];
                for (int i = 0; i < window.Count; i++)
                {
                    d[i] = new FloatImage(window.Width, window.Height); Array.Fill(d[i].Data, 2f);
                    c[i] = new FloatImage(window.Width, window.Height); Array.Fill(c[i].Data, 0.5f);
                    p[i] = CameraPose.Identity;
                }
                return new SolverResult { Poses = p, Depth = d, Confidence = c, Focal = 50 };
            }
            public void Dispose() { }
        }

        [Fact]
        public void Factor_brings_the_window_under_the_budget()
        {
            Assert.Equal(1, SolverResolution.Factor(64, 48, 5000));
            Assert.Equal(3, SolverResolution.Factor(320, 240, 110 * 80));
            Assert.True(320 / 3 * (240 / 3) <= 110 * 80);
        }

        [Fact]
        public void Shrinks_flow_and_focal_and_brings_depth_back()
        {
            int W = 40, H = 30;
            var f = new FlowField(W, H);
            for (int i = 0; i < W * H; i++) { f.Data[2 * i] = 4; f.Data[2 * i + 1] = -2; }
            var one = new FloatImage(W, H); Array.Fill(one.Data, 1f);
            var window = new SolverWindow(new[] { new RgbImage(W, H), new RgbImage(W, H) }, new[] { new FlowResult(f, f, one, one) }, null, fixedFocal: 60);
            var rec = new Recorder();
            var warm = new SolverWarmStart { InitialDepth = new FloatImage?[] { one, null }, Focal = 60, FrozenFrames = 1 };
            var r = SolverResolution.Solve(rec, window, new SolverOptions(), warm, 2, default);
            Assert.Equal(20, rec.Seen!.Width); Assert.Equal(15, rec.Seen.Height);
            Assert.Equal(2f, rec.Seen.Pairs[0].Forward.U(3, 3), 5);
            Assert.Equal(-1f, rec.Seen.Pairs[0].Forward.V(3, 3), 5);
            Assert.Equal(30, rec.Seen.FixedFocal!.Value, 9);
            Assert.Equal(30, rec.Warm!.Focal!.Value, 9);
            Assert.Equal(20, rec.Warm.InitialDepth![0]!.Width);
            Assert.Null(rec.Warm.InitialDepth[1]);
            Assert.Equal(W, r.Depth[0].Width); Assert.Equal(H, r.Depth[1].Height);
            Assert.Equal(2f, r.Depth[1][17, 9], 5);
            Assert.Equal(60, r.Focal, 9);
        }
    }
}
