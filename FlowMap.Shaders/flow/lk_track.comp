#version 450
// Sparse pyramidal Lucas-Kanade (Bouguet's pyramidal implementation of the tracker, with a brightness offset): one
// invocation per grid cell tracks that cell's keyframe point into the frame, then back from where it landed into the
// keyframe at level 0, starting at the point itself (Kalal et al.'s forward-backward error: a false match's frame window
// is not matched at the point, and the backward steps leave it).
//
// Pyramids: levels concatenated in one float buffer, level 0 = width x height, level l+1 = ceil-halved level l by a 2x2
// box (imaging/downsample2x.comp), so a level-0 position p is at (p + 0.5) / 2^l - 0.5 on level l. Sampling is bilinear
// with clamp-to-edge (flow/flow_common.glsl's rule).
//
// Per level, coarse to fine, the displacement d of the window (side 2 radius + 1) is found by Gauss-Newton on
//   sum_w (B(p + w + d) - A(p + w) - b)^2
// over (d, b) with A's gradient (central differences of bilinear samples 1 px apart) held fixed (inverse compositional);
// b, the brightness offset, is eliminated in closed form (gradients and residuals taken about their window means).
// Steps stop after `iterations` or when one moves less than 1e-3 px (0.05 px on coarser levels, which only need to bring
// the next level within reach); d carries to the next level doubled.
// A window whose centred structure tensor has det <= 1e-12 (no texture), or a displacement leaving the level, is lost.
//
// pts:  vec4 per cell (x, y, guess dx, guess dy), level-0 pixels; x < 0: the cell has no point.
// outp: vec4 per cell (x', y', fb, rms): x', y' the tracked position in the frame; fb the forward-backward error (px,
//       level 0), -1 when lost either way; rms the residual at level 0 after the brightness offset (intensity units).
#include "common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer Key { float v[]; } key;
layout(std430, binding = 1) readonly buffer Frm { float v[]; } frm;
layout(std430, binding = 2) readonly buffer Pts { vec4 p[]; } pts;
layout(std430, binding = 3) writeonly buffer Out { vec4 o[]; } outp;
layout(push_constant) uniform Push { int width; int height; int levels; int gridWidth; int gridHeight; int radius; int iterations; } pc;

const int MAX_RADIUS = 5;

float sampleKey(int off, int w, int h, vec2 p)
{
    p = clamp(p, vec2(0.0), vec2(float(w - 1), float(h - 1)));
    int x0 = min(int(p.x), w - 1), y0 = min(int(p.y), h - 1);
    int x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1);
    float ax = p.x - float(x0), ay = p.y - float(y0);
    return mix(mix(key.v[off + y0 * w + x0], key.v[off + y0 * w + x1], ax), mix(key.v[off + y1 * w + x0], key.v[off + y1 * w + x1], ax), ay);
}

float sampleFrm(int off, int w, int h, vec2 p)
{
    p = clamp(p, vec2(0.0), vec2(float(w - 1), float(h - 1)));
    int x0 = min(int(p.x), w - 1), y0 = min(int(p.y), h - 1);
    int x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1);
    float ax = p.x - float(x0), ay = p.y - float(y0);
    return mix(mix(frm.v[off + y0 * w + x0], frm.v[off + y0 * w + x1], ax), mix(frm.v[off + y1 * w + x0], frm.v[off + y1 * w + x1], ax), ay);
}

// Template (a) and target (b) samples: forward the keyframe is the template, backward the frame.
float sampleA(bool backward, int off, int w, int h, vec2 p) { return backward ? sampleFrm(off, w, h, p) : sampleKey(off, w, h, p); }
float sampleB(bool backward, int off, int w, int h, vec2 p) { return backward ? sampleKey(off, w, h, p) : sampleFrm(off, w, h, p); }

// The template window with a one-pixel border (side + 2 squared samples): gradients are differences of its neighbours.
float T[(2 * MAX_RADIUS + 3) * (2 * MAX_RADIUS + 3)];

