package blt4j.compute;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one set of compute ops every model runs on. Public methods check shapes and indices (one clear error for
 * every backend), count FLOPs, time the op when profiling, then call the backend's kernel. Kernels never throw:
 * ids, targets and RoPE positions are validated here, against the host copy of their I32 tensor (no device read).
 * Conventions shared by all ops:
 * <ul>
 *   <li>Tensors are row-major; "rows" is the product of all but the last dimension.</li>
 *   <li>Linear weights are stored {@code [out, in]}: {@code y = x · Wᵀ} is {@code matmul(x, false, W, true, y, false)}.</li>
 *   <li>Backward ops <b>add</b> into gradient tensors (llm.c style): callers zero gradients once per step.</li>
 *   <li>Attention and pooling masks are per-query contiguous key ranges {@code [lo, hi)}: causal, sliding-window,
 *       document and patch masks all reduce to one range per row (see {@link AttentionMask}). An empty range gives 0.</li>
 *   <li>Index tensors (embedding ids, targets, positions) must be written from the host ({@code fromHost}/{@code upload});
 *       an I32 tensor a kernel wrote (segmentMax's argmax) has no host copy and is refused as an index source.</li>
 * </ul>
 *
 * <p><b>A new backend</b> implements the 30 {@code protected abstract} methods below plus {@link #name()} and
 * {@link #describe()}; a host backend extending {@link HostBackend} gets the 7 memory methods and writes 20 kernels.
 *
 * <p><b>Adding an op</b> touches, in order:
 * <ol>
 *   <li>{@code Backend}: the {@code public final} op (shape and index checks, {@link #countFlops}, opStart/opEnd)
 *       and its {@code protected abstract ...Kernel};</li>
 *   <li>{@code ReferenceKernels}: a static lane body for one parallel index (dims in an {@code int[]}, no throw,
 *       no allocation, at most 15 arguments), and the loop over that index in {@code ReferenceBackend};</li>
 *   <li>the Vector API kernel in {@code CpuRowKernels}/{@code CpuAttention*}/{@code CpuGemm} and its parallel
 *       split in {@code CpuBackend} (deterministic: no two threads write one element);</li>
 *   <li>the OpenCL C kernel in {@code src/main/resources/opencl/<family>.cl} (a new family also goes into
 *       {@code KernelSources}) and its launch in {@code OpenClBackend};</li>
 *   <li>{@code BackendParityTest} (every backend against the reference at awkward sizes and offsets);</li>
 *   <li>{@code GradientCheckTest} with a double-precision forward in {@code DoubleOps} (forward and backward);</li>
 *   <li>FLOP counting here if the op is matmul-like, and a row in {@code bench/KernelBenchmark} if it is hot.</li>
 * </ol>
 */
public abstract class Backend implements AutoCloseable {

    private long flops;
    /** stage → op → {calls, nanoseconds, counted FLOPs}; null when profiling is off. */
    private Map<String, Map<String, long[]>> profile;
    private String stage = "-";
    private boolean profileShapes;
    /** {@link #flops} when the last profiled op ended: an op counts its FLOPs before it starts, so the next op's are
     * the difference at its end. */
    private long flopsAtOpEnd;
    private long allocations;
    private long allocatedBytes;
    /** Host copies of the I32 storages of a device backend (unused by host backends, whose storage is the copy). */
    private final HostIntCopies intCopies = new HostIntCopies();

    /** Short name used on the command line: reference, cpu, opencl. */
    public abstract String name();

    /** One line naming the device and its settings, for reports. */
    public abstract String describe();

    /** Multiply-add FLOPs of matmul and attention (forward and backward) run since the last reset. */
    public long flops() {
        return flops;
    }

    public void resetFlops() {
        flops = 0;
        flopsAtOpEnd = 0;
    }

    protected void countFlops(long n) {
        flops += n;
    }

    /** Starts collecting wall time per op (synchronising after each op on device backends); false stops. */
    public void setProfiling(boolean on) {
        setProfiling(on, false);
    }

    /**
     * As {@link #setProfiling(boolean)}; byShape also splits matmul by its shape, as "matmul 4096x256x256 n,t" (M×N×K,
     * then whether A and B are transposed; "+=" when accumulating; "b4 " first for a batch of 4), to find which
     * product runs slow.
     */
    public void setProfiling(boolean on, boolean byShape) {
        profile = on ? new TreeMap<>() : null;
        profileShapes = on && byShape;
        flopsAtOpEnd = flops;
    }

    /** Names the model stage the next ops belong to (profiling keys read {@code stage.op}); null clears it. */
    public void setStage(String stage) {
        this.stage = stage == null ? "-" : stage;
    }

    /** Buffers allocated on this backend so far (a training step after warm-up should add none). */
    public long allocations() {
        return allocations;
    }

    /** Bytes of all buffers allocated so far. */
    public long allocatedBytes() {
        return allocatedBytes;
    }

    /** "stage.op" → {calls, nanoseconds, counted FLOPs} since profiling was switched on. */
    public Map<String, long[]> opTimes() {
        if (profile == null) {
            return Map.of();
        }
        Map<String, long[]> flat = new TreeMap<>();
        profile.forEach((s, ops) -> ops.forEach((op, e) -> flat.put(s + "." + op, e)));
        return Collections.unmodifiableMap(flat);
    }

    /** Start time of an op when profiling (else 0); every public op pairs it with {@link #opEnd}. */
    private long opStart() {
        return profile == null ? 0 : System.nanoTime();
    }

    private void opEnd(String op, long start) {
        if (profile != null) {
            synchronize();
            long[] e = profile.computeIfAbsent(stage, k -> new TreeMap<>()).computeIfAbsent(op, k -> new long[3]);
            e[0]++;
            e[1] += System.nanoTime() - start;
            e[2] += flops - flopsAtOpEnd;
            flopsAtOpEnd = flops;
        }
    }

    /** Blocks until all queued work is done (device backends); host backends return at once. */
    public void synchronize() {}

    @Override
    public void close() {}

    // ------------------------------------------------------------------ memory

    /** A new zero-filled tensor. */
    /**
     * Registers the storage of a model's parameters (weights that change only through the writing ops below): a
     * backend may keep derived forms of them, such as packed matrices, until the next write.
     */
    public void registerWeights(Tensor params) {}

    /** Called by every op before it writes its outputs; a backend drops what it derived from them. */
    protected void wrote(Tensor t) {}

    private void writes(Tensor... outs) {
        for (Tensor t : outs) {
            if (t != null) {
                wrote(t);
            }
        }
    }

    public final Tensor allocate(DType dtype, int... shape) {
        int size = Tensor.checkedSize(shape);
        allocations++;
        allocatedBytes += (long) size * dtype.bytes();
        Tensor t = new Tensor(this, allocateStorage(dtype, size), 0, dtype, shape);
        if (dtype == DType.I32 && hostInts(t) == null) {
            intCopies.register(t);
        }
        return t;
    }

    public final Tensor zeros(int... shape) {
        return allocate(DType.F32, shape);
    }

    public final Tensor fromHost(float[] data, int... shape) {
        Tensor t = allocate(DType.F32, shape);
        requireLength(data.length, t.size(), "fromHost");
        writeFloats(t, data, 0);
        return t;
    }

    public final Tensor fromHost(int[] data, int... shape) {
        Tensor t = allocate(DType.I32, shape);
        requireLength(data.length, t.size(), "fromHost");
        writeInts(t, data, 0);
        intCopies.hostWrote(t, data);
        return t;
    }

    /** Copies {@code dst.size()} floats from {@code src[srcOffset...]} into the tensor. */
    public final void upload(float[] src, int srcOffset, Tensor dst) {
        writes(dst);
        own(dst);
        dtype(dst, DType.F32, "upload");
        if (srcOffset < 0 || (long) srcOffset + dst.size() > src.length) {
            throw new IllegalArgumentException("upload: source has " + src.length + " floats, need " + dst.size() + " from " + srcOffset);
        }
        writeFloats(dst, src, srcOffset);
    }

    public final void upload(int[] src, Tensor dst) {
        writes(dst);
        requireLength(src.length, dst.size(), "upload");
        upload(src, 0, dst);
    }

    /** Copies {@code dst.size()} ints from {@code src[srcOffset...]} into the tensor (a prefix of a host buffer). */
    public final void upload(int[] src, int srcOffset, Tensor dst) {
        writes(dst);
        own(dst);
        dtype(dst, DType.I32, "upload");
        if (srcOffset < 0 || (long) srcOffset + dst.size() > src.length) {
            throw new IllegalArgumentException("upload: source has " + src.length + " ints, need " + dst.size() + " from " + srcOffset);
        }
        writeInts(dst, src, srcOffset);
        intCopies.hostWrote(dst, src, srcOffset);
    }

    /** The tensor's values on the host (a BF16 tensor widened to fp32, exactly). */
    public final float[] toHost(Tensor t) {
        own(t);
        float[] out = new float[t.size()];
        if (t.dtype() == DType.BF16) {
            short[] raw = new short[t.size()];
            readBf16(t, raw);
            for (int i = 0; i < raw.length; i++) {
                out[i] = KernelMath.bf16(raw[i]);
            }
            return out;
        }
        dtype(t, DType.F32, "toHost");
        readFloats(t, out, 0);
        return out;
    }

    /**
     * A read-only BF16 tensor over bfloat16 bits that lie outside the Java heap (a weight mapped from its file): host
     * backends read them in place, device backends upload them once.
     */
    public final Tensor wrapBf16(java.nio.ShortBuffer bits, int... shape) {
        int size = Tensor.checkedSize(shape);
        if (bits.remaining() != size) {
            throw new IllegalArgumentException("wrapBf16: " + bits.remaining() + " values for shape " + Arrays.toString(shape));
        }
        allocations++;
        return new Tensor(this, wrapBf16Storage(bits.slice(), size), 0, DType.BF16, shape);
    }

    /** Copies {@code dst.size()} bfloat16 values (raw bits) from {@code src[srcOffset...]} into a BF16 tensor. */
    public final void uploadBf16(short[] src, int srcOffset, Tensor dst) {
        writes(dst);
        own(dst);
        dtype(dst, DType.BF16, "uploadBf16");
        if (srcOffset < 0 || (long) srcOffset + dst.size() > src.length) {
            throw new IllegalArgumentException("uploadBf16: source has " + src.length + " values, need " + dst.size()
                    + " from " + srcOffset);
        }
        writeBf16(dst, src, srcOffset);
    }

    /** Copies the tensor into {@code dst[dstOffset...]}. */
    public final void download(Tensor t, float[] dst, int dstOffset) {
        own(t);
        dtype(t, DType.F32, "download");
        if (dstOffset < 0 || (long) dstOffset + t.size() > dst.length) {
            throw new IllegalArgumentException("download: destination too small");
        }
        readFloats(t, dst, dstOffset);
    }

    public final int[] toHostInts(Tensor t) {
        own(t);
        dtype(t, DType.I32, "toHostInts");
        int[] out = new int[t.size()];
        readInts(t, out);
        return out;
    }

    public final void copy(Tensor src, Tensor dst) {
        writes(dst);
        own(src, dst);
        sameSize(src, dst, "copy");
        if (src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException("copy: dtype " + src.dtype() + " to " + dst.dtype());
        }
        if (src.dtype() == DType.I32) {
            intCopies.copied(src, hostInts(src), dst);
        }
        long t0 = opStart();
        copyKernel(src, dst);
        opEnd("copy", t0);
    }

    public final void fill(Tensor t, float value) {
        writes(t);
        own(t);
        dtype(t, DType.F32, "fill");
        long t0 = opStart();
        fillKernel(t, value);
        opEnd("fill", t0);
    }

    public final void zero(Tensor t) {
        writes(t);
        fill(t, 0f);
    }

    // ------------------------------------------------------------------ elementwise

    /** out = a + b. */
    public final void add(Tensor a, Tensor b, Tensor out) {
        writes(out);
        f32("add", a, b, out);
        sameSize(a, b, "add");
        sameSize(a, out, "add");
        long t0 = opStart();
        addKernel(a, b, out);
        opEnd("add", t0);
    }

    /** y += alpha · x (residual connections, gradient accumulation). */
    public final void axpy(float alpha, Tensor x, Tensor y) {
        writes(y);
        f32("axpy", x, y);
        sameSize(x, y, "axpy");
        long t0 = opStart();
        axpyKernel(alpha, x, y);
        opEnd("axpy", t0);
    }

    /** out = s · x (may be in place). */
    public final void scale(Tensor x, float s, Tensor out) {
        writes(out);
        f32("scale", x, out);
        sameSize(x, out, "scale");
        long t0 = opStart();
        scaleKernel(x, s, out);
        opEnd("scale", t0);
    }

    // ------------------------------------------------------------------ matmul

    /**
     * C = op(A)·op(B), or C += op(A)·op(B) when accumulating. 2-D: A [M,K] (or [K,M] transposed),
     * B [K,N] (or [N,K] transposed), C [M,N]. 3-D: the same per leading batch index.
     */
    public final void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, boolean accumulate) {
        writes(c);
        f32("matmul", a, c);
        own(b);
        if (b.dtype() == DType.BF16) {
            // bf16 weights serve inference products X·Wᵀ only (fp32 accumulation)
            if (transA || !transB) {
                throw new IllegalArgumentException("matmul: a BF16 operand must be the weight of X·Wᵀ, got " + b
                        + (transA ? " with A transposed" : " not transposed"));
            }
        } else {
            dtype(b, DType.F32, "matmul");
        }
        if (a.rank() != b.rank() || a.rank() != c.rank() || a.rank() < 2 || a.rank() > 3) {
            throw new IllegalArgumentException("matmul: operands must all be 2-D or all 3-D, got "
                    + Arrays.toString(a.shape()) + " " + Arrays.toString(b.shape()) + " " + Arrays.toString(c.shape()));
        }
        int batch = a.rank() == 3 ? a.dim(0) : 1;
        if (a.rank() == 3 && (b.dim(0) != batch || c.dim(0) != batch)) {
            throw new IllegalArgumentException("matmul: batch sizes differ, " + Arrays.toString(a.shape()) + " "
                    + Arrays.toString(b.shape()) + " " + Arrays.toString(c.shape()));
        }
        int m = transA ? a.dim(-1) : a.dim(-2);
        int k = transA ? a.dim(-2) : a.dim(-1);
        int kb = transB ? b.dim(-1) : b.dim(-2);
        int n = transB ? b.dim(-2) : b.dim(-1);
        if (k != kb || c.dim(-2) != m || c.dim(-1) != n) {
            throw new IllegalArgumentException("matmul: shapes " + Arrays.toString(a.shape()) + (transA ? "ᵀ" : "") + " · "
                    + Arrays.toString(b.shape()) + (transB ? "ᵀ" : "") + " -> " + Arrays.toString(c.shape()) + " do not match");
        }
        countFlops(2L * batch * m * n * k);
        long t0 = opStart();
        matmulKernel(a, transA, b, transB, c, accumulate, batch, m, n, k);
        opEnd(profileShapes ? matmulShape(batch, m, n, k, transA, transB, accumulate) : "matmul", t0);
    }

    private static String matmulShape(int batch, int m, int n, int k, boolean ta, boolean tb, boolean acc) {
        return "matmul " + (batch > 1 ? "b" + batch + " " : "") + m + "x" + n + "x" + k + " " + (ta ? "t" : "n") + ","
                + (tb ? "t" : "n") + (acc ? " +=" : "");
    }

    // ------------------------------------------------------------------ normalisation and activations

    /** out = x / sqrt(mean(x²) + eps) · w per row; rstd [rows] keeps 1/sqrt(...) for the backward. */
    public final void rmsNorm(Tensor x, Tensor w, Tensor out, Tensor rstd, float eps) {
        writes(out, rstd);
        f32("rmsNorm", x, w, out, rstd);
        int d = x.cols();
        requireLength(w.size(), d, "rmsNorm weight");
        sameSize(x, out, "rmsNorm");
        requireLength(rstd.size(), x.rows(), "rmsNorm rstd");
        long t0 = opStart();
        rmsNormKernel(x, w, out, rstd, x.rows(), d, eps);
        opEnd("rmsNorm", t0);
    }

    /** dx += ∂L/∂x, dw += ∂L/∂w. */
    public final void rmsNormBackward(Tensor dout, Tensor x, Tensor w, Tensor rstd, Tensor dx, Tensor dw) {
        writes(dx, dw);
        f32("rmsNormBackward", dout, x, w, rstd, dx, dw);
        sameSize(dout, x, "rmsNormBackward");
        sameSize(dx, x, "rmsNormBackward");
        sameSize(dw, w, "rmsNormBackward");
        requireLength(w.size(), x.cols(), "rmsNormBackward weight");
        long t0 = opStart();
        rmsNormBackwardKernel(dout, x, w, rstd, dx, dw, x.rows(), x.cols());
        opEnd("rmsNormBackward", t0);
    }

    /** The SwiGLU gate: out = silu(gate) ⊙ up. */
    public final void swiglu(Tensor gate, Tensor up, Tensor out) {
        writes(out);
        f32("swiglu", gate, up, out);
        sameSize(gate, up, "swiglu");
        sameSize(gate, out, "swiglu");
        long t0 = opStart();
        swigluKernel(gate, up, out);
        opEnd("swiglu", t0);
    }

    /**
     * out = silu(x·w1ᵀ) ⊙ (x·w3ᵀ): the SwiGLU gate and up projections and their product as one op, so that a backend
     * can form the product while both sums are still in registers. x [T, d]; w1 and w3 [F, d], weights as for
     * {@link #matmul} (fp32 or bf16); gate, up and out [T, F]. With keepGateUp, gate and up end holding x·w1ᵀ and
     * x·w3ᵀ (the backward needs them); without, they are scratch whose contents afterwards are unspecified. The
     * result equals matmul, matmul and {@link #swiglu}.
     */
    public final void swigluMatmul(Tensor x, Tensor w1, Tensor w3, Tensor gate, Tensor up, Tensor out,
                                   boolean keepGateUp) {
        writes(gate, up, out);
        f32("swigluMatmul", x, gate, up, out);
        own(w1, w3);
        for (Tensor w : new Tensor[] {w1, w3}) {
            if (w.dtype() != DType.F32 && w.dtype() != DType.BF16) {
                throw new IllegalArgumentException("swigluMatmul: expected an F32 or BF16 weight, got " + w);
            }
        }
        int m = x.rank() == 2 ? x.rows() : -1;
        int k = x.rank() == 2 ? x.cols() : -1;
        int n = w1.rank() == 2 ? w1.rows() : -1;
        boolean fits = m >= 0 && n >= 0 && w1.cols() == k && Arrays.equals(w1.shape(), w3.shape());
        for (Tensor t : new Tensor[] {gate, up, out}) {
            fits &= t.rank() == 2 && t.rows() == m && t.cols() == n;
        }
        if (!fits) {
            throw new IllegalArgumentException("swigluMatmul: shapes x " + Arrays.toString(x.shape()) + ", w1 "
                    + Arrays.toString(w1.shape()) + ", w3 " + Arrays.toString(w3.shape()) + " -> gate "
                    + Arrays.toString(gate.shape()) + ", up " + Arrays.toString(up.shape()) + ", out "
                    + Arrays.toString(out.shape()) + " do not match");
        }
        countFlops(4L * m * n * k);
        long t0 = opStart();
        swigluMatmulKernel(x, w1, w3, gate, up, out, keepGateUp, m, n, k);
        opEnd("swigluMatmul", t0);
    }

    /**
     * dgate = dout ⊙ up ⊙ silu'(gate), dup = dout ⊙ silu(gate): overwritten, not added to, unlike the other backward
     * ops. The gate and up gradients are only ever this op's, and adding into them meant zeroing two [T, hidden]
     * buffers first and reading them back, about 1% of a byte-transformer training step.
     */
    public final void swigluBackward(Tensor dout, Tensor gate, Tensor up, Tensor dgate, Tensor dup) {
        writes(dgate, dup);
        f32("swigluBackward", dout, gate, up, dgate, dup);
        sameSize(dout, gate, "swigluBackward");
        sameSize(gate, up, "swigluBackward");
        sameSize(gate, dgate, "swigluBackward");
        sameSize(gate, dup, "swigluBackward");
        long t0 = opStart();
        swigluBackwardKernel(dout, gate, up, dgate, dup);
        opEnd("swigluBackward", t0);
    }

    // ------------------------------------------------------------------ RoPE

    /**
     * Rotary embedding on interleaved pairs (dims 2i, 2i+1) of every head: x [T, nHeads·headDim],
     * positions [T] (int), cos/sin tables [maxPos, headDim/2] from {@link RopeTables}. May run in place.
     */
    public final void rope(Tensor x, Tensor positions, Tensor cos, Tensor sin, Tensor out, int nHeads, int headDim) {
        writes(out);
        checkRope("rope", x, positions, cos, sin, out, nHeads, headDim);
        long t0 = opStart();
        ropeKernel(x, positions, cos, sin, out, x.rows(), nHeads, headDim, false);
        opEnd("rope", t0);
    }

    /** dx += Rᵀ·dout (the inverse rotation). */
    public final void ropeBackward(Tensor dout, Tensor positions, Tensor cos, Tensor sin, Tensor dx, int nHeads, int headDim) {
        writes(dx);
        checkRope("ropeBackward", dout, positions, cos, sin, dx, nHeads, headDim);
        long t0 = opStart();
        ropeKernel(dout, positions, cos, sin, dx, dout.rows(), nHeads, headDim, true);
        opEnd("ropeBackward", t0);
    }

    private void checkRope(String op, Tensor x, Tensor positions, Tensor cos, Tensor sin, Tensor out, int nHeads, int headDim) {
        f32(op, x, cos, sin, out);
        ints(op, positions);
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException(op + ": head dim " + headDim + " must be even");
        }
        requireLength(x.cols(), nHeads * headDim, op, "row width");
        sameSize(x, out, op);
        requireLength(positions.size(), x.rows(), op, "positions");
        if (cos.cols() != headDim / 2 || sin.size() != cos.size()) {
            throw new IllegalArgumentException(op + ": cos/sin tables must be [maxPos, " + headDim / 2 + "]");
        }
        checkIndices(op, "position", positions, cos.rows(), false, "the cos/sin table of %d positions");
    }

    // ------------------------------------------------------------------ attention

    /**
     * Multi-head attention with per-query key ranges. q [Tq, H·D], k and v [Tk, H·D], out [Tq, H·D];
     * query i of every head attends to keys [mask.lo[i], mask.hi[i]) with scale 1/sqrt(D). lse [H, Tq] keeps
     * each row's log-sum-exp for the backward (−∞ for an empty range, whose output is 0, never NaN).
     */
    public final void attention(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Ranges mask, int nHeads) {
        writes(out, lse);
        int headDim = checkAttention("attention", q, k, v, out, lse, mask, nHeads);
        countFlops(4L * headDim * nHeads * mask.total());
        long t0 = opStart();
        attentionKernel(q, k, v, out, lse, mask.lo(), mask.hi(), q.rows(), k.rows(), nHeads, headDim);
        opEnd("attention", t0);
    }

    /** dq, dk, dv += gradients of {@link #attention} given its output and lse. */
    public final void attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                        Ranges mask, Tensor dq, Tensor dk, Tensor dv, int nHeads) {
        writes(dq, dk, dv);
        int headDim = checkAttention("attentionBackward", q, k, v, out, lse, mask, nHeads);
        f32("attentionBackward", dout, dq, dk, dv);
        sameSize(dout, out, "attentionBackward");
        sameSize(dq, q, "attentionBackward");
        sameSize(dk, k, "attentionBackward");
        sameSize(dv, v, "attentionBackward");
        countFlops(8L * headDim * nHeads * mask.total());
        long t0 = opStart();
        attentionBackwardKernel(dout, q, k, v, out, lse, mask.lo(), mask.hi(), dq, dk, dv, q.rows(), k.rows(), nHeads, headDim);
        opEnd("attentionBackward", t0);
    }

    private int checkAttention(String op, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Ranges mask, int nHeads) {
        f32(op, q, k, v, out, lse);
        ints(op, mask.lo(), mask.hi());
        if (mask.maxHi() > k.rows()) {
            throw new IllegalArgumentException(op + ": mask reaches key " + mask.maxHi() + " but there are only " + k.rows() + " keys");
        }
        int width = q.cols();
        if (nHeads <= 0 || width % nHeads != 0) {
            throw new IllegalArgumentException(op + ": row width " + width + " not divisible by " + nHeads + " heads");
        }
        if (k.cols() != width || v.cols() != width || out.cols() != width) {
            throw new IllegalArgumentException(op + ": q, k, v, out must share row width " + width);
        }
        sameSize(k, v, op);
        sameSize(q, out, op);
        requireLength(lse.size(), nHeads * q.rows(), op, "lse");
        requireLength(mask.count(), q.rows(), op, "mask rows");
        return width / nHeads;
    }

    // ------------------------------------------------------------------ loss, entropy

    /**
     * Per-row cross-entropy of log-softmax(logits) at the target id; rows whose weight is 0 (or whose target
     * is negative) get loss 0. weights may be null (all 1). The mean over counted rows is the caller's sum / count.
     */
    public final void crossEntropy(Tensor logits, Tensor targets, Tensor weights, Tensor losses) {
        writes(losses);
        checkCe("crossEntropy", logits, targets, weights);
        f32("crossEntropy", losses);
        requireLength(losses.size(), logits.rows(), "crossEntropy losses");
        long t0 = opStart();
        crossEntropyKernel(logits, targets, weights, losses, logits.rows(), logits.cols());
        opEnd("crossEntropy", t0);
    }

    /** dlogits += scale · weight · (softmax(logits) − onehot(target)); scale is usually 1/count. */
    public final void crossEntropyBackward(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dlogits) {
        writes(dlogits);
        checkCe("crossEntropyBackward", logits, targets, weights);
        f32("crossEntropyBackward", dlogits);
        sameSize(dlogits, logits, "crossEntropyBackward");
        long t0 = opStart();
        crossEntropyBackwardKernel(logits, targets, weights, scale, dlogits, logits.rows(), logits.cols());
        opEnd("crossEntropyBackward", t0);
    }

    private void checkCe(String op, Tensor logits, Tensor targets, Tensor weights) {
        f32(op, logits);
        ints(op, targets);
        requireLength(targets.size(), logits.rows(), op, "targets");
        checkIndices(op, "target", targets, logits.cols(), true, "the vocabulary of %d (a negative target skips its row)");
        if (weights != null) {
            f32(op, weights);
            requireLength(weights.size(), logits.rows(), op, "weights");
        }
    }

    /** Entropy in nats of softmax(row) for every row: −Σ p·ln p. */
    public final void entropy(Tensor logits, Tensor out) {
        writes(out);
        f32("entropy", logits, out);
        requireLength(out.size(), logits.rows(), "entropy output");
        long t0 = opStart();
        entropyKernel(logits, out, logits.rows(), logits.cols());
        opEnd("entropy", t0);
    }

    // ------------------------------------------------------------------ embedding and pooling

    /** out[i] = table[ids[i]] (or += when accumulating, e.g. summing hash n-gram embeddings). */
    public final void embedding(Tensor table, Tensor ids, Tensor out, boolean accumulate) {
        writes(out);
        f32("embedding", table, out);
        ints("embedding", ids);
        requireLength(out.cols(), table.cols(), "embedding width");
        requireLength(out.rows(), ids.size(), "embedding rows");
        checkIndices("embedding", "id", ids, table.rows(), false, "the table of %d rows");
        long t0 = opStart();
        embeddingKernel(table, ids, out, ids.size(), table.cols(), table.rows(), accumulate);
        opEnd("embedding", t0);
    }

    /** dtable[ids[i]] += dout[i] (scatter-add; repeated ids accumulate). */
    public final void embeddingBackward(Tensor dout, Tensor ids, Tensor dtable) {
        writes(dtable);
        f32("embeddingBackward", dout, dtable);
        ints("embeddingBackward", ids);
        requireLength(dout.cols(), dtable.cols(), "embeddingBackward width");
        requireLength(dout.rows(), ids.size(), "embeddingBackward rows");
        checkIndices("embeddingBackward", "id", ids, dtable.rows(), false, "the table of %d rows");
        long t0 = opStart();
        embeddingBackwardKernel(dout, ids, dtable, ids.size(), dtable.cols(), dtable.rows());
        opEnd("embeddingBackward", t0);
    }

    /**
     * Segment max-pooling: out[j] = element-wise max of x rows [lo[j], hi[j]) of the segments; argmax [P, d] keeps the winning
     * row (−1 for an empty segment, whose output is 0).
     */
    public final void segmentMax(Tensor x, Ranges segments, Tensor out, Tensor argmax) {
        writes(out, argmax);
        f32("segmentMax", x, out);
        ints("segmentMax", segments.lo(), segments.hi(), argmax);
        requireLength(out.cols(), x.cols(), "segmentMax width");
        requireLength(segments.count(), out.rows(), "segmentMax segments");
        if (segments.maxHi() > x.rows()) {
            throw new IllegalArgumentException("segmentMax: segment reaches row " + segments.maxHi() + " of " + x.rows());
        }
        sameSize(out, argmax, "segmentMax");
        intCopies.kernelWrote(argmax);
        long t0 = opStart();
        segmentMaxKernel(x, segments.lo(), segments.hi(), out, argmax, out.rows(), x.rows(), x.cols());
        opEnd("segmentMax", t0);
    }

    /** dx[argmax[j,c], c] += dout[j, c]. */
    public final void segmentMaxBackward(Tensor dout, Tensor argmax, Tensor dx) {
        writes(dx);
        f32("segmentMaxBackward", dout, dx);
        ints("segmentMaxBackward", argmax);
        sameSize(dout, argmax, "segmentMaxBackward");
        requireLength(dx.cols(), dout.cols(), "segmentMaxBackward width");
        long t0 = opStart();
        segmentMaxBackwardKernel(dout, argmax, dx, dout.rows(), dx.rows(), dx.cols());
        opEnd("segmentMaxBackward", t0);
    }

    // ------------------------------------------------------------------ optimiser

    /**
     * One AdamW step (torch semantics, decoupled weight decay): p ← p·(1−lr·wd); m ← β1·m + (1−β1)·g;
     * v ← β2·v + (1−β2)·g²; p ← p − lr/(1−β1^t) · m / (sqrt(v/(1−β2^t)) + ε).
     */
    public final void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                            float eps, float weightDecay, int step) {
        writes(param, m, v);
        f32("adamw", param, grad, m, v);
        sameSize(param, grad, "adamw");
        sameSize(param, m, "adamw");
        sameSize(param, v, "adamw");
        if (step < 1) {
            throw new IllegalArgumentException("adamw: step counts from 1, got " + step);
        }
        // bias corrections once on the host; StrictMath gives the same bits in every JIT tier
        float bc1 = (float) (1.0 - StrictMath.pow(beta1, step));
        float bc2 = (float) (1.0 - StrictMath.pow(beta2, step));
        long t0 = opStart();
        adamwKernel(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
        opEnd("adamw", t0);
    }

    /** Σ x² accumulated in double (the global gradient norm is its square root). Synchronises. */
    public final double sumOfSquares(Tensor x) {
        f32("sumOfSquares", x);
        return sumOfSquaresKernel(x);
    }

    /** Scales x so its L2 norm is at most maxNorm; returns the norm before clipping. */
    public final double clipGradNorm(Tensor grads, double maxNorm) {
        writes(grads);
        double norm = Math.sqrt(sumOfSquares(grads));
        if (maxNorm > 0 && norm > maxNorm) {
            scale(grads, (float) (maxNorm / (norm + 1e-6)), grads);
        }
        return norm;
    }

    // ------------------------------------------------------------------ kernels each backend provides

    protected abstract Object allocateStorage(DType dtype, int size);
    protected abstract void writeFloats(Tensor dst, float[] src, int srcOffset);
    protected abstract void writeInts(Tensor dst, int[] src, int srcOffset);
    protected abstract void readFloats(Tensor src, float[] dst, int dstOffset);
    protected abstract void readInts(Tensor src, int[] dst);
    protected abstract void writeBf16(Tensor dst, short[] src, int srcOffset);
    protected abstract void readBf16(Tensor src, short[] dst);
    protected abstract Object wrapBf16Storage(java.nio.ShortBuffer bits, int size);
    protected abstract void copyKernel(Tensor src, Tensor dst);
    protected abstract void fillKernel(Tensor t, float value);
    protected abstract void addKernel(Tensor a, Tensor b, Tensor out);
    protected abstract void axpyKernel(float alpha, Tensor x, Tensor y);
    protected abstract void scaleKernel(Tensor x, float s, Tensor out);
    protected abstract void matmulKernel(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, boolean accumulate,
                                         int batch, int m, int n, int k);
    protected abstract void rmsNormKernel(Tensor x, Tensor w, Tensor out, Tensor rstd, int rows, int d, float eps);
    protected abstract void rmsNormBackwardKernel(Tensor dout, Tensor x, Tensor w, Tensor rstd, Tensor dx, Tensor dw, int rows, int d);
    protected abstract void swigluKernel(Tensor gate, Tensor up, Tensor out);
    /** The two products, then the SwiGLU op: a backend that fuses them overrides this. */
    protected void swigluMatmulKernel(Tensor x, Tensor w1, Tensor w3, Tensor gate, Tensor up, Tensor out,
                                      boolean keepGateUp, int m, int n, int k) {
        matmulKernel(x, false, w1, true, gate, false, 1, m, n, k);
        matmulKernel(x, false, w3, true, up, false, 1, m, n, k);
        swigluKernel(gate, up, out);
    }

    protected abstract void swigluBackwardKernel(Tensor dout, Tensor gate, Tensor up, Tensor dgate, Tensor dup);
    protected abstract void ropeKernel(Tensor x, Tensor positions, Tensor cos, Tensor sin, Tensor out, int rows, int nHeads,
                                       int headDim, boolean backward);
    protected abstract void attentionKernel(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyLo, Tensor keyHi,
                                            int tq, int tk, int nHeads, int headDim);
    protected abstract void attentionBackwardKernel(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                                    Tensor keyLo, Tensor keyHi, Tensor dq, Tensor dk, Tensor dv,
                                                    int tq, int tk, int nHeads, int headDim);
    protected abstract void crossEntropyKernel(Tensor logits, Tensor targets, Tensor weights, Tensor losses, int rows, int cols);
    protected abstract void crossEntropyBackwardKernel(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dlogits,
                                                       int rows, int cols);
    protected abstract void entropyKernel(Tensor logits, Tensor out, int rows, int cols);
    protected abstract void embeddingKernel(Tensor table, Tensor ids, Tensor out, int n, int d, int tableRows, boolean accumulate);
    protected abstract void embeddingBackwardKernel(Tensor dout, Tensor ids, Tensor dtable, int n, int d, int tableRows);
    protected abstract void segmentMaxKernel(Tensor x, Tensor lo, Tensor hi, Tensor out, Tensor argmax, int segments, int rows, int d);
    protected abstract void segmentMaxBackwardKernel(Tensor dout, Tensor argmax, Tensor dx, int segments, int rows, int d);
    /** bc1 = 1 − β1^step and bc2 = 1 − β2^step, computed by {@link #adamw}. */
    protected abstract void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                        float eps, float weightDecay, float bc1, float bc2);
    protected abstract double sumOfSquaresKernel(Tensor x);

    // ------------------------------------------------------------------ host copies of int tensors

    /**
     * The ints of {@code t}'s storage as the host knows them (index with {@code t.offset()}), or null when a kernel
     * wrote them. Host backends override this to return the storage itself.
     */
    protected int[] hostInts(Tensor t) {
        return intCopies.get(t);
    }

    /**
     * Every value of the I32 tensor must lie in [0, limit) (or be negative when {@code negativeSkips}); checked on the
     * host copy, so no device read and no kernel ever sees a bad index. range says what the indices must fall in, with
     * %d for the limit: it is formatted only on failure, as the check runs on every op.
     */
    private void checkIndices(String op, String what, Tensor idx, int limit, boolean negativeSkips, String range) {
        int[] h = hostInts(idx);
        if (h == null) {
            throw new IllegalArgumentException(op + ": the " + what + " tensor " + idx + " was written by a kernel, so it has no"
                    + " host copy to validate; write " + what + "s from the host (fromHost/upload)");
        }
        int o = idx.offset();
        for (int i = 0, n = idx.size(); i < n; i++) {
            int v = h[o + i];
            if (v >= limit || (v < 0 && !negativeSkips)) {
                throw new IllegalArgumentException(op + ": " + what + " " + v + " at index " + i + " is outside "
                        + String.format(java.util.Locale.ROOT, range, limit));
            }
        }
    }

    // ------------------------------------------------------------------ checks

    private void own(Tensor... ts) {
        for (Tensor t : ts) {
            if (t.backend() != this) {
                throw new IllegalArgumentException("tensor " + t + " belongs to another backend than " + name());
            }
        }
    }

    private void f32(String op, Tensor... ts) {
        for (Tensor t : ts) {
            own(t);
            dtype(t, DType.F32, op);
        }
    }

    private void ints(String op, Tensor... ts) {
        for (Tensor t : ts) {
            own(t);
            dtype(t, DType.I32, op);
        }
    }

    private static void dtype(Tensor t, DType want, String op) {
        if (t.dtype() != want) {
            throw new IllegalArgumentException(op + ": expected " + want + " tensor, got " + t);
        }
    }

    private static void sameSize(Tensor a, Tensor b, String op) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException(op + ": sizes differ, " + Arrays.toString(a.shape()) + " vs " + Arrays.toString(b.shape()));
        }
    }

    private static void requireLength(int actual, int expected, String what) {
        if (actual != expected) {
            throw new IllegalArgumentException(what + ": expected " + expected + " elements, got " + actual);
        }
    }

    /** As above, the label "op what" built only on failure (the per-op checks would otherwise allocate it every call). */
    private static void requireLength(int actual, int expected, String op, String what) {
        if (actual != expected) {
            requireLength(actual, expected, op + " " + what);
        }
    }
}
