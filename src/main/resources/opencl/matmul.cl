// C (+)= op(A)·op(B) per batch index. Operand element (row, col) of op(A) is a[i*sam + p*sak] and of op(B) is
// b[p*sbk + j*sbn], so the four transpose combinations share one kernel. Global ids: (j, i, batch).

// CPU-friendly: one work-item per output; neighbouring work-items (j) read neighbouring B columns, which the
// PoCL work-group vectoriser turns into SIMD lanes. No local memory, no barriers.
__kernel void matmul_naive(__global const float* a, int ao, __global const float* b, int bo, __global float* c, int co,
                           int m, int n, int k, int sam, int sak, int sbk, int sbn, int acc) {
    int j = get_global_id(0);
    int i = get_global_id(1);
    int bi = get_global_id(2);
    if (i >= m || j >= n) return;
    __global const float* ap = a + ao + bi * m * k + i * sam;
    __global const float* bp = b + bo + bi * k * n + j * sbn;
    float sum = 0.0f;
    for (int p = 0; p < k; p++) {
        sum += ap[p * sak] * bp[p * sbk];
    }
    int ci = co + bi * m * n + i * n + j;
    c[ci] = acc ? c[ci] + sum : sum;
}

// GPU-style: TILE x TILE work-groups stage tiles of A and B in local memory. Global size is rounded up to TILE.
__kernel void matmul_tiled(__global const float* a, int ao, __global const float* b, int bo, __global float* c, int co,
                           int m, int n, int k, int sam, int sak, int sbk, int sbn, int acc) {
    __local float as[TILE][TILE];
    __local float bs[TILE][TILE + 1];
    int lj = get_local_id(0);
    int li = get_local_id(1);
    int j = get_group_id(0) * TILE + lj;
    int i = get_group_id(1) * TILE + li;
    int bi = get_global_id(2);
    int abase = ao + bi * m * k;
    int bbase = bo + bi * k * n;
    float sum = 0.0f;
    for (int t = 0; t < k; t += TILE) {
        int pa = t + lj;
        as[li][lj] = (i < m && pa < k) ? a[abase + i * sam + pa * sak] : 0.0f;
        int pb = t + li;
        bs[li][lj] = (j < n && pb < k) ? b[bbase + pb * sbk + j * sbn] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int p = 0; p < TILE; p++) {
            sum += as[li][p] * bs[p][lj];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < m && j < n) {
        int ci = co + bi * m * n + i * n + j;
        c[ci] = acc ? c[ci] + sum : sum;
    }
}
