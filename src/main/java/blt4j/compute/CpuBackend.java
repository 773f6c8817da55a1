package blt4j.compute;


/**
 * The fast host backend: Vector API kernels ({@link CpuRowKernels}, {@link CpuGemm}, {@link CpuAttention},
 * {@link CpuAttentionBackward}) split over a small fixed pool of daemon threads ({@link SpinPool}).
 * Work is partitioned statically (chunk boundaries depend only on the size and the thread count), and every
 * scattering backward (attention dk/dv, embedding, segment max, RMSNorm dw) is partitioned so that no two threads
 * write the same element: results are deterministic for a fixed thread count.
 *
 * <p>Not thread-safe for concurrent calls on one instance from several caller threads (like every backend).
 * Needs {@code --add-modules jdk.incubator.vector}: without it the constructor throws (never a silent substitute).
 */
public final class CpuBackend extends HostBackend {

    /**
     * Below about this many scalar operations a kernel runs on the calling thread: handing work to the pool and
     * waiting for it costs tens of microseconds on a VM, more than a one-row matmul of a small model takes.
     * {@code -Dblt4j.cpu.minParallelWork=N} overrides it (for measurements).
     */
    private static final long DEFAULT_MIN_PARALLEL_WORK = Long.getLong("blt4j.cpu.minParallelWork", 1 << 21);

    private static final boolean VECTOR = vectorModulePresent();
    static final String MISSING_VECTOR_API = "the cpu backend needs the Vector API: start java with "
            + "--add-modules jdk.incubator.vector (or choose the reference backend)";

    private final int threads;
    private final long minParallelWork;
    private final SpinPool pool;
    private final CpuAttentionBackward attentionBackward;
    private final ThreadLocal<Boolean> inWorker = ThreadLocal.withInitial(() -> Boolean.FALSE);
    /** Packed keys of the last attention call (grown, reused: one call at a time per backend). */
    private float[] keyPack = new float[0];

    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public CpuBackend(int threads) {
        this(threads, DEFAULT_MIN_PARALLEL_WORK);
    }

