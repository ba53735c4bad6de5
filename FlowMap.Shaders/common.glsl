// Shared helpers for FlowMap compute shaders.
// Images are row-major float arrays, pixel (x, y) at index y * width + x; pixel centres at integer coordinates.
#ifndef FLOWMAP_COMMON_GLSL
#define FLOWMAP_COMMON_GLSL

// Work-group size is set per device by the dispatcher through specialization constants 0, 1, 2.
#define FLOWMAP_LOCAL_SIZE_2D layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

int clampi(int v, int lo, int hi) { return max(lo, min(v, hi)); }

#endif
