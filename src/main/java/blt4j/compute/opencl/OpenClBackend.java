package blt4j.compute.opencl;

import static org.jocl.CL.*;

import blt4j.compute.Backend;
import blt4j.compute.DType;
import blt4j.compute.Tensor;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * The OpenCL backend (JOCL). Tensors live in cl_mem buffers (a {@link ClBuffer} is the tensor's storage; views
 * pass element offsets to the kernels as int arguments). All ops go to one in-order command queue with no host
 * round trips; the host waits only where it needs a value: {@code toHost}/{@code download}, {@code sumOfSquares}
 * and {@link #synchronize()}. Kernels are OpenCL C resources ({@code /opencl/*.cl}), built once per device,
 * source and options by {@link ProgramCache}, or loaded from a prebuilt binary named by the profile.
 *
 * <p>Ids, targets and positions are validated by {@link Backend} on the host copies of their tensors, so kernels
 * need no error reporting. Not thread-safe: one backend per thread.
 */
public final class OpenClBackend extends Backend {
    private static final Cleaner CLEANER = Cleaner.create();

    private final DeviceProfile profile;
    private final DeviceContext dc;
    private final ProgramCache.Built program;
    private final cl_command_queue queue;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final DeviceProfile.MatmulVariant matmulVariant;
    /** Overrides matmulVariant for one call of {@link #matmulWith}. */
    private DeviceProfile.MatmulVariant forcedVariant;
    private final int tile;
    private final int red;
    private final int ew;
    private final boolean fp64;
    private final String buildOptions;
    private final Set<Releaser> live = ConcurrentHashMap.newKeySet();
    private final cl_mem partials;
    private final Tensor dummyF32;
    private cl_mem scratch;
    private long scratchBytes;
    private boolean closed;

    private long uploadCalls;
    private long uploadBytes;
    private long downloadCalls;
    private long downloadBytes;

    private static final int SUM_GROUPS = 256;
    /** Columns per work-item of the naive matmul with B not transposed (NB in matmul.cl). */
    private static final int NAIVE_BLOCK = 32;

    /** The backend on the device chosen by {@link DeviceProfile#defaultProfile()}. */
    public OpenClBackend() {
        this(DeviceProfile.defaultProfile());
    }

    public OpenClBackend(String profile) {
        this(DeviceProfile.load(profile));
    }

    public OpenClBackend(DeviceProfile profile) {
        this.profile = profile;
        this.dc = DeviceContext.select(profile);
        OpenClDeviceInfo info = dc.info;
        DeviceProfile.MatmulVariant v = profile.matmulVariant();
        if (v == DeviceProfile.MatmulVariant.AUTO) {
            v = info.type().contains("CPU") ? DeviceProfile.MatmulVariant.NAIVE : DeviceProfile.MatmulVariant.TILED;
        }
        this.matmulVariant = v;
        this.tile = profile.matmulTile();
        this.red = profile.reduceWorkGroup();
        this.ew = profile.elementwiseWorkGroup();
        this.fp64 = info.fp64();
        if (red > info.maxWorkGroupSize() || (long) tile * tile > info.maxWorkGroupSize() || ew > info.maxWorkGroupSize()) {
            throw new IllegalArgumentException(profile + ": work-group sizes (reduce " + red + ", matmul tile " + tile + "x" + tile
                    + ", elementwise " + ew + ") exceed the device's maximum work-group size " + info.maxWorkGroupSize()
                    + " on " + info.name());
        }
        this.buildOptions = (profile.buildOptions() + " -DRED_WG=" + red + " -DTILE=" + tile + (fp64 ? " -DHAS_FP64" : "")).trim();
        Path binary = profile.programBinary();
        this.program = binary != null
                ? ProgramCache.fromBinaryFile(dc, binary, buildOptions)
                : ProgramCache.fromSource(dc, KernelSources.combined(), buildOptions, profile.diskCache());
        this.queue = clCreateCommandQueue(dc.context, dc.device, 0, null);
        this.partials = rawBuffer((long) SUM_GROUPS * 8);
        this.dummyF32 = zeros(1);
        checkProgramConfig();
        resetTransfers();
    }

    /** A backend on the device the named built-in or file profile selects (null: the default profile). */
    public static OpenClBackend create(String profile) {
        return profile == null ? new OpenClBackend() : new OpenClBackend(profile);
    }

    private cl_mem rawBuffer(long bytes) {
        cl_mem m = clCreateBuffer(dc.context, CL_MEM_READ_WRITE, bytes, null, null);
        clEnqueueFillBuffer(queue, m, Pointer.to(new int[] {0}), Sizeof.cl_int, 0, bytes, 0, null, null);
        return m;
    }

    /** A prebuilt binary must have been compiled with the work-group sizes this profile launches. */
    private void checkProgramConfig() {
        int[] cfg = new int[4];
        cl_mem out = rawBuffer(16);
        try {
            launch("blt4j_config", new long[] {1}, null, out);
            clEnqueueReadBuffer(queue, out, CL_TRUE, 0, 12, Pointer.to(cfg), 0, null, null);
        } finally {
            clReleaseMemObject(out);
        }
        if (cfg[0] != red || cfg[1] != tile || (cfg[2] == 1) != fp64) {
            throw new IllegalArgumentException("OpenCL program (" + program.origin() + ") was built with RED_WG=" + cfg[0] + ", TILE="
                    + cfg[1] + ", HAS_FP64=" + cfg[2] + " but " + profile + " needs workgroup.reduce=" + red
                    + ", workgroup.matmul.tile=" + tile + ", fp64=" + fp64 + "; rebuild the binary with options '" + buildOptions + "'");
        }
    }

    // ------------------------------------------------------------------ identity, stats

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public String describe() {
        OpenClDeviceInfo i = dc.info;
        return String.format("opencl: %s (%s, %s, %d CU) on %s; %s; matmul %s%s, reduce WG %d; program from %s in %.0f ms; options '%s'",
                i.name(), i.vendor(), i.type(), i.computeUnits(), i.platformName(), profile,
                matmulVariant.name().toLowerCase(), matmulVariant == DeviceProfile.MatmulVariant.TILED ? " " + tile + "x" + tile : "",
                red, program.origin(), program.buildNanos() / 1e6, buildOptions);
    }

    public OpenClDeviceInfo device() {
        return dc.info;
    }

    public DeviceProfile profile() {
        return profile;
    }

    public DeviceProfile.MatmulVariant matmulVariant() {
        return matmulVariant;
    }

    /** "source", "disk-cache" or "binary:&lt;path&gt;". */
    public String programOrigin() {
        return program.origin();
    }

    /** Time spent creating and building the program (0 work when it came from the in-memory cache of another backend). */
    public double programBuildMillis() {
        return program.buildNanos() / 1e6;
    }

    public String buildOptions() {
        return buildOptions;
    }

    /** Writes the device binary of the program this backend runs (CL_PROGRAM_BINARIES), for {@code program.binary}. */
    public void saveProgramBinary(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(file, ProgramCache.binary(program.program()));
    }

    public TransferStats transfers() {
        return new TransferStats(uploadCalls, uploadBytes, downloadCalls, downloadBytes);
    }

    public void resetTransfers() {
        uploadCalls = uploadBytes = downloadCalls = downloadBytes = 0;
    }

    @Override
    public void synchronize() {
        clFinish(queue);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            clFinish(queue);
        } catch (RuntimeException ignored) {
            // releasing anyway
        }
        for (Releaser r : new ArrayList<>(live)) {
            r.run();
        }
        for (cl_kernel k : kernels.values()) {
            clReleaseKernel(k);
        }
        kernels.clear();
        if (scratch != null) {
            clReleaseMemObject(scratch);
        }
        clReleaseMemObject(partials);
        clReleaseCommandQueue(queue);
    }

    // ------------------------------------------------------------------ memory

    /** Releases a buffer when its last tensor is unreachable, or at {@link #close()}, whichever comes first. */
    private static final class Releaser implements Runnable {
        private final cl_mem mem;
        private final Set<Releaser> live;
        private final long bytes;
        private final java.util.concurrent.atomic.AtomicLong liveBytes;
        private final AtomicBoolean done = new AtomicBoolean();

        Releaser(cl_mem mem, Set<Releaser> live, long bytes, java.util.concurrent.atomic.AtomicLong liveBytes) {
            this.mem = mem;
            this.live = live;
            this.bytes = bytes;
            this.liveBytes = liveBytes;
        }

        @Override
        public void run() {
            if (done.compareAndSet(false, true)) {
                live.remove(this);
                clReleaseMemObject(mem);
                liveBytes.addAndGet(-bytes);
            }
        }
    }

    /** Bytes of device buffers not yet released (buffers are released when their tensors are collected). */
    private final java.util.concurrent.atomic.AtomicLong liveBytes = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Device buffers are freed when the garbage collector finds their tensors unreachable, and the Java heap may not
     * feel the pressure that device memory (host memory, on PoCL) does: past half the device's memory, ask for a
     * collection and give the cleaner a moment, so buffers of finished generations go before new ones pile up.
     */
    private void reclaimIfFull(long bytes) {
        long half = dc.info.globalMemBytes() / 2;
        if (liveBytes.get() + bytes <= half) {
            reclaimFloor = 0; // back under half: collect again from half on
            return;
        }
        long budget = Math.max(half, reclaimFloor);
        if (liveBytes.get() + bytes <= budget) {
            return;
        }
        for (int attempt = 0; attempt < 5 && liveBytes.get() + bytes > budget; attempt++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        // what is still live is in use (a model's weights may well fill half the device): wait for another eighth of the
        // device memory before collecting again, so allocations do not each pay for a collection
        reclaimFloor = liveBytes.get() + bytes + dc.info.globalMemBytes() / 8;
    }

    /** Live bytes below which no collection is asked for again (raised when one found the buffers in use). */
    private long reclaimFloor;

    @Override
    protected Object allocateStorage(DType dtype, int size) {
        if (closed) {
            throw new IllegalStateException("opencl backend is closed");
        }
        // whole 4-byte words: the zero fill's pattern is one int, and a BF16 buffer may hold an odd count
        long bytes = (Math.max(1L, size) * dtype.bytes() + 3) & ~3L;
        long limit = dc.info.maxAllocBytes();
        if (bytes > limit) {
            throw new IllegalArgumentException(String.format(
                    "opencl: a buffer of %d x %s = %d bytes (%.1f MiB) exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE = %d bytes (%.1f MiB) on %s",
                    size, dtype, bytes, bytes / 1048576.0, limit, limit / 1048576.0, dc.info.name()));
        }
        reclaimIfFull(bytes);
        cl_mem mem;
        try {
            mem = clCreateBuffer(dc.context, CL_MEM_READ_WRITE, bytes, null, null);
            clEnqueueFillBuffer(queue, mem, Pointer.to(new int[] {0}), Sizeof.cl_int, 0, bytes, 0, null, null);
        } catch (CLException e) {
            throw new IllegalStateException("opencl: allocating " + bytes + " bytes on " + dc.info.name() + " failed: " + e.getMessage()
                    + " (device global memory " + (dc.info.globalMemBytes() >> 20) + " MiB)", e);
        }
        ClBuffer buf = new ClBuffer(mem, dtype, size, bytes);
        Releaser r = new Releaser(mem, live, bytes, liveBytes);
        liveBytes.addAndGet(bytes);
        live.add(r);
        CLEANER.register(buf, r);
        return buf;
    }

    private static cl_mem mem(Tensor t) {
        return ((ClBuffer) t.storage()).mem;
    }

    private static long byteOffset(Tensor t) {
        return (long) t.offset() * t.dtype().bytes();
    }

    @Override
    protected void writeFloats(Tensor dst, float[] src, int srcOffset) {
        if (dst.size() == 0) {
            return;
        }
        long n = (long) dst.size() * 4;
        clEnqueueWriteBuffer(queue, mem(dst), CL_TRUE, byteOffset(dst), n, Pointer.to(src).withByteOffset((long) srcOffset * 4), 0, null, null);
        uploadCalls++;
        uploadBytes += n;
    }

    @Override
    protected void writeInts(Tensor dst, int[] src, int srcOffset) {
        if (dst.size() == 0) {
            return;
        }
        long n = (long) dst.size() * 4;
        clEnqueueWriteBuffer(queue, mem(dst), CL_TRUE, byteOffset(dst), n, Pointer.to(src).withByteOffset((long) srcOffset * 4), 0, null, null);
        uploadCalls++;
        uploadBytes += n;
    }

    @Override
    protected void writeBf16(Tensor dst, short[] src, int srcOffset) {
        if (dst.size() == 0) {
            return;
        }
        long n = (long) dst.size() * 2;
        clEnqueueWriteBuffer(queue, mem(dst), CL_TRUE, byteOffset(dst), n, Pointer.to(src).withByteOffset((long) srcOffset * 2), 0, null, null);
        uploadCalls++;
        uploadBytes += n;
    }

    /** A mapped weight is uploaded once, straight from the mapping (no copy in the Java heap). */
    @Override
    protected Object wrapBf16Storage(java.nio.ShortBuffer bits, int size) {
        Object storage = allocateStorage(DType.BF16, size);
        if (size > 0) {
            cl_mem mem = ((ClBuffer) storage).mem;
            clEnqueueWriteBuffer(queue, mem, CL_TRUE, 0, (long) size * 2, Pointer.to(bits), 0, null, null);
            uploadCalls++;
            uploadBytes += (long) size * 2;
        }
        return storage;
    }

    @Override
    protected void readBf16(Tensor src, short[] dst) {
        if (src.size() > 0) {
            long n = (long) src.size() * 2;
            clEnqueueReadBuffer(queue, mem(src), CL_TRUE, byteOffset(src), n, Pointer.to(dst), 0, null, null);
            downloadCalls++;
            downloadBytes += n;
        }
    }

    @Override
    protected void readFloats(Tensor src, float[] dst, int dstOffset) {
        if (src.size() > 0) {
            long n = (long) src.size() * 4;
            clEnqueueReadBuffer(queue, mem(src), CL_TRUE, byteOffset(src), n, Pointer.to(dst).withByteOffset((long) dstOffset * 4), 0, null, null);
            downloadCalls++;
            downloadBytes += n;
        }
    }

    @Override
    protected void readInts(Tensor src, int[] dst) {
        if (src.size() > 0) {
            long n = (long) src.size() * 4;
            clEnqueueReadBuffer(queue, mem(src), CL_TRUE, byteOffset(src), n, Pointer.to(dst), 0, null, null);
            downloadCalls++;
            downloadBytes += n;
        }
    }

    private cl_mem scratch(long bytes) {
        if (scratch == null || scratchBytes < bytes) {
            if (scratch != null) {
                clReleaseMemObject(scratch); // deferred by OpenCL until queued kernels using it finish
            }
            scratchBytes = Math.max(bytes, 4096);
            scratch = clCreateBuffer(dc.context, CL_MEM_READ_WRITE, scratchBytes, null, null);
        }
        return scratch;
    }

    @Override
    protected void copyKernel(Tensor src, Tensor dst) {
        if (src.size() == 0) {
            return;
        }
        long n = (long) src.size() * 4;
        if (src.sameStorage(dst) && src.offset() == dst.offset()) {
            return;
        }
        boolean overlap = src.sameStorage(dst) && src.offset() < dst.offset() + dst.size() && dst.offset() < src.offset() + src.size();
        if (overlap) {
            cl_mem tmp = scratch(n);
            clEnqueueCopyBuffer(queue, mem(src), tmp, byteOffset(src), 0, n, 0, null, null);
            clEnqueueCopyBuffer(queue, tmp, mem(dst), 0, byteOffset(dst), n, 0, null, null);
        } else {
            clEnqueueCopyBuffer(queue, mem(src), mem(dst), byteOffset(src), byteOffset(dst), n, 0, null, null);
        }
    }

    // ------------------------------------------------------------------ launching

    private cl_kernel kernel(String name) {
        cl_kernel k = kernels.get(name);
        if (k == null) {
            k = clCreateKernel(program.program(), name, null);
            kernels.put(name, k);
        }
        return k;
    }

    /** Sets arguments (a Tensor expands to buffer + element offset) and enqueues; a zero-sized range is skipped. */
    private void launch(String name, long[] global, long[] local, Object... args) {
        if (closed) {
            throw new IllegalStateException("opencl backend is closed");
        }
        for (long g : global) {
            if (g == 0) {
                return;
            }
        }
        cl_kernel k = kernel(name);
        int i = 0;
        for (Object a : args) {
            if (a instanceof Tensor t) {
                clSetKernelArg(k, i++, Sizeof.cl_mem, Pointer.to(mem(t)));
                clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {t.offset()}));
            } else if (a instanceof cl_mem m) {
                clSetKernelArg(k, i++, Sizeof.cl_mem, Pointer.to(m));
            } else if (a instanceof Integer v) {
                clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {v}));
            } else if (a instanceof Float v) {
                clSetKernelArg(k, i++, Sizeof.cl_float, Pointer.to(new float[] {v}));
            } else if (a instanceof Boolean v) {
                clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {v ? 1 : 0}));
            } else {
                throw new IllegalArgumentException("unsupported kernel argument " + a);
            }
        }
        clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, null);
    }

    private static long roundUp(long n, long m) {
        return (n + m - 1) / m * m;
    }

    /** One work-item per element. */
    private void launch1(String name, int n, Object... args) {
        if (ew > 0) {
            launch(name, new long[] {roundUp(n, ew)}, new long[] {ew}, args);
        } else {
            launch(name, new long[] {n}, null, args);
        }
    }

    /** One work-group of {@code red} items per row. */
    private void launchRows(String name, int rows, Object... args) {
        launch(name, new long[] {(long) rows * red}, new long[] {red}, args);
    }

    // ------------------------------------------------------------------ kernels

    @Override
    protected void fillKernel(Tensor t, float value) {
        launch1("fill_f32", t.size(), t, value, t.size());
    }

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        launch1("add_f32", a.size(), a, b, out, a.size());
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        launch1("axpy_f32", x.size(), alpha, x, y, x.size());
    }

    @Override
    protected void scaleKernel(Tensor x, float s, Tensor out) {
        launch1("scale_f32", x.size(), x, s, out, x.size());
    }

    @Override
    protected void matmulKernel(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, boolean accumulate,
                                int batch, int m, int n, int k) {
        if (k == 0) {
            // empty sum: C = 0 (or unchanged when accumulating)
            if (!accumulate) {
                fillKernel(c, 0f);
            }
            return;
        }
        if (b.dtype() == DType.BF16) {
            launch("matmul_bf16_nt", new long[] {n, m, batch}, null, new Object[] {a, b, c, m, n, k, accumulate});
            return;
        }
        int sam = transA ? 1 : k;
        int sak = transA ? m : 1;
        int sbk = transB ? 1 : n;
        int sbn = transB ? k : 1;
        Object[] args = {a, b, c, m, n, k, sam, sak, sbk, sbn, accumulate};
        DeviceProfile.MatmulVariant variant = forcedVariant != null ? forcedVariant : matmulVariant;
        if (variant == DeviceProfile.MatmulVariant.TILED) {
            launch("matmul_tiled", new long[] {roundUp(n, tile), roundUp(m, tile), batch}, new long[] {tile, tile, 1}, args);
        } else {
            String name = "matmul_naive_" + (transA ? "t" : "n") + (transB ? "t" : "n");
            Object[] naiveArgs = {a, b, c, m, n, k, accumulate};
            if (transB) {
                launch(name, new long[] {n, m, batch}, null, naiveArgs);
            } else {
                launch(name, new long[] {(n + NAIVE_BLOCK - 1) / NAIVE_BLOCK, m, batch}, null, naiveArgs);
            }
        }
    }

    /** Runs a matmul with a given variant regardless of the profile (benchmarks and variant tests). */
    public void matmulWith(DeviceProfile.MatmulVariant variant, Tensor a, boolean transA, Tensor b, boolean transB, Tensor c,
                           boolean accumulate) {
        DeviceProfile.MatmulVariant saved = forcedVariant;
        forcedVariant = variant;
        try {
            matmul(a, transA, b, transB, c, accumulate);
        } finally {
            forcedVariant = saved;
        }
    }

    @Override
    protected void rmsNormKernel(Tensor x, Tensor w, Tensor out, Tensor rstd, int rows, int d, float eps) {
        launchRows("rmsnorm_f32", rows, x, w, out, rstd, d, eps);
    }

    @Override
    protected void rmsNormBackwardKernel(Tensor dout, Tensor x, Tensor w, Tensor rstd, Tensor dx, Tensor dw, int rows, int d) {
        launchRows("rmsnorm_backward_dx_f32", rows, dout, x, w, rstd, dx, d);
        launch1("rmsnorm_backward_dw_f32", d, dout, x, rstd, dw, rows, d);
    }

    @Override
    protected void swigluKernel(Tensor gate, Tensor up, Tensor out) {
        launch1("swiglu_f32", gate.size(), gate, up, out, gate.size());
    }

    @Override
    protected void swigluBackwardKernel(Tensor dout, Tensor gate, Tensor up, Tensor dgate, Tensor dup) {
        launch1("swiglu_backward_f32", gate.size(), dout, gate, up, dgate, dup, gate.size());
    }

    @Override
    protected void ropeKernel(Tensor x, Tensor positions, Tensor cos, Tensor sin, Tensor out, int rows, int nHeads,
                              int headDim, boolean backward) {
        launch1("rope_f32", rows * nHeads * (headDim / 2), x, positions, cos, sin, out, rows, nHeads, headDim, backward);
    }

    private static float attentionScale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }

    @Override
    protected void attentionKernel(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyLo, Tensor keyHi,
                                   int tq, int tk, int nHeads, int headDim) {
        launch1("attention_fwd_f32", nHeads * tq, q, k, v, out, lse, keyLo, keyHi, tq, nHeads, headDim, attentionScale(headDim));
    }

    @Override
    protected void attentionBackwardKernel(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                           Tensor keyLo, Tensor keyHi, Tensor dq, Tensor dk, Tensor dv,
                                           int tq, int tk, int nHeads, int headDim) {
        if (tq == 0) {
            return;
        }
        float scale = attentionScale(headDim);
        cl_mem delta = scratch((long) nHeads * tq * 4);
        launch1("attention_delta_f32", nHeads * tq, dout, out, delta, keyLo, keyHi, tq, nHeads, headDim);
        launch1("attention_bwd_dq_f32", nHeads * tq, dout, q, k, v, lse, delta, keyLo, keyHi, dq, tq, nHeads, headDim, scale);
        launch1("attention_bwd_dkdv_f32", nHeads * tk, dout, q, k, v, lse, delta, keyLo, keyHi, dk, dv, tq, tk, nHeads, headDim, scale);
    }

    @Override
    protected void crossEntropyKernel(Tensor logits, Tensor targets, Tensor weights, Tensor losses, int rows, int cols) {
        cl_mem lse = scratch((long) rows * 4);
        launchRows("row_lse_f32", rows, logits, lse, cols);
        launch1("cross_entropy_f32", rows, logits, targets, weights == null ? dummyF32 : weights, weights != null, lse, losses,
                rows, cols);
    }

    @Override
    protected void crossEntropyBackwardKernel(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dlogits,
                                              int rows, int cols) {
        cl_mem lse = scratch((long) rows * 4);
        launchRows("row_lse_f32", rows, logits, lse, cols);
        launch1("cross_entropy_backward_f32", rows * cols, logits, targets, weights == null ? dummyF32 : weights, weights != null,
                scale, lse, dlogits, rows, cols);
    }

    @Override
    protected void entropyKernel(Tensor logits, Tensor out, int rows, int cols) {
        launchRows("entropy_f32", rows, logits, out, cols);
    }

    @Override
    protected void embeddingKernel(Tensor table, Tensor ids, Tensor out, int n, int d, int tableRows, boolean accumulate) {
        launch1("embedding_f32", n * d, table, ids, out, n, d, accumulate);
    }

    @Override
    protected void embeddingBackwardKernel(Tensor dout, Tensor ids, Tensor dtable, int n, int d, int tableRows) {
        launch1("embedding_backward_f32", d, dout, ids, dtable, n, d);
    }

    @Override
    protected void segmentMaxKernel(Tensor x, Tensor lo, Tensor hi, Tensor out, Tensor argmax, int segments, int rows, int d) {
        launch1("segment_max_f32", segments * d, x, lo, hi, out, argmax, segments, d);
    }

    @Override
    protected void segmentMaxBackwardKernel(Tensor dout, Tensor argmax, Tensor dx, int segments, int rows, int d) {
        launch1("segment_max_backward_f32", d, dout, argmax, dx, segments, rows, d);
    }

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                               float eps, float weightDecay, float bc1, float bc2) {
        launch1("adamw_f32", param.size(), param, grad, m, v, param.size(), lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    /**
     * fp64 devices: squares and sums in double on the device. Others: Kahan-compensated float sums per work-item,
     * a pairwise float tree per work-group. Either way the ≤256 group partials are added in double on the host.
     */
    @Override
    protected double sumOfSquaresKernel(Tensor x) {
        int n = x.size();
        if (n == 0) {
            synchronize();
            return 0;
        }
        int groups = (int) Math.max(1, Math.min(SUM_GROUPS, (n + red * 32L - 1) / (red * 32L)));
        launch("sum_squares_f32", new long[] {(long) groups * red}, new long[] {red}, x, n, partials);
        double sum = 0;
        if (fp64) {
            double[] p = new double[groups];
            clEnqueueReadBuffer(queue, partials, CL_TRUE, 0, (long) groups * 8, Pointer.to(p), 0, null, null);
            downloadBytes += (long) groups * 8;
            for (double v : p) {
                sum += v;
            }
        } else {
            float[] p = new float[groups];
            clEnqueueReadBuffer(queue, partials, CL_TRUE, 0, (long) groups * 4, Pointer.to(p), 0, null, null);
            downloadBytes += (long) groups * 4;
            for (float v : p) {
                sum += v;
            }
        }
        downloadCalls++;
        return sum;
    }
}
