// Rotary embeddings on interleaved pairs: one work-item per (row, head, pair). In place is safe: each item
// reads and writes only its own pair.
__kernel void rope_f32(__global const float* x, int xo, __global const int* pos, int po,
                       __global const float* cosT, int co, __global const float* sinT, int so,
                       __global float* out, int oo, int rows, int nHeads, int headDim, int backward) {
    int idx = get_global_id(0);
    int halfDim = headDim / 2;
    if (idx >= rows * nHeads * halfDim) return;
    int i = idx % halfDim;
    int h = (idx / halfDim) % nHeads;
    int r = idx / (halfDim * nHeads);
    int p = pos[po + r];
    int at = r * nHeads * headDim + h * headDim + 2 * i;
    float c = cosT[co + p * halfDim + i];
    float s = sinT[so + p * halfDim + i];
    float x0 = x[xo + at];
    float x1 = x[xo + at + 1];
    if (backward) {
        out[oo + at] += x0 * c + x1 * s;
        out[oo + at + 1] += -x0 * s + x1 * c;
    } else {
        out[oo + at] = x0 * c - x1 * s;
        out[oo + at + 1] = x0 * s + x1 * c;
    }
}
