// C (+)= op(A)·op(B) per batch index. Operand element (row, col) of op(A) is a[i*sam + p*sak] and of op(B) is
// b[p*sbk + j*sbn], so the four transpose combinations share one kernel. Global ids: (j, i, batch).

// CPU-friendly "naive" kernels: no local memory, no barriers; one kernel per transpose combination so the
// index expressions are compile-time affine.
// B not transposed (nn, tn): one work-item per (row i, block of NB columns), loop p outside and the NB
// contiguous columns inside, accumulators in private memory: the inner loop vectorises and B streams row-wise.
#define NB 32
#define MATMUL_ROWBLOCK(NAME, AIDX)                                                                           \
__kernel void NAME(__global const float* a, int ao, __global const float* b, int bo, __global float* c, int co, \
                   int m, int n, int k, int acc) {                                                            \
    int j0 = get_global_id(0) * NB;                                                                           \
    int i = get_global_id(1);                                                                                 \
    int bi = get_global_id(2);                                                                                \
    if (i >= m || j0 >= n) return;                                                                            \
    __global const float* ap = a + ao + bi * m * k;                                                           \
    __global const float* bp = b + bo + bi * k * n;                                                           \
    __global float* cp = c + co + bi * m * n + i * n;                                                         \
    float s[NB];                                                                                              \
    for (int jj = 0; jj < NB; jj++) s[jj] = 0.0f;                                                             \
    if (j0 + NB <= n) {                                                                                       \
        for (int p = 0; p < k; p++) {                                                                         \
            float av = ap[AIDX];                                                                              \
            __global const float* br = bp + p * n + j0;                                                       \
            for (int jj = 0; jj < NB; jj++) s[jj] += av * br[jj];                                             \
        }                                                                                                     \
        for (int jj = 0; jj < NB; jj++) cp[j0 + jj] = acc ? cp[j0 + jj] + s[jj] : s[jj];                      \
    } else {                                                                                                  \
        int nb = n - j0;                                                                                      \
        for (int p = 0; p < k; p++) {                                                                         \
            float av = ap[AIDX];                                                                              \
            __global const float* br = bp + p * n + j0;                                                       \
            for (int jj = 0; jj < nb; jj++) s[jj] += av * br[jj];                                             \
        }                                                                                                     \
        for (int jj = 0; jj < nb; jj++) cp[j0 + jj] = acc ? cp[j0 + jj] + s[jj] : s[jj];                      \
    }                                                                                                         \
}
MATMUL_ROWBLOCK(matmul_naive_nn, i * k + p)
MATMUL_ROWBLOCK(matmul_naive_tn, p * m + i)

// B transposed (nt: the Linear forward x·Wᵀ; tt): one work-item per output, a dot product over contiguous
// rows of B with four partial sums.
#define MATMUL_DOT(NAME, AIDX)                                                                                \
__kernel void NAME(__global const float* a, int ao, __global const float* b, int bo, __global float* c, int co, \
                   int m, int n, int k, int acc) {                                                            \
    int j = get_global_id(0);                                                                                 \
    int i = get_global_id(1);                                                                                 \
    int bi = get_global_id(2);                                                                                \
    if (i >= m || j >= n) return;                                                                             \
    __global const float* ap = a + ao + bi * m * k;                                                           \
    __global const float* br = b + bo + bi * k * n + j * k;                                                   \
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;                                                        \
    int p = 0;                                                                                                \
    for (; p + 4 <= k; p += 4) {                                                                              \
        s0 += ap[AIDX] * br[p]; p++;                                                                          \
        s1 += ap[AIDX] * br[p]; p++;                                                                          \
        s2 += ap[AIDX] * br[p]; p++;                                                                          \
        s3 += ap[AIDX] * br[p]; p -= 3;                                                                       \
    }                                                                                                         \
    for (; p < k; p++) s0 += ap[AIDX] * br[p];                                                                \
    float sum = (s0 + s1) + (s2 + s3);                                                                        \
    int ci = co + bi * m * n + i * n + j;                                                                     \
    c[ci] = acc ? c[ci] + sum : sum;                                                                          \
}
MATMUL_DOT(matmul_naive_nt, i * k + p)
MATMUL_DOT(matmul_naive_tt, p * m + i)

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

// X·Wᵀ with W held as bfloat16 bits (the matrix weights of inference models): each weight widens exactly to fp32
// (a 16-bit shift), the sums are fp32. One work-item per output, four partial sums as in the nt kernel.
__kernel void matmul_bf16_nt(__global const float* a, int ao, __global const ushort* w, int wo, __global float* c, int co,
                             int m, int n, int k, int acc) {
    int j = get_global_id(0);
    int i = get_global_id(1);
    int bi = get_global_id(2);
    if (i >= m || j >= n) return;
    __global const float* ap = a + ao + bi * m * k + i * k;
    __global const ushort* wr = w + wo + bi * k * n + j * k;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    int p = 0;
    for (; p + 4 <= k; p += 4) {
        s0 += ap[p] * as_float((uint) wr[p] << 16);
        s1 += ap[p + 1] * as_float((uint) wr[p + 1] << 16);
        s2 += ap[p + 2] * as_float((uint) wr[p + 2] << 16);
        s3 += ap[p + 3] * as_float((uint) wr[p + 3] << 16);
    }
    for (; p < k; p++) s0 += ap[p] * as_float((uint) wr[p] << 16);
    float sum = (s0 + s1) + (s2 + s3);
    int ci = co + bi * m * n + i * n + j;
    c[ci] = acc ? c[ci] + sum : sum;
}
