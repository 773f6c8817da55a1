// AdamW (torch semantics) and the sum of squares behind gradient-norm clipping.

__kernel void adamw_f32(__global float* p, int po, __global const float* g, int go, __global float* m, int mo,
                        __global float* v, int vo, int n, float lr, float beta1, float beta2, float eps, float wd,
                        float bc1, float bc2) {
    int i = get_global_id(0);
    if (i >= n) return;
    float grad = g[go + i];
    float param = p[po + i] * (1.0f - lr * wd);
    float mi = beta1 * m[mo + i] + (1.0f - beta1) * grad;
    float vi = beta2 * v[vo + i] + (1.0f - beta2) * grad * grad;
    m[mo + i] = mi;
    v[vo + i] = vi;
    p[po + i] = param - (lr / bc1) * mi / (sqrt(vi / bc2) + eps);
}

// Partial sums of x², one per work-group; the host adds the partials in double.
// With cl_khr_fp64 every product and sum is in double. Without it each work-item keeps a Kahan-compensated
// float sum and the work-group adds them pairwise (tree) in float.
#ifdef HAS_FP64
__kernel void sum_squares_f32(__global const float* x, int xo, int n, __global double* partial) {
    __local double buf[RED_WG];
    int l = get_local_id(0);
    double acc = 0.0;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        double v = x[xo + i];
        acc += v * v;
    }
    buf[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (l < s) buf[l] += buf[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) partial[get_group_id(0)] = buf[0];
}
#else
__kernel void sum_squares_f32(__global const float* x, int xo, int n, __global float* partial) {
    __local float buf[RED_WG];
    int l = get_local_id(0);
    float acc = 0.0f;
    float comp = 0.0f;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        float v = x[xo + i];
        float y = v * v - comp;
        float t = acc + y;
        comp = (t - acc) - y;
        acc = t;
    }
    buf[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (l < s) buf[l] += buf[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) partial[get_group_id(0)] = buf[0];
}
#endif