// Tracks p (level 0) from A into B from the level-0 displacement guess g, through levels top..0; returns the displacement,
// ok = false when lost.
vec2 track(bool backward, vec2 p, vec2 g, int top, out float rms, out bool ok)
{
    ok = true;
    rms = 0.0;
    int R = pc.radius, side = 2 * R + 1, tside = side + 2;
    float n = float(side * side);
    vec2 d = vec2(0.0);
    for (int l = top; l >= 0; l--)
    {
        int w = pc.width, h = pc.height, off = 0;
        for (int i = 0; i < l; i++) { off += w * h; w = (w + 1) / 2; h = (h + 1) / 2; }
        float s = float(1 << l);
        vec2 pl = (p + 0.5) / s - 0.5;
        d = l == top ? g / s : 2.0 * d;
        // The template with its border, and the centred structure tensor of its central differences.
        for (int j = 0; j < tside; j++)
            for (int i = 0; i < tside; i++)
                T[j * tside + i] = sampleA(backward, off, w, h, pl + vec2(i - R - 1, j - R - 1));
        float sx = 0.0, sy = 0.0, hxx = 0.0, hxy = 0.0, hyy = 0.0;
        for (int j = 1; j <= side; j++)
            for (int i = 1; i <= side; i++)
            {
                int k = j * tside + i;
                float gx = 0.5 * (T[k + 1] - T[k - 1]), gy = 0.5 * (T[k + tside] - T[k - tside]);
                sx += gx; sy += gy; hxx += gx * gx; hxy += gx * gy; hyy += gy * gy;
            }
        hxx -= sx * sx / n; hxy -= sx * sy / n; hyy -= sy * sy / n;
        float det = hxx * hyy - hxy * hxy;
        if (!(det > 1e-12)) { ok = false; return d * s; }
        // Coarser levels only need to bring the next one within reach: they stop at 0.05 px, level 0 at 1e-3 px.
        float stop2 = l == 0 ? 1e-6 : 2.5e-3;
        for (int it = 0; it < pc.iterations; it++)
        {
            float sr = 0.0, sgr = 0.0, shr = 0.0;
            for (int j = 1; j <= side; j++)
                for (int i = 1; i <= side; i++)
                {
                    int k = j * tside + i;
                    float r = sampleB(backward, off, w, h, pl + vec2(i - R - 1, j - R - 1) + d) - T[k];
                    sr += r; sgr += 0.5 * (T[k + 1] - T[k - 1]) * r; shr += 0.5 * (T[k + tside] - T[k - tside]) * r;
                }
            // The centred right-hand side (the offset b eliminated), and the 2x2 solve.
            float bx = -(sgr - sx * sr / n), by = -(shr - sy * sr / n);
            vec2 step = vec2(hyy * bx - hxy * by, hxx * by - hxy * bx) / det;
            d += step;
            if (!(abs(d.x) < float(w) && abs(d.y) < float(h))) { ok = false; return d * s; }
            if (dot(step, step) < stop2) break;
        }
        if (l == 0)
        {
            float sr = 0.0, sq = 0.0;
            for (int j = 1; j <= side; j++)
                for (int i = 1; i <= side; i++)
                {
                    float r = sampleB(backward, off, w, h, pl + vec2(i - R - 1, j - R - 1) + d) - T[j * tside + i];
                    sr += r; sq += r * r;
                }
            rms = sqrt(max(sq / n - (sr / n) * (sr / n), 0.0));
        }
    }
    return d;
}

void main()
{
    int cx = int(gl_GlobalInvocationID.x), cy = int(gl_GlobalInvocationID.y);
    if (cx >= pc.gridWidth || cy >= pc.gridHeight) return;
    int idx = cy * pc.gridWidth + cx;
    vec4 P = pts.p[idx];
    if (P.x < 0.0) { outp.o[idx] = vec4(P.xy, -1.0, 0.0); return; }
    float rms, rmsBack;
    bool ok, okBack;
    vec2 d = track(false, P.xy, P.zw, pc.levels - 1, rms, ok);
    vec2 q = P.xy + d;
    if (!ok || !(q.x >= 0.0 && q.y >= 0.0 && q.x <= float(pc.width - 1) && q.y <= float(pc.height - 1)))
    {
        outp.o[idx] = vec4(ok ? q : P.xy, -1.0, rms);
        return;
    }
    vec2 back = track(true, q, -d, 0, rmsBack, okBack);
    outp.o[idx] = vec4(q, okBack ? length(q + back - P.xy) : -1.0, rms);
}
