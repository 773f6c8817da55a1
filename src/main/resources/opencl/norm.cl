// RMSNorm forward and backward. Row kernels run one work-group of RED_WG items per row.

__kernel void rmsnorm_f32(__global const float* x, int xo, __global const float* w, int wo, __global float* out, int oo,
                          __global float* rstd, int ro, int d, float eps) {
    __local float buf[RED_WG];
    int r = get_group_id(0);
    int l = get_local_id(0);
    __global const float* xr = x + xo + r * d;
    float ss = 0.0f;
    for (int c = l; c < d; c += RED_WG) {
        float v = xr[c];
        ss += v * v;
    }
    ss = wg_sum(buf, ss);
#ifdef HAS_FP64
    float s = (float) (1.0 / sqrt((double) (ss / d + eps)));
#else
    float s = 1.0f / sqrt(ss / d + eps);
#endif
    if (l == 0) rstd[ro + r] = s;
    for (int c = l; c < d; c += RED_WG) {
        out[oo + r * d + c] = xr[c] * s * w[wo + c];
    }
}

// dx += s·(w⊙g) − x·(Σ g⊙w⊙x)·s³/d, one work-group per row.
__kernel void rmsnorm_backward_dx_f32(__global const float* dout, int go, __global const float* x, int xo,
                                      __global const float* w, int wo, __global const float* rstd, int ro,
                                      __global float* dx, int dxo, int d) {
    __local float buf[RED_WG];
    int r = get_group_id(0);
    int l = get_local_id(0);
    float s = rstd[ro + r];
    float dot = 0.0f;
    for (int c = l; c < d; c += RED_WG) {
        dot += dout[go + r * d + c] * w[wo + c] * x[xo + r * d + c];
    }
    dot = wg_sum(buf, dot);
    float coef = dot * s * s * s / d;
    for (int c = l; c < d; c += RED_WG) {
        float g = dout[go + r * d + c];
        dx[dxo + r * d + c] += g * w[wo + c] * s - x[xo + r * d + c] * coef;
    }
}

// dw[c] += Σ_rows g·x·rstd: one work-item per column, rows in order (no atomics).
__kernel void rmsnorm_backward_dw_f32(__global const float* dout, int go, __global const float* x, int xo,
                                      __global const float* rstd, int ro, __global float* dw, int dwo, int rows, int d) {
    int c = get_global_id(0);
    if (c >= d) return;
    float sum = 0.0f;
    for (int r = 0; r < rows; r++) {
        sum += dout[go + r * d + c] * x[xo + r * d + c] * rstd[ro + r];
    }
    dw[dwo + c] += sum;
}
