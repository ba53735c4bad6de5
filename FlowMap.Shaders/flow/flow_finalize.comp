#version 450
// Brings the flow and its confidence from the finest estimated level to full resolution in one pass:
// flow as flow_upsample.comp (pixel-centre aligned bilinear, scaled by the size ratio), confidence bilinear (unscaled).
// srcFlow: vec2[srcHeight, srcWidth]; srcConf: float[srcHeight, srcWidth]; dstFlow: vec2[dstHeight, dstWidth];
// dstConf: float[dstHeight, dstWidth]. Non-finite values become 0.
#include "common.glsl"
#include "flow/flow_common.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 0) readonly buffer SrcFlow { vec2 f[]; } srcFlow;
layout(std430, binding = 1) readonly buffer SrcConf { float v[]; } srcConf;
layout(std430, binding = 2) writeonly buffer DstFlow { vec2 f[]; } dstFlow;
layout(std430, binding = 3) writeonly buffer DstConf { float v[]; } dstConf;
layout(push_constant) uniform Push { int srcWidth; int srcHeight; int dstWidth; int dstHeight; } pc;

FLOWMAP_BILINEAR2(sampleFlow, srcFlow.f)
FLOWMAP_BILINEAR(sampleConf, srcConf.v)

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.dstWidth || y >= pc.dstHeight) return;
    vec2 scale = vec2(float(pc.srcWidth) / float(pc.dstWidth), float(pc.srcHeight) / float(pc.dstHeight));
    vec2 p = (vec2(x, y) + 0.5) * scale - 0.5;
    int i = y * pc.dstWidth + x;
    dstFlow.f[i] = finite2(sampleFlow(p, pc.srcWidth, pc.srcHeight) / scale);
    float c = sampleConf(p, pc.srcWidth, pc.srcHeight);
    dstConf.v[i] = isnan(c) || isinf(c) ? 0.0 : clamp(c, 0.0, 1.0);
}
