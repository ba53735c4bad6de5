// Analytic indoor scene for the synthetic generator: ray casting against boxes (rotated about y), vertical cylinders
// and spheres, and band-limited procedural textures. The C# double-precision reference is
// FlowMap.Runtime/Synthetic/SceneRaycaster.cs: keep the two line for line in step.
//
// World axes as the camera at identity (OpenCV): x right, y down, z forward; metres.
// Scene buffer: vec4[2 * nodeCount + 5 * primCount]. First a bounding-volume hierarchy in depth-first order, node
// n = (lo.xyz, leaf), (hi.xyz, skip): leaf = 8 * first primitive + count for a leaf, -1 for an interior node; skip = the
// index of the node after n's subtree (SceneBvh in C#). Its boxes are padded so that culling never drops a primitive
// either precision would hit. Then the primitives,
// 5 vec4 each (80 bytes), see SyntheticPrimitive in C#:
//   p0 = (centre.xyz, kind)            kind 0 box, 1 cylinder (axis y), 2 sphere
//   p1 = (half.xyz, unused)           box half extents; cylinder (radius, half height, -); sphere (radius, -, -)
//   p2 = (cos yaw, sin yaw, pattern, cell)   pattern 0 noise only, 1 checker, 2 stripes u, 3 stripes v; cell in metres
//   p3 = (colour A.rgb, noise frequency per metre)
//   p4 = (colour B.rgb, texture seed as float)
#ifndef FLOWMAP_SYNTH_SCENE_GLSL
#define FLOWMAP_SYNTH_SCENE_GLSL

struct SynthPrim { vec4 p0; vec4 p1; vec4 p2; vec4 p3; vec4 p4; };

layout(std430, binding = 0) readonly buffer Scene { vec4 v[]; } scene;

SynthPrim synthPrim(int nodeCount, int i)
{
    int b = 2 * nodeCount + 5 * i;
    return SynthPrim(scene.v[b], scene.v[b + 1], scene.v[b + 2], scene.v[b + 3], scene.v[b + 4]);
}

const float SYNTH_TMIN = 1e-3;
const float SYNTH_FAR = 1e30;

// Integer hash (lowbias32, after Chris Wellons' hash-prospector).
uint synthHash(uint x)
{
    x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
    return x;
}

float synthLattice(ivec3 c, uint seed)
{
    uint h = synthHash((uint(c.x) * 0x8da6b343u) ^ (uint(c.y) * 0xd8163841u) ^ (uint(c.z) * 0xcb1ab31fu) ^ seed);
    return float(h >> 8) * (1.0 / 16777216.0);
}

// Value noise in [0, 1], C1 (smoothstep) interpolation of hashed lattice values.
float synthValueNoise(vec3 p, uint seed)
{
    vec3 i = floor(p);
    vec3 f = p - i;
    vec3 u = f * f * (3.0 - 2.0 * f);
    ivec3 c = ivec3(i);
    float a = mix(synthLattice(c, seed), synthLattice(c + ivec3(1, 0, 0), seed), u.x);
    float b = mix(synthLattice(c + ivec3(0, 1, 0), seed), synthLattice(c + ivec3(1, 1, 0), seed), u.x);
    float d = mix(synthLattice(c + ivec3(0, 0, 1), seed), synthLattice(c + ivec3(1, 0, 1), seed), u.x);
    float e = mix(synthLattice(c + ivec3(0, 1, 1), seed), synthLattice(c + ivec3(1, 1, 1), seed), u.x);
    return mix(mix(a, b, u.y), mix(d, e, u.y), u.z);
}

// Six octaves of value noise; an octave whose lattice is finer than the sample footprint w (metres) fades to its mean,
// so the texture is band-limited at every distance (no aliasing, so flow truth is meaningful).
float synthFbm(vec3 p, float freq, float w, uint seed)
{
    float sum = 0.0, amp = 0.5;
    for (int k = 0; k < 6; k++)
    {
        float s = freq * w;
        float fade = 1.0 - smoothstep(0.25, 0.5, s);
        float n = fade > 0.0 ? synthValueNoise(p * freq, seed + uint(k) * 0x9e3779b9u) : 0.5;
        sum += amp * mix(0.5, n, fade);
        freq *= 2.0; amp *= 0.5;
    }
    return sum / 0.984375;
}

// Box-filtered square wave (+1 / -1, period 2 cells) over a window of w cells (after Inigo Quilez, "filterable procedurals").
float synthSquare(float p, float w)
{
    return 2.0 * (abs(fract((p - 0.5 * w) * 0.5) - 0.5) - abs(fract((p + 0.5 * w) * 0.5) - 0.5)) / w;
}

