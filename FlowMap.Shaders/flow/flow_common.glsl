// Helpers shared by the optical-flow kernels (FlowMap.Shaders/flow). Images: float[height, width] row-major;
// flows: vec2[height, width] in pixels; pixel centres at integer coordinates; sampling clamps to the edge.
#ifndef FLOWMAP_FLOW_COMMON_GLSL
#define FLOWMAP_FLOW_COMMON_GLSL

// Bilinear sample of a scalar image with clamp-to-edge (same rule as imaging/warp.comp).
#define FLOWMAP_BILINEAR(NAME, BUF)                                                        \
float NAME(vec2 p, int w, int h)                                                           \
{                                                                                          \
    p = clamp(p, vec2(0.0), vec2(float(w - 1), float(h - 1)));                            \
    int x0 = min(int(p.x), w - 1), y0 = min(int(p.y), h - 1);                              \
    int x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1);                                  \
    float ax = p.x - float(x0), ay = p.y - float(y0);                                      \
    float top = mix(BUF[y0 * w + x0], BUF[y0 * w + x1], ax);                               \
    float bot = mix(BUF[y1 * w + x0], BUF[y1 * w + x1], ax);                               \
    return mix(top, bot, ay);                                                              \
}

// Bilinear sample of a vec2 field with clamp-to-edge.
#define FLOWMAP_BILINEAR2(NAME, BUF)                                                       \
vec2 NAME(vec2 p, int w, int h)                                                            \
{                                                                                          \
    p = clamp(p, vec2(0.0), vec2(float(w - 1), float(h - 1)));                            \
    int x0 = min(int(p.x), w - 1), y0 = min(int(p.y), h - 1);                              \
    int x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1);                                  \
    float ax = p.x - float(x0), ay = p.y - float(y0);                                      \
    vec2 top = mix(BUF[y0 * w + x0], BUF[y0 * w + x1], ax);                                \
    vec2 bot = mix(BUF[y1 * w + x0], BUF[y1 * w + x1], ax);                                \
    return mix(top, bot, ay);                                                              \
}

// Bilinear sample with clamp-to-edge from a quad image (flow_prep.comp): one vec4 load.
#define FLOWMAP_BILINEAR_QUAD(NAME, BUF)                                                   \
float NAME(vec2 p, int w, int h)                                                           \
{                                                                                          \
    p = clamp(p, vec2(0.0), vec2(float(w - 1), float(h - 1)));                            \
    int x0 = min(int(p.x), w - 1), y0 = min(int(p.y), h - 1);                              \
    vec2 a = p - vec2(x0, y0);                                                             \
    vec4 q = BUF[y0 * w + x0];                                                             \
    return mix(mix(q.x, q.y, a.x), mix(q.z, q.w, a.x), a.y);                               \
}

// Replaces NaN/Inf by 0 so a non-finite value never propagates.
vec2 finite2(vec2 v) { return vec2(isnan(v.x) || isinf(v.x) ? 0.0 : v.x, isnan(v.y) || isinf(v.y) ? 0.0 : v.y); }

#endif
