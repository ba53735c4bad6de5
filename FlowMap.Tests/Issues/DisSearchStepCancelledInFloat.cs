using System;
using FlowMap.Flow.Kernels;
using FlowMap.Tests.Flow;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found by CI (FlowKernelTests.DisSearch_recovers_a_subpixel_translation, seed -1427865485): patch 117 at (48, 28), GPU
    /// (-0.4954, 0.2520), the double reference (-0.4946, 0.2553), the search's fixed point (-0.4937, 0.2589), contraction
    /// 0.29: the GPU 0.0069 px off where the stop rule allows 0.0041 px and the test 2e-3 px more for float32. Traced
    /// step by step: the GPU's first step already differed from the double reference's by 0.0025 px, and a float32
    /// emulation of the shader gave the GPU's iterates to 1e-4 px: float rounding, not a different algorithm. dis_search.comp
    /// summed the step's right-hand side as b = sum g w - mean(w) sum g - sum g (T - mean T): three sums of ~0.1-1, with
    /// rounding of ~1e-7 of that, where b near the solution is ~1e-6 and this patch's Hessian has a weak direction
    /// (eigenvalue ~2e-4, the texture nearly one-dimensional there): its fixed point moved by ~3e-3 px. The same b is
    /// sum (g - mean g)(I1(x + u) - T) (the centred gradient sums to zero), a sum of products with the residual itself,
    /// which is what the kernel now sums. The test's fixed float allowance is now each patch's own bound
    /// (SubpixelShift.Predict, step 4).
    /// </summary>
    public sealed class DisSearchStepCancelledInFloat : GpuTest
    {
        private readonly ITestOutputHelper _out;
        public DisSearchStepCancelledInFloat(GpuFixture f, ITestOutputHelper output) : base(f) { _out = output; }

        private const int Seed = -1427865485, W = 61, H = 47, P = 8, Ox = 48, Oy = 28;

        private static SubpixelShift Shift()
        {
            var (tx, ty) = SubpixelShift.DrawShift(new Random(Seed));
            return new SubpixelShift(new Random(Seed), W, H, tx, ty, 16);
        }

        /// <summary>The shader's iterations from u = 0 in float32 (C# float arithmetic is IEEE single), its stop rule (a step
        /// under 0.01 px), with b summed the old way (cancelling sums) or the new (centred gradient times residual).</summary>
        private static (float U, float V) Float32Search(SubpixelShift s, bool cancellingSums)
        {
            var (f0, _) = FlowPrep.ReferenceFloats(s.I0, W, H);
            var (_, q1) = FlowPrep.ReferenceFloats(s.I1, W, H);
            float n = P * P, sumT = 0, sgx = 0, sgy = 0;
            for (int j = 0; j < P; j++)
                for (int i = 0; i < P; i++)
                {
                    int k = 4 * ((Oy + j) * W + Ox + i);
                    sumT += f0[k]; sgx += f0[k + 1]; sgy += f0[k + 2];
                }
            float meanT = sumT / n, mgx = sgx / n, mgy = sgy / n, hxx = 0, hxy = 0, hyy = 0, gtx = 0, gty = 0;
            for (int j = 0; j < P; j++)
                for (int i = 0; i < P; i++)
                {
                    int k = 4 * ((Oy + j) * W + Ox + i);
                    float t = f0[k] - meanT, cx = f0[k + 1] - mgx, cy = f0[k + 2] - mgy;
                    gtx += f0[k + 1] * t; gty += f0[k + 2] * t;
                    hxx += cx * cx; hxy += cx * cy; hyy += cy * cy;
                }
            float eps = (float)DisSearch.DampingRelative * (hxx + hyy) + (float)DisSearch.DampingFloor * n;
            hxx += eps; hyy += eps;
            float det = hxx * hyy - hxy * hxy, u = 0, v = 0;
            for (int it = 0; it < 10; it++)
            {
                float sw = 0, gwx = 0, gwy = 0, bx = 0, by = 0;
                for (int j = 0; j < P; j++)
                    for (int i = 0; i < P; i++)
                    {
                        int k = 4 * ((Oy + j) * W + Ox + i);
                        float px = Ox + i + u, py = Oy + j + v;
                        int x0 = (int)px, y0 = (int)py;
                        float ax = px - x0, ay = py - y0;
                        int q = 4 * (y0 * W + x0);
                        float s1 = (q1[q] * (1 - ax) + q1[q + 1] * ax) * (1 - ay) + (q1[q + 2] * (1 - ax) + q1[q + 3] * ax) * ay;
                        float w = s1 - meanT;
                        sw += w; gwx += f0[k + 1] * w; gwy += f0[k + 2] * w;
                        bx += (f0[k + 1] - mgx) * (s1 - f0[k]); by += (f0[k + 2] - mgy) * (s1 - f0[k]);
                    }
                if (cancellingSums) { float mw = sw / n; bx = gwx - mw * sgx - gtx; by = gwy - mw * sgy - gty; }
                float du = (hyy * bx - hxy * by) / det, dv = (hxx * by - hxy * bx) / det;
                u -= du; v -= dv;
                if (du * du + dv * dv < 1e-4f) break;
            }
            return (u, v);
        }

        [Fact]
        public void The_old_sums_left_the_float_search_beyond_its_bound_the_new_ones_do_not()
        {
            var s = Shift();
            var p = s.Predict(Ox, Oy, P);
            double tol = 0.01 * p.Contraction / (1 - p.Contraction);
            double Err((float U, float V) r) => Math.Max(Math.Abs(r.U - p.U), Math.Abs(r.V - p.V));
            var old = Float32Search(s, cancellingSums: true);
            var now = Float32Search(s, cancellingSums: false);
            _out.WriteLine($"fixed point ({p.U:F5}, {p.V:F5}), contraction {p.Contraction:F3}, stop {tol:F5} px, float bound {p.FloatBound:F5} px; " +
                $"old sums ({old.U:F5}, {old.V:F5}) off {Err(old):F5}, new ({now.U:F5}, {now.V:F5}) off {Err(now):F5}");
            Assert.True(p.Contraction <= 0.5 && p.FloatBound < 2e-3, $"contraction {p.Contraction:F3}, float bound {p.FloatBound:E3}");
            // The failure, reproduced in float32 on the CPU: beyond even the patch's own float bound.
            Assert.True(Err(old) > tol + p.FloatBound, $"old sums: ({old.U:F5}, {old.V:F5}) off by {Err(old):F5} px, allowed {tol:F4} + {p.FloatBound:F4}");
            Assert.True(Err(now) <= tol + p.FloatBound, $"new sums: ({now.U:F5}, {now.V:F5}) off by {Err(now):F5} px, allowed {tol:F4} + {p.FloatBound:F4}");
        }

        [Fact]
        public void The_kernel_finds_the_failing_seeds_shift()
        {
            var s = Shift();
            var push = new DisSearch.Push { Width = W, Height = H, PatchSize = P, Stride = 4, GridWidth = DisSearch.GridSize(W, P, 4), GridHeight = DisSearch.GridSize(H, P, 4), Iterations = 10 };
            var gpu = SubpixelShift.SearchOnGpu(Ctx, s, push);
            var cpu = DisSearch.Reference(s.I0, s.Grad0, s.I1, new float[W * H * 2], push);
            var (checkedPatches, _) = SubpixelShift.CheckPatches(s, push, gpu, cpu, $"seed {Seed}");
            Assert.True(checkedPatches > 0);
        }
    }
}
