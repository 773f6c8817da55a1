// Embedding lookup and segment max-pooling. Backward scatters run one work-item per column and walk the
// ids (or segments) in order, so repeated rows accumulate without atomics and in the reference's order.
// Ids are in range: Backend checks them on the host.

__kernel void embedding_f32(__global const float* table, int tbo, __global const int* ids, int io,
                            __global float* out, int oo, int n, int d, int acc) {
    int idx = get_global_id(0);
    if (idx >= n * d) return;
    int i = idx / d;
    int c = idx % d;
    int id = ids[io + i];
    float v = table[tbo + id * d + c];
    out[oo + idx] = acc ? out[oo + idx] + v : v;
}

__kernel void embedding_backward_f32(__global const float* dout, int go, __global const int* ids, int io,
                                     __global float* dtable, int dto, int n, int d) {
    int c = get_global_id(0);
    if (c >= d) return;
    for (int i = 0; i < n; i++) {
        int id = ids[io + i];
        dtable[dto + id * d + c] += dout[go + i * d + c];
    }
}

// Ties keep the first row; an empty segment gives 0 and argmax -1.
__kernel void segment_max_f32(__global const float* x, int xo, __global const int* segLo, int slo,
                              __global const int* segHi, int sho, __global float* out, int oo,
                              __global int* argmax, int ao, int segments, int d) {
    int idx = get_global_id(0);
    if (idx >= segments * d) return;
    int s = idx / d;
    int c = idx % d;
    int from = segLo[slo + s];
    int to = segHi[sho + s];
    float best = 0.0f;
    int arg = -1;
    for (int r = from; r < to; r++) {
        float v = x[xo + r * d + c];
        if (arg < 0 || v > best) {
            best = v;
            arg = r;
        }
    }
    out[oo + idx] = best;
    argmax[ao + idx] = arg;
}

__kernel void segment_max_backward_f32(__global const float* dout, int go, __global const int* argmax, int ao,
                                       __global float* dx, int dxo, int segments, int rows, int d) {
    int c = get_global_id(0);
    if (c >= d) return;
    for (int s = 0; s < segments; s++) {
        int r = argmax[ao + s * d + c];
        if (r >= 0 && r < rows) {
            dx[dxo + r * d + c] += dout[go + s * d + c];
        }
    }
}
