#version 450
// Writes the compute-rasterised points (points_raster.comp) into the render pass. Each pixel gathers the nearest point
// among its neighbours whose splat reaches it: a point at view depth w is a square of clamp(worldSize * focal / w,
// minPx, maxPx) pixels centred on its own pixel (the same size rule as points.vert). Writes colour and the point's depth,
// so the line layers drawn before are occluded correctly; pixels no splat reaches are discarded.
layout(std430, set = 0, binding = 1) readonly buffer Depth { uint value[]; } depth;
layout(std430, set = 0, binding = 2) readonly buffer Color { uint value[]; } color;

layout(push_constant) uniform Push
{
    layout(offset = 64) vec4 size;   // x: splat diameter in world units, y: focal px, z: min px, w: max px
    uvec4 dims;                      // x: width, y: height, z: gather radius in pixels (0..2)
    vec4 planes;                     // x: near, y: far
} pc;

layout(location = 0) out vec4 outColor;

void main()
{
    ivec2 p = ivec2(gl_FragCoord.xy);
    int r = int(pc.dims.z);
    float n = pc.planes.x, f = pc.planes.y;
    uint best = 0xFFFFFFFFu;
    uint bestIdx = 0u;
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++)
        {
            ivec2 q = p + ivec2(dx, dy);
            if (q.x < 0 || q.y < 0 || q.x >= int(pc.dims.x) || q.y >= int(pc.dims.y)) continue;
            uint idx = uint(q.y) * pc.dims.x + uint(q.x);
            uint d = depth.value[idx];
            if (d >= best) continue;
            // View depth from the [0, 1] depth of ViewCamera's projection: z = f/(f-n) - f n / ((f-n) w).
            float z = uintBitsToFloat(d);
            float w = f * n / (f - z * (f - n));
            float s = clamp(pc.size.x * pc.size.y / w, pc.size.z, pc.size.w);
            if (float(max(abs(dx), abs(dy))) > floor(s * 0.5)) continue;
            best = d;
            bestIdx = idx;
        }
    if (best == 0xFFFFFFFFu) discard;
    gl_FragDepth = uintBitsToFloat(best);
    outColor = vec4(unpackUnorm4x8(color.value[bestIdx]).rgb, 1.0);
}
