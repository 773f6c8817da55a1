// Cross-entropy and entropy: one work-group of RED_WG items per row, local-memory reductions.

// lse[r] = log Σ exp(row), one work-group per row. Every work-item reaches every barrier (no early returns:
// PoCL corrupted memory when a uniform early return preceded the barriers of a row reduction).
__kernel void row_lse_f32(__global const float* logits, int lo, __global float* lse, int cols) {
    __local float buf[RED_WG];
    int r = get_group_id(0);
    int l = get_local_id(0);
    __global const float* row = logits + lo + r * cols;
    float mx = -INFINITY;
    for (int c = l; c < cols; c += RED_WG) mx = fmax(mx, row[c]);
    mx = wg_max(buf, mx);
    float sum = 0.0f;
    for (int c = l; c < cols; c += RED_WG) sum += exp(row[c] - mx);
    sum = wg_sum(buf, sum);
    if (l == 0) lse[r] = mx + log(sum);
}

// One work-item per row, after row_lse_f32. Rows with weight 0 or a negative target get 0 (Backend has
// checked that every target is < cols).
__kernel void cross_entropy_f32(__global const float* logits, int lo, __global const int* targets, int to,
                                __global const float* weights, int wo, int hasWeights, __global const float* lse,
                                __global float* losses, int so, int rows, int cols) {
    int r = get_global_id(0);
    if (r >= rows) return;
    int t = targets[to + r];
    float w = hasWeights ? weights[wo + r] : 1.0f;
    if (t < 0 || w == 0.0f) {
        losses[so + r] = 0.0f;
    } else {
        losses[so + r] = w * (lse[r] - logits[lo + r * cols + t]);
    }
}

// One work-item per logit, after row_lse_f32: dlogits += scale·w·(softmax − onehot).
__kernel void cross_entropy_backward_f32(__global const float* logits, int lo, __global const int* targets, int to,
                                         __global const float* weights, int wo, int hasWeights, float scale,
                                         __global const float* lse, __global float* dlogits, int dlo, int rows, int cols) {
    int idx = get_global_id(0);
    if (idx >= rows * cols) return;
    int r = idx / cols;
    int c = idx % cols;
    int t = targets[to + r];
    float w = hasWeights ? weights[wo + r] : 1.0f;
    if (t < 0 || w == 0.0f) return;
    float p = exp(logits[lo + idx] - lse[r]);
    dlogits[dlo + idx] += scale * w * (c == t ? p - 1.0f : p);
}

// H = log Z − Σ p·(x − max) with Z = Σ exp(x − max).
__kernel void entropy_f32(__global const float* logits, int lo, __global float* out, int oo, int cols) {
    __local float buf[RED_WG];
    int r = get_group_id(0);
    int l = get_local_id(0);
    __global const float* row = logits + lo + r * cols;
    float mx = -INFINITY;
    for (int c = l; c < cols; c += RED_WG) mx = fmax(mx, row[c]);
    mx = wg_max(buf, mx);
    float z = 0.0f;
    float wsum = 0.0f;
    for (int c = l; c < cols; c += RED_WG) {
        float sh = row[c] - mx;
        float e = exp(sh);
        z += e;
        wsum += e * sh;
    }
    z = wg_sum(buf, z);
    wsum = wg_sum(buf, wsum);
    if (l == 0) out[oo + r] = log(z) - wsum / z;
}
