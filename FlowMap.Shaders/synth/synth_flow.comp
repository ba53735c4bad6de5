#version 450
// True optical flow and occlusion from frame a to frame b of the synthetic scene
// (FlowMap.Runtime/Synthetic/SynthKernels.cs, SynthFlow.Reference, is the double-precision reference).
//   depthA:    float[height, width], z-depth of frame a (0 = no surface: flow 0, occluded).
//   flow:      vec2[height, width], pixels: pixel (x, y) of a moves to (x + u, y + v) in b.
//   occlusion: float[height, width], 1 where the surface point of a is not visible in b, else 0.
// Camera: pinhole with one radial coefficient k1 (SIMPLE_RADIAL; Intrinsics.cs in C#).
// Step 1: back-project the pixel centre along its undistorted ray with its depth (camera a), map to camera b with the
//         relative transform X_b = R_ba X_a + t_ba (rows rel0..rel2 = (R_ba row i, t_ba i), composed in double on the
//         host), project: normalised x = X_b / Z_b, distorted x (1 + k1 |x|^2), pixels.
// Step 2: occluded when X_b is behind b, beyond the distortion's fold (k1 < 0 and -3 k1 |x|^2 >= 1), projects outside
//         b's image area [-0.5, w-0.5] x [-0.5, h-0.5], or a ray cast from b's centre towards the point hits a surface
//         nearer than the point's z-depth in b by more than tolerance * z (the exact depth of b at that sub-pixel
//         position, from the analytic scene).
// Camera b's camera-to-world pose: poseB0, poseB1 = (R_b row i, T_b i); R_b's row 2 is row 0 x row 1 (a rotation),
// T_b z is poseBz (this keeps the push block within the 128 bytes every Vulkan device offers).
#include "common.glsl"
#include "synth/synth_scene.glsl"
FLOWMAP_LOCAL_SIZE_2D

layout(std430, binding = 1) readonly buffer DepthA { float v[]; } depthA;
layout(std430, binding = 2) writeonly buffer Flow { vec2 v[]; } flow;
layout(std430, binding = 3) writeonly buffer Occlusion { float v[]; } occlusion;
layout(push_constant) uniform Push
{
    int width; int height; int nodeCount; float tolerance;
    float fx; float fy; float cx; float cy;
    vec4 rel0; vec4 rel1; vec4 rel2;
    vec4 poseB0; vec4 poseB1;
    float poseBz; float k1;
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.width || y >= pc.height) return;
    int i = y * pc.width + x;
    float z = depthA.v[i];
    if (!(z > 0.0))
    {
        flow.v[i] = vec2(0.0);
        occlusion.v[i] = 1.0;
        return;
    }
    vec3 pa = vec3(synthUndistort(vec2((float(x) - pc.cx) / pc.fx, (float(y) - pc.cy) / pc.fy), pc.k1) * z, z);
    vec3 pb = vec3(dot(pc.rel0.xyz, pa) + pc.rel0.w, dot(pc.rel1.xyz, pa) + pc.rel1.w, dot(pc.rel2.xyz, pa) + pc.rel2.w);
    vec2 xb = pb.xy / pb.z;
    float r2 = dot(xb, xb);
    if (!(pb.z > 1e-6) || (pc.k1 < 0.0 && !(-3.0 * pc.k1 * r2 < 1.0)))
    {
        flow.v[i] = vec2(0.0);
        occlusion.v[i] = 1.0;
        return;
    }
    float u, v;
    if (pc.k1 == 0.0)
    {
        u = pc.fx * pb.x / pb.z + pc.cx;
        v = pc.fy * pb.y / pb.z + pc.cy;
    }
    else
    {
        float s = 1.0 + pc.k1 * r2;
        u = pc.fx * xb.x * s + pc.cx;
        v = pc.fy * xb.y * s + pc.cy;
    }
    flow.v[i] = vec2(u - float(x), v - float(y));
    bool outside = u < -0.5 || v < -0.5 || u > float(pc.width) - 0.5 || v > float(pc.height) - 0.5;
    float occ = outside ? 1.0 : 0.0;
    if (!outside)
    {
        vec3 cb = pb / pb.z; // camera-b direction with z = 1: the ray parameter is the z-depth in b
        vec3 row2 = cross(pc.poseB0.xyz, pc.poseB1.xyz);
        vec3 d = vec3(dot(pc.poseB0.xyz, cb), dot(pc.poseB1.xyz, cb), dot(row2, cb));
        vec3 o = vec3(pc.poseB0.w, pc.poseB1.w, pc.poseBz);
        SynthHit h = synthTrace(o, d, pc.nodeCount);
        if (h.prim >= 0 && h.t < pb.z * (1.0 - pc.tolerance)) occ = 1.0;
    }
    occlusion.v[i] = occ;
}
