// The sum over work groups of one column of per-group partial records float[rows, groups, width] (as written by
// group_reduce.glsl), in exactly the order of reduce_partials.comp: 64 strided serial sums (group l, l + 64, ...),
// then their serial sum. A consumer that reduces its own input with this gives the float result the separate reduce
// dispatch gave, so fusing the reduce into its consumer changes no result. RESULT must be a float variable; BUF a
// buffer block with member v.
#ifndef FLOWMAP_FIXED_SUM_GLSL
#define FLOWMAP_FIXED_SUM_GLSL
#define FIXED_SUM(RESULT, BUF, ROW, GROUPS, WIDTH, COL) { RESULT = 0.0; for (int l_ = 0; l_ < 64; l_++) { float a_ = 0.0; for (int g_ = l_; g_ < (GROUPS); g_ += 64) a_ += BUF.v[((ROW) * (GROUPS) + g_) * (WIDTH) + (COL)]; RESULT += a_; } }
#endif
