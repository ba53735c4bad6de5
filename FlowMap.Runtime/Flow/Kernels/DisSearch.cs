using System;
using System.Runtime.InteropServices;
using FlowMap.Gpu;

namespace FlowMap.Flow.Kernels
{
    /// <summary>
    /// Dense inverse search, the per-patch step (integer search + inverse-compositional Lucas-Kanade with mean
    /// normalisation), FlowMap.Shaders/flow/dis_search.comp. See the shader for the method.
    /// </summary>
    internal static class DisSearch
    {
        public const string Shader = "dis_search.comp";
        /// <summary>Largest patch side the shader holds (MAX_PATCH in dis_search.comp).</summary>
        public const int MaxPatch = 8;

        /// <summary>
        /// Levenberg damping of the Gauss-Newton step, eps = DampingRelative trace(H) + DampingFloor P^2 added to the
        /// diagonal of the mean-normalised Hessian H (DAMPING_RELATIVE, DAMPING_FLOOR in dis_search.comp). Relative: a
        /// direction with eigenvalue lambda takes the fraction lambda / (lambda + eps) of the Gauss-Newton step, at least
        /// 91 % when lambda >= 10 % of the trace, whatever the image contrast; only aperture directions (lambda below
        /// ~1 % of the trace) stay near the initial flow. The floor, 2.4e-7 per pixel, is E[g^2] of the Sobel / 8
        /// gradient of 8-bit rounding noise (0.1875 / (12 * 255^2)): patches with less gradient energy hold no motion.
        /// </summary>
        public const double DampingRelative = 0.01, DampingFloor = 2.4e-7;

        [StructLayout(LayoutKind.Sequential)]
        public struct Push { public int Width, Height, PatchSize, Stride, GridWidth, GridHeight, Iterations, SearchRadius; }

        /// <summary>Patches per row/column so that a grid of stride <paramref name="stride"/> covers <paramref name="size"/> pixels.</summary>
        public static int GridSize(int size, int patch, int stride) => Math.Max(1, (size - patch + stride - 1) / stride + 1);

        /// <param name="feat0">Features of I0 (FlowPrep).</param>
        /// <param name="quad1">Quads of I1 (FlowPrep).</param>
        public static void Record(CommandBatch batch, GpuContext ctx, GpuImage feat0, GpuImage quad1, GpuImage init, GpuImage patches, in Push push)
        {
            if (push.PatchSize > MaxPatch) throw new ArgumentException($"Patch size {push.PatchSize} is above the kernel's maximum {MaxPatch}.");
            if (push.PatchSize > push.Width || push.PatchSize > push.Height || push.PatchSize < 1)
                throw new ArgumentException($"Patch size {push.PatchSize} does not fit a {push.Width}x{push.Height} level.");
            if (patches.PixelCount < push.GridWidth * push.GridHeight || patches.Channels != 2) throw new ArgumentException("Patch flow buffer too small.");
            var k = ctx.Kernel(Shader, 8, 8);
            batch.Dispatch(k, ComputeKernel.Groups(push.GridWidth, k.LocalX), ComputeKernel.Groups(push.GridHeight, k.LocalY), 1,
                push, feat0.Buffer, quad1.Buffer, init.Buffer, patches.Buffer);
        }

        /// <summary>Mean-normalised SSD of the patch at (ox, oy) displaced by (ux, uy); <paramref name="meanT"/> = mean of the I0 patch.</summary>
        internal static double Cost(ReadOnlySpan<float> i0, ReadOnlySpan<float> i1, int w, int h, int ox, int oy, int p, double ux, double uy, double meanT)
        {
            double sw = 0, sww = 0, swt = 0, stt = 0;
            for (int j = 0; j < p; j++)
                for (int i = 0; i < p; i++)
                {
                    int qx = ox + i, qy = oy + j;
                    double t = i0[qy * w + qx] - meanT;
                    double v = FlowSampling.Bilinear(i1, w, h, 1, 0, qx + ux, qy + uy);
                    sw += v; sww += v * v; swt += v * t; stt += t * t;
                }
            double n = p * p;
            return sww - sw * sw / n - 2 * swt + stt;
        }