    /** Tests pass a tiny minParallelWork to force splitting (and uneven chunks) even on small tensors. */
    CpuBackend(int threads, long minParallelWork) {
        if (!VECTOR) {
            throw new IllegalStateException(MISSING_VECTOR_API);
        }
        this.attentionBackward = new CpuAttentionBackward(this); // loads Vector API classes: after the check
        this.minParallelWork = Math.max(1, minParallelWork);
        if (threads < 1) {
            throw new IllegalArgumentException("cpu backend needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        this.pool = threads > 1 ? new SpinPool(threads - 1, "blt4j-cpu-", () -> inWorker.set(Boolean.TRUE)) : null;
    }

    private static boolean vectorModulePresent() {
        try {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return false;
            }
            return CpuVectorMath.L >= 1;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Whether this JVM can run the cpu backend (false: it lacks {@code --add-modules jdk.incubator.vector}). */
    public static boolean vectorApiAvailable() {
        return VECTOR;
    }

    public int threads() {
        return threads;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String describe() {
        return "cpu (Vector API " + CpuVectorMath.S + ", " + CpuVectorMath.L + " fp32 lanes, " + threads + " thread"
                + (threads == 1 ? "" : "s") + ", matmul micro-tile " + CpuGemm.MR + "x" + CpuGemm.NR + ")";
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.close();
        }
    }

    // ------------------------------------------------------------------ parallel for

    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    /** How many chunks to split n items of about workPerItem operations each into. */
    int parts(int n, long workPerItem) {
        if (pool == null || n <= 1 || inWorker.get()) {
            return 1;
        }
        long total = (long) n * Math.max(1, workPerItem);
        long p = Math.min(threads, Math.min(n, total / minParallelWork));
        return (int) Math.max(1, p);
    }

    /** Runs body over [0, n) split into contiguous chunks; chunk t is [n·t/parts, n·(t+1)/parts). */
    void parallelFor(int n, long workPerItem, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int parts = parts(n, workPerItem);
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        int p = parts;
        pool.run(parts, t -> body.run((int) ((long) n * t / p), (int) ((long) n * (t + 1) / p)));
    }

    /**
     * Runs body over [0, n) in contiguous chunks of about equal weight, where cum[i] is the weight of items [0, i)
     * (n + 1 entries, non-decreasing) and workPerWeight the work of one unit: items of uneven cost (causal attention
     * tiles, the last of which reads every key) split evenly over the threads, not by count.
     */
    void parallelForWeighted(int n, long[] cum, long workPerWeight, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int parts = parts(n, Math.max(1, cum[n] / n) * workPerWeight);
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        int[] bound = weightedBounds(cum, n, parts);
        pool.run(parts, t -> body.run(bound[t], bound[t + 1]));
    }

    /** Cuts [0, n) into parts runs of about equal weight (cum as above): run t is [bound[t], bound[t + 1]). */
    static int[] weightedBounds(long[] cum, int n, int parts) {
        int[] bound = new int[parts + 1];
        bound[parts] = n;
        for (int t = 1, x = 0; t < parts; t++) {
            long target = cum[n] * t / parts;
            while (x < n && cum[x] < target) {
                x++;
            }
            bound[t] = x;
        }
        return bound;
    }

    /** cum[0 .. perHead] holds one head's cumulative weights: extends it to nHeads heads of the same items, head-major. */
    static void repeatHeads(long[] cum, int perHead, int nHeads) {
        for (int h = 1; h < nHeads; h++) {
            for (int t = 0; t < perHead; t++) {
                cum[h * perHead + t + 1] = h * cum[perHead] + cum[t + 1];
            }
        }
    }

    // ------------------------------------------------------------------ elementwise

    private static final long ELEM = 1;

    /** Fills and copies split over the threads, in whole cache lines: one thread's stores fall short of the memory's rate. */
    @Override
    protected void fillKernel(Tensor t, float value) {
        float[] tv = f(t);
        int to0 = t.offset();
        int lines = (t.size() + 15) / 16;
        parallelFor(lines, 16 * ELEM, (from, to) ->
                java.util.Arrays.fill(tv, to0 + 16 * from, to0 + Math.min(t.size(), 16 * to), value));
    }

    @Override
    protected void copyKernel(Tensor src, Tensor dst) {
        if (src.dtype() != DType.F32) {
            super.copyKernel(src, dst);
            return;
        }
        float[] sv = f(src), dv = f(dst);
        int so = src.offset(), dOff = dst.offset(), n = src.size();
        int lines = (n + 15) / 16;
        parallelFor(lines, 16 * ELEM, (from, to) -> {
            int a = 16 * from, b = Math.min(n, 16 * to);
            System.arraycopy(sv, so + a, dv, dOff + a, b - a);
        });
    }

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        float[] av = f(a), bv = f(b), ov = f(out);
        int ao = a.offset(), bo = b.offset(), oo = out.offset();
        parallelFor(a.size(), ELEM, (from, to) -> CpuRowKernels.add(av, ao, bv, bo, ov, oo, from, to));
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        float[] xv = f(x), yv = f(y);
        int xo = x.offset(), yo = y.offset();
        parallelFor(x.size(), ELEM, (from, to) -> CpuRowKernels.axpyRange(alpha, xv, xo, yv, yo, from, to));
    }

    @Override
    protected void scaleKernel(Tensor x, float s, Tensor out) {
        float[] xv = f(x), ov = f(out);
        int xo = x.offset(), oo = out.offset();
        parallelFor(x.size(), ELEM, (from, to) -> CpuRowKernels.scale(xv, xo, s, ov, oo, from, to));
    }

    @Override
    protected void swigluKernel(Tensor gate, Tensor up, Tensor out) {
        float[] gv = f(gate), uv = f(up), ov = f(out);
        int go = gate.offset(), uo = up.offset(), oo = out.offset();
        parallelFor(gate.size(), 8, (from, to) -> CpuRowKernels.swiglu(gv, go, uv, uo, ov, oo, from, to));
    }

    @Override
    protected void swigluMatmulKernel(Tensor x, Tensor w1, Tensor w3, Tensor gate, Tensor up, Tensor out,
                                      boolean keepGateUp, int m, int n, int k) {
        // fused on packed fp32 weights (bf16 ones and a single row take the two products and the op)
        if (m < 2 || k == 0 || w1.dtype() != DType.F32 || w3.dtype() != DType.F32
                || !packedWeights.holdsWeights(w1.storage()) || !packedWeights.holdsWeights(w3.storage())) {
            super.swigluMatmulKernel(x, w1, w3, gate, up, out, keepGateUp, m, n, k);
            return;
        }
        float[] b1 = f(w1), b3 = f(w3), xv = f(x), gv = f(gate), uv = f(up), ov = f(out);
        int xo = x.offset(), go = gate.offset(), uo = up.offset(), oo = out.offset();
        CpuPackedWeights.Packed p1 = packedWeights.get(b1, w1.offset(), n, k);
        CpuPackedWeights.Packed p3 = packedWeights.get(b3, w3.offset(), n, k);
        int nr = CpuGemm.NR;
        int strips = (n + nr - 1) / nr;
        parallelFor(strips, 4L * m * k * nr, (s0, s1) -> CpuGemm.swigluPrepacked(xv, xo, p1, p3, gv, go, uv, uo,
                keepGateUp, ov, oo, m, s0 * nr, Math.min(n, s1 * nr)));
    }

    @Override
    protected void swigluBackwardKernel(Tensor dout, Tensor gate, Tensor up, Tensor dgate, Tensor dup) {
        float[] dv = f(dout), gv = f(gate), uv = f(up), dgv = f(dgate), duv = f(dup);
        int dof = dout.offset(), go = gate.offset(), uo = up.offset(), dgo = dgate.offset(), duo = dup.offset();
        parallelFor(gate.size(), 10, (from, to) -> CpuRowKernels.swigluBackward(dv, dof, gv, go, uv, uo, dgv, dgo, duv, duo, from, to));
    }

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                               float eps, float weightDecay, float bc1, float bc2) {
        float[] pv = f(param), gv = f(grad), mv = f(m), vv = f(v);
        int po = param.offset(), go = grad.offset(), mo = m.offset(), vo = v.offset();
        parallelFor(param.size(), 10, (from, to) ->
                CpuRowKernels.adamw(pv, po, gv, go, mv, mo, vv, vo, from, to, lr, beta1, beta2, eps, weightDecay, bc1, bc2));
    }

    private static final int SSQ_CHUNK = 4096;

    @Override
    protected double sumOfSquaresKernel(Tensor x) {
        float[] xv = f(x);
        int xo = x.offset();
        int n = x.size();
        int chunks = (n + SSQ_CHUNK - 1) / SSQ_CHUNK;
        if (ssqPartials.length < chunks) {
            ssqPartials = new double[chunks];
        }
        double[] partial = ssqPartials;
        parallelFor(chunks, SSQ_CHUNK, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                partial[ch] = CpuRowKernels.sumOfSquares(xv, xo, ch * SSQ_CHUNK, Math.min(n, (ch + 1) * SSQ_CHUNK));
            }
        });
        double s = 0;
        for (int ch = 0; ch < chunks; ch++) {
            s += partial[ch];
        }
        return s;
    }

    /** The per-chunk sums of {@link #sumOfSquaresKernel} (grown, reused: a gradient clip calls it once per tensor). */
    private double[] ssqPartials = new double[0];

    // ------------------------------------------------------------------ matmul

    private final CpuPackedWeights packedWeights = new CpuPackedWeights();

    @Override
    public void registerWeights(Tensor params) {
        packedWeights.register(f(params));
    }

    @Override
    protected void wrote(Tensor t) {
        packedWeights.invalidate(t.storage());
    }

    @Override
    protected void matmulKernel(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, boolean accumulate,
                                int batch, int m, int n, int k) {
        if (b.dtype() == DType.BF16) {
            for (int bi = 0; bi < batch; bi++) {
                timesBf16Weights(f(a), a.offset() + bi * m * k, b, b.offset() + bi * k * n, f(c), c.offset() + bi * m * n,
                        accumulate, m, n, k);
            }
            return;
        }
        float[] av = f(a), bv = f(b), cv = f(c);
        int ao = a.offset(), bo = b.offset(), co = c.offset();
        long work = 2L * m * n * Math.max(k, 1);
        if (!transA && transB && k > 0 && packedWeights.holdsWeights(bv)) {
            for (int bi = 0; bi < batch; bi++) {
                timesPackedWeights(av, ao + bi * m * k, packedWeights.get(bv, bo + bi * k * n, n, k), cv, co + bi * m * n,
                        accumulate, m);
            }
            return;
        }
        if (batch >= threads && batch > 1 && parts(batch, work) > 1) {
            parallelFor(batch, work, (from, to) -> {
                for (int bi = from; bi < to; bi++) {
                    gemmSerial(av, ao + bi * m * k, transA, bv, bo + bi * k * n, transB, cv, co + bi * m * n, accumulate, m, n, k);
                }
            });
            return;
        }
        for (int bi = 0; bi < batch; bi++) {
            gemm(av, ao + bi * m * k, transA, bv, bo + bi * k * n, transB, cv, co + bi * m * n, accumulate, m, n, k);
        }
    }

    /** Weight rows widened at once for the GEMM path of bf16 weights (a whole number of micro-tile strips). */
    static final int BF16_BLOCK = 64;

    /**
     * X·Wᵀ with W in bfloat16: threads take blocks of four weight rows, widen them to fp32 (exactly) in registers and
     * compute every row of X against them with the row-invariant dot recipe, so up to {@link #ROW_INVARIANT_ROWS} rows
     * the result equals the fp32 product with the widened weights bit for bit whatever the number of rows. More rows
     * take the register-blocked GEMM on blocks of widened rows.
     */
    private void timesBf16Weights(float[] a, int ao, Tensor wt, int wo, float[] c, int co, boolean acc, int m, int n, int k) {
        if (k == 0) {
            if (!acc) {
                for (int r = 0; r < m; r++) {
                    java.util.Arrays.fill(c, co + r * n, co + r * n + n, 0f);
                }
            }
            return;
        }
        short[] heap = mapped(wt) == null ? h(wt) : null; // null: the weight is read in place from its mapped file
        if (m <= ROW_INVARIANT_ROWS) {
            // widen in registers as the dot products go: cheaper than a pass through a scratch copy at every row count
            // measured (1 to 64), and the same bits as the fp32 dot recipe on the widened weights. Mapped rows are
            // first copied (four at a time, into L1) from the page cache.
            int groups = (n + 3) / 4;
            parallelFor(groups, 8L * m * k, (g0, g1) -> {
                if (heap != null) {
                    CpuGemm.gemvDotRowsBf16(heap, wo, a, ao, c, co, m, n, k, 4 * g0, Math.min(n, 4 * g1), acc);
                    return;
                }
                short[] rows = new short[4 * k];
                for (int g = g0; g < g1; g++) {
                    int j0 = 4 * g;
                    int j1 = Math.min(n, j0 + 4);
                    bf16Range(wt, wo + j0 * k, rows, (j1 - j0) * k);
                    CpuGemm.gemvDotRowsBf16(rows, -j0 * k, a, ao, c, co, m, n, k, j0, j1, acc);
                }
            });
            return;
        }
        // many rows (a prompt): blocks of weight rows widened once, then the register-blocked GEMM on them
        int blocks = (n + BF16_BLOCK - 1) / BF16_BLOCK;
        parallelFor(blocks, 2L * m * k * BF16_BLOCK, (b0, b1) -> {
            float[] rows = new float[BF16_BLOCK * k];
            short[] bits = heap != null ? null : new short[BF16_BLOCK * k];
            for (int bl = b0; bl < b1; bl++) {
                int j0 = bl * BF16_BLOCK;
                int j1 = Math.min(n, j0 + BF16_BLOCK);
                if (heap != null) {
                    CpuVectorMath.widenBf16(heap, wo + j0 * k, rows, 0, (j1 - j0) * k);
                } else {
                    bf16Range(wt, wo + j0 * k, bits, (j1 - j0) * k);
                    CpuVectorMath.widenBf16(bits, 0, rows, 0, (j1 - j0) * k);
                }
                CpuGemm.gemmBlock(a, ao, false, rows, -j0 * k, true, c, co, acc, m, n, k, 0, m, j0, j1);
            }
        });
    }

    /**
     * X·Wᵀ on a weight matrix packed once. Threads take column strips (each reading all of X), the only split a few
     * rows allow, unless X is tall against a narrow W ({@link #splitsPackedByRows}): then each thread takes a run of
     * rows, reads them once for every strip, and the work splits evenly whatever the strip count (the output head's 9
     * strips of 4096 × 260 × 256 went 4 and 5 a thread: 274–287 GFLOP/s by strips, 314–332 by rows, Zen 5, two
     * threads). Either way every element gets the same bits.
     */
    private void timesPackedWeights(float[] a, int ao, CpuPackedWeights.Packed w, float[] c, int co, boolean acc, int m) {
        int n = w.n();
        int k = w.k();
        int nr = CpuGemm.NR;
        int mr = CpuGemm.MR;
        if (splitsPackedByRows(m, n)) {
            parallelFor((m + mr - 1) / mr, 2L * mr * k * n, (t0, t1) -> {
                int r0 = t0 * mr, r1 = Math.min(m, t1 * mr);
                CpuGemm.gemmPrepacked(a, ao + r0 * k, w, c, co + r0 * n, acc, r1 - r0, 0, n);
            });
            return;
        }
        int strips = (n + nr - 1) / nr;
        parallelFor(strips, 2L * m * k * nr, (s0, s1) ->
                CpuGemm.gemmPrepacked(a, ao, w, c, co, acc, m, s0 * nr, Math.min(n, s1 * nr)));
    }

    /**
     * Rows when X is at least ROW_SPLIT_RATIO times taller than W is wide, W is at most NC wide (one column block) and
     * each thread gets at least two row blocks of MC. The fused SwiGLU keeps its column split (rows not measured there:
     * every row tile would read both weights' whole panels, 1.5 MB at 768 × 256, past a Zen 5 core's 1 MB L2).
     */
    private boolean splitsPackedByRows(int m, int n) {
        return ROW_SPLIT_RATIO > 0 && threads > 1 && n <= CpuGemm.NC && m >= ROW_SPLIT_RATIO * n
                && m >= 2 * threads * CpuGemm.MC;
    }

    /** {@link #splitsPackedByRows}'s ratio; -Dblt4j.packedRowSplit=0 keeps the column split always (for A/B runs). */
    static final int ROW_SPLIT_RATIO = Integer.getInteger("blt4j.packedRowSplit", 4);

    /**
     * Products X·Wᵀ with at most this many rows, on a W that is not registered weights (those take the packed path
     * above, row-invariant too), run row by row as dot products, so every row gets the bits it would get alone.
     */
    static final int ROW_INVARIANT_ROWS = 64;

    private static boolean rowInvariant(int m, boolean ta, boolean tb, int k) {
        return m <= ROW_INVARIANT_ROWS && !ta && tb && k > 0;
    }

    private static void gemmSerial(float[] a, int ao, boolean ta, float[] b, int bo, boolean tb, float[] c, int co,
                                   boolean acc, int m, int n, int k) {
        if (rowInvariant(m, ta, tb, k)) {
            CpuGemm.gemvDotRows(b, bo, a, ao, c, co, m, n, k, 0, n, acc);
        } else if (m == 1 && k > 0) {
            // x = the single row of op(A), contiguous either way
            if (tb) {
                CpuGemm.gemvDot(b, bo, a, ao, c, co, k, 0, n, acc);
            } else {
                CpuGemm.gemvAxpy(b, bo, n, a, ao, c, co, k, 0, n, acc);
            }
        } else if (n == 1 && k > 0) {
            if (!ta) {
                CpuGemm.gemvDot(a, ao, b, bo, c, co, k, 0, m, acc);
            } else {
                CpuGemm.gemvAxpy(a, ao, m, b, bo, c, co, k, 0, m, acc);
            }
        } else {
            CpuGemm.gemmBlock(a, ao, ta, b, bo, tb, c, co, acc, m, n, k, 0, m, 0, n);
        }
    }

    /** One matrix product, split over threads by row blocks of C (or column blocks when C is wide and short). */
    private void gemm(float[] a, int ao, boolean ta, float[] b, int bo, boolean tb, float[] c, int co,
                      boolean acc, int m, int n, int k) {
        if (rowInvariant(m, ta, tb, k)) {
            final int kk = k;
            if (m >= 8) {
                // threads take whole rows (in blocks of 4): splitting the columns would make them share C's cache lines
                int blocks = (m + 3) / 4;
                parallelFor(blocks, 8L * k * n, (from, to) -> {
                    int r0 = 4 * from;
                    int r1 = Math.min(m, 4 * to);
                    CpuGemm.gemvDotRows(b, bo, a, ao + r0 * kk, c, co + r0 * n, r1 - r0, n, kk, 0, n, acc);
                });
            } else {
                parallelFor(n, 2L * k * m, (from, to) -> CpuGemm.gemvDotRows(b, bo, a, ao, c, co, m, n, kk, from, to, acc));
            }
            return;
        }
        if (m == 1 && k > 0) {
            final int kk = k;
            if (tb) {
                parallelFor(n, 2L * k, (from, to) -> CpuGemm.gemvDot(b, bo, a, ao, c, co, kk, from, to, acc));
            } else {
                // column ranges in whole vectors so threads never share a cache line of C more than needed
                int lanes = CpuVectorMath.L;
                int groups = (n + lanes - 1) / lanes;
                parallelFor(groups, 2L * k * lanes, (from, to) ->
                        CpuGemm.gemvAxpy(b, bo, n, a, ao, c, co, kk, from * lanes, Math.min(n, to * lanes), acc));
            }
            return;
        }
        if (n == 1 && k > 0) {
            final int kk = k;
            if (!ta) {
                parallelFor(m, 2L * k, (from, to) -> CpuGemm.gemvDot(a, ao, b, bo, c, co, kk, from, to, acc));
            } else {
                int lanes = CpuVectorMath.L;
                int groups = (m + lanes - 1) / lanes;
                parallelFor(groups, 2L * k * lanes, (from, to) ->
                        CpuGemm.gemvAxpy(a, ao, m, b, bo, c, co, kk, from * lanes, Math.min(m, to * lanes), acc));
            }
            return;
        }
        int mr = CpuGemm.MR;
        int nr = CpuGemm.NR;
        int rowStrips = (m + mr - 1) / mr;
        int colStrips = (n + nr - 1) / nr;
        long total = 2L * m * n * Math.max(k, 1);
        int parts = parts(rowStrips * colStrips, total / Math.max(1, (long) rowStrips * colStrips));
        int depthBlocks = (k + CpuGemm.KC - 1) / CpuGemm.KC;
        if (parts > 1 && depthBlocks >= 2 * parts && k > 2 * Math.max(m, n)) {
            if (CpuGemm.grouped(ta, k)) {
                groupSplit(a, ao, b, bo, tb, c, co, acc, m, n, k);
            } else {
                depthSplit(a, ao, ta, b, bo, tb, c, co, acc, m, n, k, depthBlocks);
            }
            return;
        }
        // a B stored transposed is packed by a transposing copy, which each row block would repeat in full; column
        // blocks pack only their own part of B (and each packs all of A, a cheaper copy). That pays when A is not
        // much taller than B is wide (1024³ on two threads: +5-8%); with a tall A (4096 × 512 × 128) streaming A twice
        // costs more than the packing saved
        boolean splitB = !ta && tb && colStrips >= 4 * parts && m <= 2 * n;
        boolean byRows = !splitB && rowStrips >= 2 * parts && (m >= n || colStrips < 2 * parts);
        if (parts == 1 || k == 0 || (!byRows && colStrips < 2 * parts)) {
            CpuGemm.gemmBlock(a, ao, ta, b, bo, tb, c, co, acc, m, n, k, 0, m, 0, n);
            return;
        }
        // each thread takes a block of C and packs what it needs itself: one hand-off per product and no barrier
        // between panels (a shared B panel cost two per KC step: a third of the time of a 128-wide product on two
        // threads). Row blocks repeat B's packing per thread, a cost of threads/m per multiply-add; column blocks
        // repeat A's, threads/n.
        if (byRows) {
            parallelFor(rowStrips, total / rowStrips, (r0, r1) ->
                    CpuGemm.gemmBlock(a, ao, ta, b, bo, tb, c, co, acc, m, n, k, r0 * mr, Math.min(m, r1 * mr), 0, n));
        } else {
            parallelFor(colStrips, total / colStrips, (s0, s1) ->
                    CpuGemm.gemmBlock(a, ao, ta, b, bo, tb, c, co, acc, m, n, k, 0, m, s0 * nr, Math.min(n, s1 * nr)));
        }
    }

    /** Per-depth-block products of {@link #depthSplit} (grown, reused: one call at a time per backend). */
    private float[] depthParts = new float[0];

    /**
     * A small C over a long depth (weight gradients: 128 × 128 over 4,096 rows): threads take runs of KC blocks. The
     * first run goes straight into C; every later block into a buffer of its own, added to C in block order after, so
     * C gets exactly the serial product's bits (block sums from zero, added one after another) on any thread count.
     */
    private void depthSplit(float[] a, int ao, boolean ta, float[] b, int bo, boolean tb, float[] c, int co, boolean acc,
                            int m, int n, int k, int blocks) {
        int kc = CpuGemm.KC;
        int parts = parts(blocks, 2L * m * n * kc);
        int firstRun = blocks / parts;   // parallelFor's first chunk is [0, blocks / parts)
        int mn = m * n;
        float[] parts0 = partBuffers(blocks - firstRun, mn);
        if (parts0 == null) {
            CpuGemm.gemmBlock(a, ao, ta, b, bo, tb, c, co, acc, m, n, k, 0, m, 0, n);
            return;
        }
        parallelFor(blocks, 2L * m * n * kc, (b0, b1) -> {
            if (b0 == 0) {
                CpuGemm.gemmBlock(a, ao, ta, b, bo, tb, c, co, n, acc, m, n, k, 0, m, 0, n, 0, Math.min(k, b1 * kc));
                return;
            }
            for (int blk = b0; blk < b1; blk++) {
                CpuGemm.gemmBlock(a, ao, ta, b, bo, tb, parts0, (blk - firstRun) * mn, n, false, m, n, k, 0, m, 0, n,
                        blk * kc, Math.min(k, (blk + 1) * kc));
            }
        });
        addParts(parts0, blocks - firstRun, c, co, m, n);
    }

    /** count buffers of mn floats (grown, reused), or null when they would not fit in one array. */
    private float[] partBuffers(int count, int mn) {
        long need = (long) count * mn;
        if (need > Integer.MAX_VALUE - 8) {
            return null;
        }
        if (depthParts.length < need) {
            depthParts = new float[(int) need];
        }
        return depthParts;
    }

    /** C [m × n] += each of the first count buffers of parts, one after another, rows split over the threads. */
    private void addParts(float[] parts, int count, float[] c, int co, int m, int n) {
        int mn = m * n;
        parallelFor(m, (long) n * count, (r0, r1) -> {
            for (int p = 0; p < count; p++) {
                CpuRowKernels.add(parts, p * mn + r0 * n, c, co + r0 * n, c, co + r0 * n, 0, (r1 - r0) * n);
            }
        });
    }

    /**
     * A {@link CpuGemm#grouped} product (A transposed, a long depth) with threads taking its depth groups: group 0 goes
     * onto C, every later group into a buffer of its own, added to C in group order after, as the serial product does.
     */
    private void groupSplit(float[] a, int ao, float[] b, int bo, boolean tb, float[] c, int co, boolean acc, int m, int n,
                            int k) {
        int span = CpuGemm.GROUP_BLOCKS * CpuGemm.KC;
        int groups = (k + span - 1) / span;
        int mn = m * n;
        float[] parts0 = partBuffers(groups - 1, mn);
        if (parts0 == null) {
            CpuGemm.gemmBlock(a, ao, true, b, bo, tb, c, co, acc, m, n, k, 0, m, 0, n);
            return;
        }
        parallelFor(groups, 2L * mn * span, (g0, g1) -> {
            for (int g = g0; g < g1; g++) {
                int p0 = g * span, p1 = Math.min(k, p0 + span);
                if (g == 0) {
                    CpuGemm.gemmBlock(a, ao, true, b, bo, tb, c, co, n, acc, m, n, k, 0, m, 0, n, p0, p1);
                } else {
                    CpuGemm.gemmBlock(a, ao, true, b, bo, tb, parts0, (g - 1) * mn, n, false, m, n, k, 0, m, 0, n, p0, p1);
                }
            }
        });
        addParts(parts0, groups - 1, c, co, m, n);
    }

    // ------------------------------------------------------------------ normalisation

    @Override
    protected void rmsNormKernel(Tensor x, Tensor w, Tensor out, Tensor rstd, int rows, int d, float eps) {
        float[] xv = f(x), wv = f(w), ov = f(out), rv = f(rstd);
        int xo = x.offset(), wo = w.offset(), oo = out.offset(), ro = rstd.offset();
        parallelFor(rows, 4L * d, (from, to) -> {
            for (int r = from; r < to; r++) {
                CpuRowKernels.rmsNormRow(xv, xo + r * d, wv, wo, ov, oo + r * d, rv, ro + r, d, eps);
            }
        });
    }

    @Override
    protected void rmsNormBackwardKernel(Tensor dout, Tensor x, Tensor w, Tensor rstd, Tensor dx, Tensor dw, int rows, int d) {
        float[] gv = f(dout), xv = f(x), wv = f(w), rv = f(rstd), dxv = f(dx), dwv = f(dw);
        int go = dout.offset(), xo = x.offset(), wo = w.offset(), ro = rstd.offset(), dxo = dx.offset(), dwo = dw.offset();
        parallelFor(rows, 8L * d, (from, to) -> {
            for (int r = from; r < to; r++) {
                CpuRowKernels.rmsNormBackwardRow(gv, go + r * d, xv, xo + r * d, wv, wo, rv[ro + r], dxv, dxo + r * d, d);
            }
        });
        // dw: each thread owns a range of whole vector-width column groups
        int lanes = CpuVectorMath.L;
        int groups = (d + lanes - 1) / lanes;
        parallelFor(groups, 3L * rows * lanes, (from, to) ->
                CpuRowKernels.rmsNormDw(gv, go, xv, xo, rv, ro, dwv, dwo, rows, d, from * lanes, Math.min(d, to * lanes)));
    }

    // ------------------------------------------------------------------ RoPE

    @Override
    protected void ropeKernel(Tensor x, Tensor positions, Tensor cos, Tensor sin, Tensor out, int rows, int nHeads,
                              int headDim, boolean backward) {
        float[] xv = f(x), cv = f(cos), sv = f(sin), ov = f(out);
        int[] pv = i(positions);
        int xo = x.offset(), po = positions.offset(), oo = out.offset();
        int half = headDim / 2;
        int cso = cos.offset(), sso = sin.offset();
        int width = nHeads * headDim;
        parallelFor(rows, 3L * width, (from, to) -> {
            for (int r = from; r < to; r++) {
                int p = pv[po + r];
                CpuRowKernels.ropeRow(xv, xo + r * width, cv, cso + p * half, sv, sso + p * half, ov, oo + r * width, nHeads,
                        headDim, backward);
            }
        });
    }

    // ------------------------------------------------------------------ attention

    @Override
    protected void attentionKernel(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyLo, Tensor keyHi,
                                   int tq, int tk, int nHeads, int headDim) {
        float[] qv = f(q), kv = f(k), vv = f(v), ov = f(out), lv = f(lse);
        int[] lo = i(keyLo), hi = i(keyHi);
        int qo = q.offset(), ko = k.offset(), vo = v.offset(), oo = out.offset(), lso = lse.offset();
        int klo = keyLo.offset(), kho = keyHi.offset();
        int width = nHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        long avgKeys = Math.max(1, tk / 2);
        if (tq <= 2) {
            // cached decoding: one or two queries read a window of the cache; scoring the key rows directly is
            // cheaper than packing them
            parallelFor(nHeads * tq, 4L * headDim * avgKeys, (from, to) -> {
                float[] sbuf = CpuScratch.get().sbuf(tk + 1);
                for (int idx = from; idx < to; idx++) {
                    int h = idx / tq;
                    int r = idx % tq;
                    int hoff = h * headDim;
                    lv[lso + h * tq + r] = CpuAttention.attentionRowDirect(qv, qo + r * width + hoff, kv, ko + hoff, headDim,
                            vv, vo + hoff, ov, oo + r * width + hoff, width, lo[klo + r], hi[kho + r], scale, sbuf);
                }
            });
            return;
        }
        if (tq >= CpuAttentionTiles.MIN_QUERIES && tiledAttention(qv, qo, kv, ko, vv, vo, ov, oo, lv, lso, lo, klo, hi, kho, tq, tk,
                nHeads, headDim, scale)) {
            return;
        }
        // K packed per head into blocks of KB keys × headDim (reused buffer), so scores need no horizontal sums
        int kbl = CpuAttention.KB;
        int nkb = (tk + kbl - 1) / kbl;
        int need = nHeads * nkb * headDim * kbl;
        if (keyPack.length < need) {
            keyPack = new float[need];
        }
        float[] kt = keyPack;
        // only the key blocks some query reads: a cached step attends to a window, not to the whole cache
        long keys = keyUnion(lo, klo, hi, kho, tq, tk);
        int jbFrom = firstBlock(keys, kbl);
        int span = blockSpan(keys, kbl);
        parallelFor(nHeads * span, (long) headDim * kbl, (from, to) -> {
            for (int idx = from; idx < to; idx++) {
                CpuAttention.packKeys(kv, ko, width, headDim, tk, idx / span, jbFrom + idx % span, nkb, kt);
            }
        });
        // queries in pairs sharing K and V loads when their ranges overlap enough (adjacent rows of every BLT mask)
        int pairs = (tq + 1) / 2;
        parallelFor(nHeads * pairs, 8L * headDim * avgKeys, (from, to) -> {
            CpuScratch sc = CpuScratch.get();
            float[] sbuf = sc.sbuf(tk + 2 * kbl);
            float[] tbuf = sc.dbuf(tk + 2 * kbl);
            for (int idx = from; idx < to; idx++) {
                int h = idx / pairs;
                int q0 = 2 * (idx % pairs);
                int q1 = q0 + 1;
                int hoff = h * headDim;
                int kb = h * nkb * headDim * kbl;
                int a0 = lo[klo + q0], b0 = hi[kho + q0];
                if (q1 < tq) {
                    int a1 = lo[klo + q1], b1 = hi[kho + q1];
                    int union = Math.max(b0, b1) - Math.min(a0, a1);
                    if (b0 > a0 && b1 > a1 && 4L * union <= 3L * ((b0 - a0) + (b1 - a1)) + 4L * CpuVectorMath.L) {
                        CpuAttention.attentionPairPacked(qv, qo + q0 * width + hoff, qo + q1 * width + hoff, kt, kb, headDim,
                                vv, vo + hoff, ov, oo + q0 * width + hoff, oo + q1 * width + hoff, width, a0, b0, a1, b1, scale,
                                lv, lso + h * tq + q0, lso + h * tq + q1, sbuf, tbuf);
                        continue;
                    }
                    lv[lso + h * tq + q1] = CpuAttention.attentionRowPacked(qv, qo + q1 * width + hoff, kt, kb, headDim,
                            vv, vo + hoff, ov, oo + q1 * width + hoff, width, a1, b1, scale, sbuf);
                }
                lv[lso + h * tq + q0] = CpuAttention.attentionRowPacked(qv, qo + q0 * width + hoff, kt, kb, headDim,
                        vv, vo + hoff, ov, oo + q0 * width + hoff, width, a0, b0, scale, sbuf);
            }
        });
    }

    /** The union [a, b) of the queries' non-empty key ranges, as (a << 32) | b; (tk << 32) | 0 when all are empty. */
    private static long keyUnion(int[] lo, int klo, int[] hi, int kho, int tq, int tk) {
        int minLo = tk, maxHi = 0;
        for (int i = 0; i < tq; i++) {
            int a = lo[klo + i], b = hi[kho + i];
            if (b > a) {
                minLo = Math.min(minLo, a);
                maxHi = Math.max(maxHi, b);
            }
        }
        return ((long) minLo << 32) | maxHi;
    }

    /** The first block of blk keys the union reads (0 when it is empty). */
    private static int firstBlock(long union, int blk) {
        int a = (int) (union >>> 32), b = (int) union;
        return b > a ? a / blk : 0;
    }

    /** How many blocks of blk keys the union reads, from {@link #firstBlock}. */
    private static int blockSpan(long union, int blk) {
        int a = (int) (union >>> 32), b = (int) union;
        return b > a ? (b + blk - 1) / blk - a / blk : 0;
    }

    /**
     * The forward on tiles of queries ({@link CpuAttentionTiles}) when most tiles' key ranges overlap (causal and
     * windowed self-attention, the decoder's cross-attention); false, having done nothing, otherwise. Tiles whose
     * ranges do not overlap, and the last queries when tq is not a whole number of tiles, take the row kernel.
     */
    private boolean tiledAttention(float[] qv, int qo, float[] kv, int ko, float[] vv, int vo, float[] ov, int oo,
                                   float[] lv, int lso, int[] lo, int klo, int[] hi, int kho, int tq, int tk, int nHeads,
                                   int headDim, float scale) {
        int qt = CpuAttentionTiles.QT;
        int tiles = tq / qt;
        int compact = 0;
        for (int t = 0; t < tiles; t++) {
            if (CpuAttentionTiles.compact(lo, klo, hi, kho, t * qt)) {
                compact++;
            }
        }
        if (4 * compact < 3 * tiles) {
            return false;
        }
        int width = nHeads * headDim;
        int nks = (tk + CpuAttentionTiles.KT - 1) / CpuAttentionTiles.KT;
        int perHead = tiles + (tq - tiles * qt);   // whole tiles, then the leftover queries one by one
        // each item weighs the keys it reads, so a causal mask's late tiles do not all land on the last thread
        int items = nHeads * perHead;
        long[] cum = CpuScratch.get().weights(items + 1);
        cum[0] = 0;
        for (int t = 0; t < perHead; t++) {
            long keys = 0;
            if (t < tiles && CpuAttentionTiles.compact(lo, klo, hi, kho, t * qt)) {
                int a = Integer.MAX_VALUE, b = 0;
                for (int r = t * qt; r < (t + 1) * qt; r++) {
                    a = Math.min(a, lo[klo + r]);
                    b = Math.max(b, hi[kho + r]);
                }
                keys = (long) qt * (b - a);
            } else {
                int r0 = t < tiles ? t * qt : tiles * qt + (t - tiles);
                for (int r = r0; r < (t < tiles ? r0 + qt : r0 + 1); r++) {
                    keys += Math.max(0, hi[kho + r] - lo[klo + r]);
                }
            }
            cum[t + 1] = cum[t] + keys + 1;
        }
        repeatHeads(cum, perHead, nHeads);
        parallelForWeighted(items, cum, 4L * headDim, (from, to) -> {
            CpuScratch sc = CpuScratch.get();
            CpuAttentionTiles.HeadPanels panels = sc.headPanels;
            int panelHead = -1;
            for (int idx = from; idx < to; idx++) {
                int h = idx / perHead;
                int t = idx % perHead;
                int hoff = h * headDim;
                if (t < tiles && CpuAttentionTiles.compact(lo, klo, hi, kho, t * qt)) {
                    if (h != panelHead) {
                        panels.start(nks, tk, headDim);
                        panelHead = h;
                    }
                    CpuAttentionTiles.tile(qv, qo, kv, ko, vv, vo, panels, nks, tk, ov, oo, width, h, headDim, t * qt, lo,
                            klo, hi, kho, scale, lv, lso + h * tq, sc);
                    continue;
                }
                int r0 = t < tiles ? t * qt : tiles * qt + (t - tiles);
                int r1 = t < tiles ? r0 + qt : r0 + 1;
                float[] sbuf = sc.dbuf(tk + 1);
                for (int r = r0; r < r1; r++) {
                    lv[lso + h * tq + r] = CpuAttention.attentionRowDirect(qv, qo + r * width + hoff, kv, ko + hoff, headDim,
                            vv, vo + hoff, ov, oo + r * width + hoff, width, lo[klo + r], hi[kho + r], scale, sbuf);
                }
            }
        });
        return true;
    }

    @Override
    protected void attentionBackwardKernel(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                           Tensor keyLo, Tensor keyHi, Tensor dq, Tensor dk, Tensor dv,
                                           int tq, int tk, int nHeads, int headDim) {
        attentionBackward.run(dout, q, k, v, out, lse, keyLo, keyHi, dq, dk, dv, tq, tk, nHeads, headDim);
    }

    // ------------------------------------------------------------------ loss, entropy

    @Override
    protected void crossEntropyKernel(Tensor logits, Tensor targets, Tensor weights, Tensor losses, int rows, int cols) {
        float[] lv = f(logits), wv = f(weights), sv = f(losses);
        int[] tv = i(targets);
        int lo = logits.offset(), to = targets.offset(), wo = o(weights), so = losses.offset();
        parallelFor(rows, 10L * cols, (from, end) -> {
            for (int r = from; r < end; r++) {
                int t = tv[to + r];
                float w = wv == null ? 1f : wv[wo + r];
                if (t < 0 || w == 0f) {
                    sv[so + r] = 0f;
                    continue;
                }
                sv[so + r] = w * (CpuRowKernels.logSumExp(lv, lo + r * cols, cols) - lv[lo + r * cols + t]);
            }
        });
    }

    @Override
    protected void crossEntropyBackwardKernel(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dlogits,
                                              int rows, int cols) {
        float[] lv = f(logits), wv = f(weights), dv = f(dlogits);
        int[] tv = i(targets);
        int lo = logits.offset(), to = targets.offset(), wo = o(weights), dlo = dlogits.offset();
        parallelFor(rows, 20L * cols, (from, end) -> {
            for (int r = from; r < end; r++) {
                int t = tv[to + r];
                float w = wv == null ? 1f : wv[wo + r];
                if (t < 0 || w == 0f) {
                    continue;
                }
                float lse = CpuRowKernels.logSumExp(lv, lo + r * cols, cols);
                float fac = scale * w;
                CpuRowKernels.ceBackwardRow(lv, lo + r * cols, lse, fac, dv, dlo + r * cols, cols);
                dv[dlo + r * cols + t] -= fac;
            }
        });
    }

    @Override
    protected void entropyKernel(Tensor logits, Tensor out, int rows, int cols) {
        float[] lv = f(logits), ov = f(out);
        int lo = logits.offset(), oo = out.offset();
        parallelFor(rows, 12L * cols, (from, to) -> {
            for (int r = from; r < to; r++) {
                ov[oo + r] = CpuRowKernels.entropyRow(lv, lo + r * cols, cols);
            }
        });
    }

    // ------------------------------------------------------------------ embedding and pooling

    @Override
    protected void embeddingKernel(Tensor table, Tensor ids, Tensor out, int n, int d, int tableRows, boolean accumulate) {
        float[] tv = f(table), ov = f(out);
        int[] iv = i(ids);
        int tbo = table.offset(), io = ids.offset(), oo = out.offset();
        parallelFor(n, d, (from, to) -> {
            for (int r = from; r < to; r++) {
                CpuRowKernels.copyRow(tv, tbo + iv[io + r] * d, ov, oo + r * d, d, accumulate);
            }
        });
    }

    @Override
    protected void embeddingBackwardKernel(Tensor dout, Tensor ids, Tensor dtable, int n, int d, int tableRows) {
        float[] gv = f(dout), tv = f(dtable);
        int[] iv = i(ids);
        int go = dout.offset(), io = ids.offset(), dto = dtable.offset();
        // each thread owns a range of columns and walks all ids in order: no races, reference summation order
        int lanes = CpuVectorMath.L;
        int groups = (d + lanes - 1) / lanes;
        parallelFor(groups, (long) n * lanes, (from, to) -> {
            int c0 = from * lanes;
            int c1 = Math.min(d, to * lanes);
            for (int r = 0; r < n; r++) {
                CpuVectorMath.axpy(1f, gv, go + r * d + c0, tv, dto + iv[io + r] * d + c0, c1 - c0);
            }
        });
    }

    @Override
    protected void segmentMaxKernel(Tensor x, Tensor lo, Tensor hi, Tensor out, Tensor argmax, int segments, int rows, int d) {
        float[] xv = f(x), ov = f(out);
        int[] lv = i(lo), hv = i(hi), av = i(argmax);
        int xo = x.offset(), slo = lo.offset(), sho = hi.offset(), oo = out.offset(), ao = argmax.offset();
        long avg = Math.max(1, rows / Math.max(1, segments));
        parallelFor(segments, avg * d, (from, to) -> {
            for (int s = from; s < to; s++) {
                CpuRowKernels.segmentMaxSeg(xv, xo, lv[slo + s], hv[sho + s], ov, oo + s * d, av, ao + s * d, d);
            }
        });
    }

    @Override
    protected void segmentMaxBackwardKernel(Tensor dout, Tensor argmax, Tensor dx, int segments, int rows, int d) {
        float[] gv = f(dout), xv = f(dx);
        int[] av = i(argmax);
        int go = dout.offset(), ao = argmax.offset(), dxo = dx.offset();
        // a scatter by row index: each thread owns whole columns, so two segments never race on one element
        parallelFor(d, 2L * segments, (from, to) -> {
            for (int s = 0; s < segments; s++) {
                int base = s * d;
                for (int c = from; c < to; c++) {
                    int r = av[ao + base + c];
                    if (r >= 0) {
                        xv[dxo + r * d + c] += gv[go + base + c];
                    }
                }
            }
        });
    }
}
