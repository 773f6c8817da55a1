package blt4j.nn;

import blt4j.compute.Backend;
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
 * then creates the buffers once.
 */
public final class ParameterStore {
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private long total;
    private Backend backend;
    private Tensor params;
    private Tensor grads;

    public Parameter add(String name, Parameter.Init init, int... shape) {
        if (params != null) {
            throw new IllegalStateException("parameter " + name + " declared after the store was allocated");
        }
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("duplicate parameter name " + name);
        }
        Parameter p = new Parameter(name, shape, total, init);
        p.store = this;
        total += p.size();
        byName.put(name, p);
        return p;
    }

    /** Creates the parameter buffer on the backend (zeros; call {@link #initialize} for weights); gradients come later. */
    public ParameterStore allocate(Backend backend) {
        if (params != null) {
            throw new IllegalStateException("store already allocated");
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the model's buffer would hold " + total + " parameters, more than one "
                    + "buffer's 2^31-1: keep the hash tables in their file (inference) or use a smaller config");
        }
        this.backend = backend;
        this.params = backend.zeros((int) total);
        backend.registerWeights(params);
        return this;
    }

    /** Deterministic initialisation from a seed, computed on the host and uploaded once. */
    public void initialize(long seed) {
        float[] host = new float[size()];
        Random rnd = new Random(seed);
        for (Parameter p : byName.values()) {
            Parameter.Init init = p.init();
            for (int i = 0; i < p.size(); i++) {
                host[p.offset() + i] = init.std() == 0 ? init.constant() : (float) (truncatedNormal(rnd) * init.std());
            }
        }
        backend.upload(host, 0, params);
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
        float[] host = new float[size()];
        for (Parameter p : byName.values()) {
            if (!source.contains(p.name())) {
                throw new IOException("weights lack tensor " + p.name() + " " + Arrays.toString(p.shape()));
            }
            int[] shape = source.shape(p.name());
            if (!Arrays.equals(shape, p.shape())) {
                throw new IOException("tensor " + p.name() + " has shape " + Arrays.toString(shape)
                        + ", the model expects " + Arrays.toString(p.shape()));
            }
            float[] data = source.read(p.name());
            System.arraycopy(data, 0, host, p.offset(), p.size());
        }
        if (!allowExtra) {
            for (String name : source.names()) {
                if (!byName.containsKey(name) && !heldElsewhere.contains(name)) {
                    throw new IOException("weights hold tensor " + name + " that this model does not have");
                }
            }
        }
        backend.upload(host, 0, params());
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