struct SynthHit { float t; int prim; vec3 n; vec2 uv; };

vec3 synthToLocal(SynthPrim q, vec3 v) { return vec3(q.p2.x * v.x - q.p2.y * v.z, v.y, q.p2.y * v.x + q.p2.x * v.z); }
vec3 synthToWorld(SynthPrim q, vec3 v) { return vec3(q.p2.x * v.x + q.p2.y * v.z, v.y, -q.p2.y * v.x + q.p2.x * v.z); }

float synthSafeInv(float d) { return 1.0 / (abs(d) < 1e-12 ? (d < 0.0 ? -1e-12 : 1e-12) : d); }

// Intersects primitive i (record q) and keeps the hit in best when it is nearer.
void synthIntersect(SynthPrim q, int i, vec3 o, vec3 d, inout SynthHit best)
{
    {
        int kind = int(q.p0.w);
        vec3 c = q.p0.xyz;
        if (kind == 0)
        {
            vec3 lo = synthToLocal(q, o - c), ld = synthToLocal(q, d);
            vec3 inv = vec3(synthSafeInv(ld.x), synthSafeInv(ld.y), synthSafeInv(ld.z));
            vec3 ta = (-q.p1.xyz - lo) * inv, tb = (q.p1.xyz - lo) * inv;
            vec3 tn = min(ta, tb), tf = max(ta, tb);
            float tEnter = max(tn.x, max(tn.y, tn.z)), tExit = min(tf.x, min(tf.y, tf.z));
            if (tEnter <= tExit && tEnter > SYNTH_TMIN && tEnter < best.t)
            {
                int axis = tn.x >= tn.y && tn.x >= tn.z ? 0 : (tn.y >= tn.z ? 1 : 2);
                vec3 lp = lo + tEnter * ld;
                vec3 ln = vec3(0.0);
                ln[axis] = ld[axis] < 0.0 ? 1.0 : -1.0;
                best.t = tEnter; best.prim = i; best.n = synthToWorld(q, ln);
                best.uv = axis == 0 ? lp.zy : (axis == 1 ? lp.xz : lp.xy);
            }
        }
        else if (kind == 1)
        {
            float r = q.p1.x, hh = q.p1.y;
            vec3 lo = o - c;
            float a = d.x * d.x + d.z * d.z;
            float b = lo.x * d.x + lo.z * d.z;
            float cc = lo.x * lo.x + lo.z * lo.z - r * r;
            float disc = b * b - a * cc;
            if (a > 1e-12 && disc >= 0.0)
            {
                float t = (-b - sqrt(disc)) / a;
                float y = lo.y + t * d.y;
                if (t > SYNTH_TMIN && t < best.t && abs(y) <= hh)
                {
                    vec3 lp = lo + t * d;
                    best.t = t; best.prim = i; best.n = vec3(lp.x / r, 0.0, lp.z / r);
                    best.uv = vec2(lp.y, lp.x + lp.z);
                }
            }
            if (abs(d.y) > 1e-12)
            {
                float capY = lo.y > 0.0 ? hh : -hh;
                float t = (capY - lo.y) / d.y;
                vec3 lp = lo + t * d;
                if (t > SYNTH_TMIN && t < best.t && lp.x * lp.x + lp.z * lp.z <= r * r)
                {
                    best.t = t; best.prim = i; best.n = vec3(0.0, capY > 0.0 ? 1.0 : -1.0, 0.0);
                    best.uv = lp.xz;
                }
            }
        }
        else
        {
            float r = q.p1.x;
            vec3 lo = o - c;
            float a = dot(d, d), b = dot(lo, d), cc = dot(lo, lo) - r * r;
            float disc = b * b - a * cc;
            if (disc >= 0.0)
            {
                float t = (-b - sqrt(disc)) / a;
                if (t > SYNTH_TMIN && t < best.t)
                {
                    vec3 lp = lo + t * d;
                    best.t = t; best.prim = i; best.n = lp / r;
                    best.uv = vec2(lp.y, lp.x + lp.z);
                }
            }
        }
    }
}