        /// <summary>double[gridHeight, gridWidth, 2] patch flows.</summary>
        public static double[] Reference(ReadOnlySpan<float> i0, ReadOnlySpan<float> grad0, ReadOnlySpan<float> i1, ReadOnlySpan<float> init, Push pc)
        {
            int w = pc.Width, h = pc.Height, P = pc.PatchSize;
            var result = new double[pc.GridWidth * pc.GridHeight * 2];
            for (int py = 0; py < pc.GridHeight; py++)
                for (int px = 0; px < pc.GridWidth; px++)
                {
                    int ox = Math.Min(px * pc.Stride, w - P), oy = Math.Min(py * pc.Stride, h - P);
                    int cx = ox + P / 2, cy = oy + P / 2;
                    double ux = FlowSampling.Finite(init[2 * (cy * w + cx)]), uy = FlowSampling.Finite(init[2 * (cy * w + cx) + 1]);
                    double n = P * P;
                    // 1. Template statistics.
                    double sumT = 0, sumTT = 0, sgx = 0, sgy = 0, hxx = 0, hxy = 0, hyy = 0;
                    for (int j = 0; j < P; j++)
                        for (int i = 0; i < P; i++)
                        {
                            int k = (oy + j) * w + ox + i;
                            double gx = grad0[2 * k], gy = grad0[2 * k + 1], t = i0[k];
                            sumT += t; sumTT += t * t; sgx += gx; sgy += gy;
                            hxx += gx * gx; hxy += gx * gy; hyy += gy * gy;
                        }
                    double meanT = sumT / n, stt = Math.Max(sumTT - sumT * meanT, 0);
                    hxx -= sgx * sgx / n; hxy -= sgx * sgy / n; hyy -= sgy * sgy / n;
                    double mgx = sgx / n, mgy = sgy / n;
                    double eps = DampingRelative * (hxx + hyy) + DampingFloor * n;
                    hxx += eps; hyy += eps;
                    double det = hxx * hyy - hxy * hxy;
                    double bestCost = pc.SearchRadius > 0 || pc.Iterations == 0 ? Cost(i0, i1, w, h, ox, oy, P, ux, uy, meanT) : double.MaxValue;
                    double bx = ux, by = uy;
                    // 2. Integer search around round(u0).
                    if (pc.SearchRadius > 0)
                    {
                        double baseX = Math.Floor(ux + 0.5), baseY = Math.Floor(uy + 0.5);
                        for (int dy = -pc.SearchRadius; dy <= pc.SearchRadius; dy++)
                            for (int dx = -pc.SearchRadius; dx <= pc.SearchRadius; dx++)
                            {
                                double c = Cost(i0, i1, w, h, ox, oy, P, baseX + dx, baseY + dy, meanT);
                                if (c < bestCost) { bestCost = c; bx = baseX + dx; by = baseY + dy; }
                            }
                        ux = bx; uy = by;
                    }
                    // (iterations stop once a step is below 0.01 px)
                    // 3. Inverse-compositional iterations; 4. keep the best visited flow.
                    bool converged = false;
                    for (int it = 0; it < pc.Iterations; it++)
                    {
                        double sw = 0, sww = 0, swt = 0, b0 = 0, b1 = 0;
                        for (int j = 0; j < P; j++)
                            for (int i = 0; i < P; i++)
                            {
                                int qx = ox + i, qy = oy + j, k = qy * w + qx;
                                double t = i0[k] - meanT;
                                double v = FlowSampling.Bilinear(i1, w, h, 1, 0, qx + ux, qy + uy);
                                sw += v; sww += v * v; swt += v * t;
                                // b = sum (g - mean g)(I1(x + u) - T), as the shader sums it (no cancelling sums).
                                b0 += (grad0[2 * k] - mgx) * (v - i0[k]); b1 += (grad0[2 * k + 1] - mgy) * (v - i0[k]);
                            }
                        double mw = sw / n;
                        double cost = sww - sw * mw - 2 * swt + stt;
                        if (cost < bestCost) { bestCost = cost; bx = ux; by = uy; }
                        double dux = (hyy * b0 - hxy * b1) / det, duy = (hxx * b1 - hxy * b0) / det;
                        ux -= dux; uy -= duy;
                        if (dux * dux + duy * duy < 1e-4) { converged = true; break; }
                    }
                    if (converged) { bx = ux; by = uy; }
                    else
                    {
                        double final = Cost(i0, i1, w, h, ox, oy, P, ux, uy, meanT);
                        if (final < bestCost) { bx = ux; by = uy; }
                    }
                    result[2 * (py * pc.GridWidth + px)] = FlowSampling.Finite(bx);
                    result[2 * (py * pc.GridWidth + px) + 1] = FlowSampling.Finite(by);
                }
            return result;
        }
    }
}
