package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.DType;
import blt4j.compute.KernelMath;
import blt4j.compute.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collection;

/**
 * All parameters of a model in one contiguous buffer (and all gradients in another), so upload, AdamW,
 * gradient clipping and checkpointing are each one operation. Layers declare parameters first; {@link #allocate}
 * then creates the buffers once. An inference store may keep its Linear weights in bfloat16 instead, read in place
 * from their file (see {@link #allocate(Backend, DType)}).
 */
public final class ParameterStore {
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private long total;
    private Backend backend;
    private Tensor params;
    private List<Tensor> segments16;
    private List<Long> segmentSizes;
    private boolean matricesLow;
    private Tensor grads;

    public Parameter add(String name, Parameter.Init init, int... shape) {
        return add(name, init, false, shape);
    }

    /** A Linear weight [out, in]: an inference store may keep these in bfloat16 (see {@link #allocate(Backend, DType)}). */
    public Parameter addMatrix(String name, Parameter.Init init, int... shape) {
        return add(name, init, true, shape);
    }

    private Parameter add(String name, Parameter.Init init, boolean matrix, int... shape) {
        if (params != null) {
            throw new IllegalStateException("parameter " + name + " declared after the store was allocated");
        }
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("duplicate parameter name " + name);
        }
        Parameter p = new Parameter(name, shape, total, init, matrix);
        p.store = this;
        total += p.size();
        byName.put(name, p);
        return p;
    }

    /** Creates the parameter buffer on the backend (zeros; call {@link #initialize} for weights); gradients come later. */
    public ParameterStore allocate(Backend backend) {
        return allocate(backend, DType.F32);
    }

    /**
     * Creates the buffers: every parameter in one fp32 buffer, or (for {@code matrices} = BF16, an inference model) the
     * rest in the fp32 one and the Linear weights in bfloat16: read in place from a mapped file at load, or else in
     * segments of at most 2^31−1 elements, allocated when first used. A store with bf16 weights cannot be trained.
     */
    public ParameterStore allocate(Backend backend, DType matrices) {
        if (params != null) {
            throw new IllegalStateException("store already allocated");
        }
        if (matrices != DType.F32 && matrices != DType.BF16) {
            throw new IllegalArgumentException("matrix weights are F32 or BF16, not " + matrices);
        }
        long f32 = 0;
        List<Long> segments = new ArrayList<>(); // bf16 elements per segment; a weight never straddles two
        long open = 0;
        for (Parameter p : byName.values()) {
            if (matrices == DType.BF16 && p.matrix()) {
                if (open + p.size() > segmentElements && open > 0) {
                    segments.add(open);
                    open = 0;
                }
                p.place(open, true, segments.size());
                open += p.size();
            } else {
                p.place(f32, false, 0);
                f32 += p.size();
            }
        }
        if (open > 0) {
            segments.add(open);
        }
        if (f32 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the model's fp32 buffer would hold " + f32 + " parameters, more than one "
                    + "buffer's 2^31-1: keep the hash tables in their file (inference) or use a smaller config");
        }
        this.backend = backend;
        this.params = backend.zeros((int) f32);
        this.segmentSizes = segments;
        this.segments16 = new ArrayList<>();
        for (int i = 0; i < segments.size(); i++) {
            segments16.add(null); // allocated on first use: weights mapped from their file never need them
        }
        this.matricesLow = matrices == DType.BF16 && !segments.isEmpty();
        backend.registerWeights(params);
        return this;
    }

    /**
     * Whether a bf16 file's matrix weights are read in place from the mapping (the default) or copied into bf16
     * buffers; tests switch it to exercise both.
     */
    static boolean mapWeights = true;

    /** True when bf16 matrix weights of a mappable source are read in place (see {@link WeightSource#mappedBf16}). */
    public static boolean mapsWeights() {
        return mapWeights;
    }

    /**
     * Most bfloat16 elements in one buffer: a Java array's limit, so models of any size fit in segments (blt-7b's
     * matrices are 6.7B); tests make them small.
     */
    static long segmentElements = Integer.MAX_VALUE - 8;

    /** Segment {@code i} of the bfloat16 buffers of the matrix weights. */
    Tensor lowPrecisionSegment(int i) {
        Tensor t = segments16.get(i);
        if (t == null) {
            t = backend.allocate(DType.BF16, Math.toIntExact(segmentSizes.get(i)));
            segments16.set(i, t);
        }
        return t;
    }

    /** Number of bfloat16 segments in use (weights mapped from their file need none). */
    public int lowPrecisionSegments() {
        int n = 0;
        if (segments16 != null) {
            for (Tensor t : segments16) {
                n += t != null ? 1 : 0;
            }
        }
        return n;
    }

    /** True when the matrix weights are held in bfloat16 (an inference-only store). */
    public boolean lowPrecision() {
        return matricesLow;
    }

    /** Deterministic initialisation from a seed, computed on the host and uploaded parameter by parameter. */
    public void initialize(long seed) {
        Random rnd = new Random(seed);
        for (Parameter p : byName.values()) {
            Parameter.Init init = p.init();
            float[] v = new float[p.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = init.std() == 0 ? init.constant() : (float) (truncatedNormal(rnd) * init.std());
            }
            put(p, v);
        }
    }

    /** Uploads one parameter's values (rounded to nearest-even for a bf16 weight: exact when they came from bf16). */
    private void put(Parameter p, float[] values) {
        if (p.lowPrecision()) {
            short[] bits = new short[values.length];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = KernelMath.toBf16(values[i]);
            }
            backend.uploadBf16(bits, 0, p.value());
        } else {
            backend.upload(values, 0, p.value());
        }
    }

    private static double truncatedNormal(Random rnd) {
        while (true) {
            double g = rnd.nextGaussian();
            if (Math.abs(g) <= 3.0) {
                return g;
            }
        }
    }

    /** Where named weights come from when loading (a safetensors file, a checkpoint, a converted model). */
    public interface WeightSource extends AutoCloseable {
        boolean contains(String name);

        int[] shape(String name) throws IOException;

        float[] read(String name) throws IOException;

        /** Names present in the source, for error messages about unexpected tensors. */
        Collection<String> names();

        /** Refuses a source that lacks {@code name} or holds it with another shape, naming the tensor and both shapes. */
        default void requireShape(String name, int... expected) throws IOException {
            if (!contains(name)) {
                throw new IOException("weights lack tensor " + name + " " + Arrays.toString(expected));
            }
            int[] shape = shape(name);
            if (!Arrays.equals(shape, expected)) {
                throw new IOException("tensor " + name + " has shape " + Arrays.toString(shape) + ", the model expects "
                        + Arrays.toString(expected));
            }
        }

        /** True when the tensor is stored as bfloat16 (so a bf16 weight buffer holds it exactly). */
        default boolean isBf16(String name) throws IOException {
            return false;
        }

        /** The tensor's bfloat16 bits where they lie in a mapped file, or null when this source cannot map them. */
        default java.nio.ShortBuffer mappedBf16(String name) throws IOException {
            return null;
        }

        /** The tensor as bfloat16 bits: read as floats and rounded to nearest-even unless a source can copy them. */
        default short[] readBf16(String name) throws IOException {
            float[] v = read(name);
            short[] bits = new short[v.length];
            for (int i = 0; i < v.length; i++) {
                bits[i] = KernelMath.toBf16(v[i]);
            }
            return bits;
        }

        /** Releases the files the source opened (nothing by default). */
        @Override
        default void close() {}
    }

    /**
     * Loads every parameter by name (one upload). Missing or wrongly shaped tensors are errors that name the
     * tensor; extra tensors in the source are errors too unless {@code allowExtra}.
     */
    public void load(WeightSource source, boolean allowExtra) throws IOException {
        load(source, allowExtra, java.util.Set.of());
    }

    /** {@link #load(WeightSource, boolean)} where the tensors {@code heldElsewhere} belong to the model but not to this store. */
    public void load(WeightSource source, boolean allowExtra, java.util.Set<String> heldElsewhere) throws IOException {
        for (Parameter p : byName.values()) {
            source.requireShape(p.name(), p.shape());
        }
        if (!allowExtra) {
            for (String name : source.names()) {
                if (!byName.containsKey(name) && !heldElsewhere.contains(name)) {
                    throw new IOException("weights hold tensor " + name + " that this model does not have");
                }
            }
        }
        // every name and shape is checked before the first upload; each tensor then goes up alone, so loading never
        // holds a second copy of the whole model
        for (Parameter p : byName.values()) {
            java.nio.ShortBuffer mapped = p.lowPrecision() && mapWeights ? source.mappedBf16(p.name()) : null;
            if (mapped != null) {
                p.attach(backend.wrapBf16(mapped, p.shape())); // read where it lies: no copy in the heap
            } else if (p.lowPrecision()) {
                backend.uploadBf16(source.readBf16(p.name()), 0, p.value()); // a bf16 file's bits, copied as they are
            } else {
                backend.upload(source.read(p.name()), 0, p.value());
            }
        }
    }

    /** Host copy of one parameter (for writing checkpoints and tests). */
    public float[] read(Parameter p) {
        return backend.toHost(p.value());
    }

    public Backend backend() {
        return backend;
    }

    public Tensor params() {
        requireAllocated();
        return params;
    }

    /** The gradient buffer, allocated on first use (inference never needs it: a model then holds its weights once). */
    public Tensor grads() {
        requireAllocated();
        if (lowPrecision()) {
            throw new IllegalStateException("this model holds its matrix weights in bfloat16, for inference only; load it "
                    + "as a trainable (fp32) model to train it");
        }
        if (grads == null) {
            grads = backend.zeros(size());
        }
        return grads;
    }

    public void zeroGrads() {
        backend.zero(grads());
    }

    /** Number of parameters (of an allocated store, which never exceeds one buffer). */
    public int size() {
        return Math.toIntExact(total);
    }

    /** Number of parameters declared, allocated or not. */
    public long declaredSize() {
        return total;
    }

    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return p;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public List<Parameter> all() {
        return Collections.unmodifiableList(new ArrayList<>(byName.values()));
    }

    private void requireAllocated() {
        if (params == null) {
            throw new IllegalStateException("parameter store not allocated yet");
        }
    }
}