// Nearest hit along o + t d with t > SYNTH_TMIN; prim = -1 when nothing is hit. Stackless walk of the hierarchy in
// depth-first order: a node whose box the ray misses, or enters beyond the nearest hit so far, jumps to its skip index
// (the node after its subtree); otherwise the walk descends to the next node.
SynthHit synthTrace(vec3 o, vec3 d, int nodeCount)
{
    SynthHit best; best.t = SYNTH_FAR; best.prim = -1; best.n = vec3(0.0); best.uv = vec2(0.0);
    vec3 inv = vec3(synthSafeInv(d.x), synthSafeInv(d.y), synthSafeInv(d.z));
    int n = 0;
    while (n < nodeCount)
    {
        vec4 lo = scene.v[2 * n], hi = scene.v[2 * n + 1];
        vec3 ta = (lo.xyz - o) * inv, tb = (hi.xyz - o) * inv;
        vec3 tn = min(ta, tb), tf = max(ta, tb);
        float t0 = max(tn.x, max(tn.y, tn.z)), t1 = min(tf.x, min(tf.y, tf.z));
        if (t1 < max(t0, 0.0) || t0 >= best.t) { n = int(hi.w); continue; }
        int leaf = int(lo.w);
        if (leaf >= 0)
        {
            int first = leaf >> 3, count = leaf & 7;
            for (int i = first; i < first + count; i++) synthIntersect(synthPrim(nodeCount, i), i, o, d, best);
        }
        n++;
    }
    return best;
}

// Albedo of the surface point p (world) with texture coordinates uv (metres), for a sample footprint w (metres).
vec3 synthAlbedo(SynthPrim q, vec3 p, vec2 uv, float w)
{
    uint seed = uint(q.p4.w);
    float n = synthFbm(p, q.p3.w, w, seed);
    int pattern = int(q.p2.z);
    float cell = q.p2.w;
    float pat = 0.0;
    float wc = max(w / cell, 1e-3);
    if (pattern == 1) pat = 0.5 - 0.5 * synthSquare(uv.x / cell, wc) * synthSquare(uv.y / cell, wc);
    else if (pattern == 2) pat = 0.5 + 0.5 * synthSquare(uv.x / cell, wc);
    else if (pattern == 3) pat = 0.5 + 0.5 * synthSquare(uv.y / cell, wc);
    return mix(q.p3.xyz, q.p4.xyz, pat) * (0.55 + 0.9 * n);
}

// Diffuse shading from two point lights (xyz, intensity) plus ambient: depends on the surface point only, never on
// the viewer, so a point has the same colour in every frame (brightness constancy).
float synthShade(vec3 p, vec3 n, vec4 l0, vec4 l1)
{
    vec3 d0 = l0.xyz - p, d1 = l1.xyz - p;
    float q0 = dot(d0, d0), q1 = dot(d1, d1);
    float s0 = max(dot(n, d0), 0.0) * inversesqrt(q0) * l0.w / (1.0 + 0.04 * q0);
    float s1 = max(dot(n, d1), 0.0) * inversesqrt(q1) * l1.w / (1.0 + 0.04 * q1);
    return 0.35 + s0 + s1;
}

// Camera model (C# reference: Intrinsics.TryUndistort in FlowMap.Runtime/Core/Intrinsics.cs). One radial coefficient
// k1 (COLMAP SIMPLE_RADIAL): a normalised undistorted point x maps to the distorted x (1 + k1 |x|^2).
// synthUndistort inverts it for a distorted normalised point xd: Newton on g(r) = r (1 + k1 r^2) - |xd| from r = |xd|,
// monotone towards the root for either sign of k1 (the host checks that the image lies inside the invertible domain).
// k1 = 0 returns xd unchanged (bit for bit the pinhole).
vec2 synthUndistort(vec2 xd, float k1)
{
    float rd = length(xd);
    if (k1 == 0.0 || rd == 0.0) return xd;
    float r = rd;
    for (int i = 0; i < 40; i++)
    {
        float dg = 1.0 + 3.0 * k1 * r * r;
        if (!(dg > 0.0)) break;
        float step = (r * (1.0 + k1 * r * r) - rd) / dg;
        r -= step;
        if (!(abs(step) > 1e-7 * r)) break;
    }
    return xd * (r / rd);
}

// Texture footprint scale of the distortion at the undistorted normalised point x: a pixel covers 1 / (smallest
// singular value of d(distorted)/d(undistorted)) times the pinhole's extent; the singular values are 1 + 3 k1 r^2
// (radial) and 1 + k1 r^2 (tangential). Exactly 1 when k1 = 0.
float synthFootprintScale(vec2 x, float k1)
{
    float r2 = dot(x, x);
    return 1.0 / max(min(1.0 + 3.0 * k1 * r2, 1.0 + k1 * r2), 1e-3);
}

#endif
