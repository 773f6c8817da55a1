// Multi-head attention with one key range [lo[i], hi[i]) per query. Layout: q/out [Tq, H·D], k/v [Tk, H·D],
// lse/delta [H, Tq]. Forward and dq run one work-item per (head, query); dk/dv run one work-item per
// (head, key) that loops over the queries whose range holds the key, so no two items write the same row.

inline float dot_row(__global const float* a, __global const float* b, int n) {
    float s = 0.0f;
    for (int d = 0; d < n; d++) {
        s += a[d] * b[d];
    }
    return s;
}

__kernel void attention_fwd_f32(__global const float* q, int qo, __global const float* k, int ko,
                                __global const float* v, int vo, __global float* out, int oo,
                                __global float* lse, int lseo, __global const int* keyLo, int klo,
                                __global const int* keyHi, int kho, int tq, int nHeads, int headDim, float scale) {
    int idx = get_global_id(0);
    if (idx >= nHeads * tq) return;
    int h = idx / tq;
    int i = idx % tq;
    int width = nHeads * headDim;
    int from = keyLo[klo + i];
    int to = keyHi[kho + i];
    __global const float* qr = q + qo + i * width + h * headDim;
    __global float* orow = out + oo + i * width + h * headDim;
    for (int d = 0; d < headDim; d++) {
        orow[d] = 0.0f;
    }
    if (to <= from) {
        lse[lseo + idx] = -INFINITY;
        return;
    }
    float mx = -INFINITY;
    for (int j = from; j < to; j++) {
        mx = fmax(mx, dot_row(qr, k + ko + j * width + h * headDim, headDim) * scale);
    }
    float sum = 0.0f;
    for (int j = from; j < to; j++) {
        float p = exp(dot_row(qr, k + ko + j * width + h * headDim, headDim) * scale - mx);
        sum += p;
        __global const float* vr = v + vo + j * width + h * headDim;
        for (int d = 0; d < headDim; d++) {
            orow[d] += p * vr[d];
        }
    }
    for (int d = 0; d < headDim; d++) {
        orow[d] /= sum;
    }
    lse[lseo + idx] = mx + log(sum);
}

// delta[h, i] = Σ_d dout·out (0 for an empty range).
__kernel void attention_delta_f32(__global const float* dout, int go, __global const float* out, int oo,
                                  __global float* delta, __global const int* keyLo, int klo,
                                  __global const int* keyHi, int kho, int tq, int nHeads, int headDim) {
    int idx = get_global_id(0);
    if (idx >= nHeads * tq) return;
    int h = idx / tq;
    int i = idx % tq;
    int row = i * nHeads * headDim + h * headDim;
    delta[idx] = keyHi[kho + i] > keyLo[klo + i] ? dot_row(dout + go + row, out + oo + row, headDim) : 0.0f;
}

__kernel void attention_bwd_dq_f32(__global const float* dout, int go, __global const float* q, int qo,
                                   __global const float* k, int ko, __global const float* v, int vo,
                                   __global const float* lse, int lseo, __global const float* delta,
                                   __global const int* keyLo, int klo, __global const int* keyHi, int kho,
                                   __global float* dq, int dqo, int tq, int nHeads, int headDim, float scale) {
    int idx = get_global_id(0);
    if (idx >= nHeads * tq) return;
    int h = idx / tq;
    int i = idx % tq;
    int width = nHeads * headDim;
    int from = keyLo[klo + i];
    int to = keyHi[kho + i];
    if (to <= from) return;
    int qrow = i * width + h * headDim;
    float l = lse[lseo + idx];
    float dsum = delta[idx];
    for (int j = from; j < to; j++) {
        int krow = j * width + h * headDim;
        float p = exp(dot_row(q + qo + qrow, k + ko + krow, headDim) * scale - l);
        float dp = dot_row(dout + go + qrow, v + vo + krow, headDim);
        float ds = p * (dp - dsum) * scale;
        for (int d = 0; d < headDim; d++) {
            dq[dqo + qrow + d] += ds * k[ko + krow + d];
        }
    }
}

__kernel void attention_bwd_dkdv_f32(__global const float* dout, int go, __global const float* q, int qo,
                                     __global const float* k, int ko, __global const float* v, int vo,
                                     __global const float* lse, int lseo, __global const float* delta,
                                     __global const int* keyLo, int klo, __global const int* keyHi, int kho,
                                     __global float* dk, int dko, __global float* dv, int dvo,
                                     int tq, int tk, int nHeads, int headDim, float scale) {
    int idx = get_global_id(0);
    if (idx >= nHeads * tk) return;
    int h = idx / tk;
    int j = idx % tk;
    int width = nHeads * headDim;
    int krow = j * width + h * headDim;
    for (int i = 0; i < tq; i++) {
        if (j < keyLo[klo + i] || j >= keyHi[kho + i]) continue;
        int qrow = i * width + h * headDim;
        float p = exp(dot_row(q + qo + qrow, k + ko + krow, headDim) * scale - lse[lseo + h * tq + i]);
        float dp = dot_row(dout + go + qrow, v + vo + krow, headDim);
        float ds = p * (dp - delta[h * tq + i]) * scale;
        for (int d = 0; d < headDim; d++) {
            dk[dko + krow + d] += ds * q[qo + qrow + d];
            dv[dvo + krow + d] += p * dout[go + qrow + d];
        }
    }
}
