package blt4j.io;

import blt4j.nn.ParameterStore;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Weights of one model read from safetensors files under the names of some layout: the parameter's own (reference)
 * name, or the Hugging Face port's, where one fused tensor holds every hash table. Built from the model's parameter
 * names, so the tensors a file holds that the model does not have are reported under the file's name, and the
 * tensors of a neighbour model in the same file (the port's {@code model.patcher.*}) are left to that model.
 */
public final class FileWeights implements ParameterStore.WeightSource {

    /** Where one parameter lives: {@code rows} rows of {@code tensor} from row {@code fromRow} (all rows: −1). */
    public record Location(String tensor, long fromRow, int rows) {
        static Location whole(String tensor) {
            return new Location(tensor, 0, -1);
        }
    }

    private final TensorFiles files;
    private final Map<String, Location> plan;
    private final Predicate<String> owns;

    private FileWeights(TensorFiles files, Map<String, Location> plan, Predicate<String> owns) {
        this.files = files;
        this.plan = plan;
        this.owns = owns;
    }

    /** Parameters stored under their own names. */
    public static FileWeights referenceNames(TensorFiles files, Collection<String> parameters) {
        Map<String, Location> plan = new LinkedHashMap<>();
        parameters.forEach(p -> plan.put(p, Location.whole(p)));
        return new FileWeights(files, plan, name -> true);
    }

    /** A BLT in the port's names, its hash tables fused ({@code rowsPerTable} = encoder_hash_byte_group_vocab). */
    public static FileWeights hfBlt(TensorFiles files, Collection<String> parameters, int rowsPerTable) {
        Map<String, Location> plan = new LinkedHashMap<>();
        for (String p : parameters) {
            int table = HfNames.hashTable(p);
            plan.put(p, table >= 0 ? new Location(HfNames.FUSED_HASH, (long) table * rowsPerTable, rowsPerTable)
                    : Location.whole(HfNames.blt(p)));
        }
        return new FileWeights(files, plan, name -> !name.startsWith(HfNames.PATCHER_PREFIX));
    }

    /** An entropy model in the port's names ({@code model.patcher.*}). */
    public static FileWeights hfEntropy(TensorFiles files, Collection<String> parameters) {
        Map<String, Location> plan = new LinkedHashMap<>();
        parameters.forEach(p -> plan.put(p, Location.whole(HfNames.entropy(p))));
        return new FileWeights(files, plan, name -> name.startsWith(HfNames.PATCHER_PREFIX));
    }

    public TensorFiles files() {
        return files;
    }

    /** The file tensor and rows that hold a parameter. */
    public Location location(String parameter) {
        return plan.get(parameter);
    }

    @Override
    public boolean contains(String name) {
        Location l = plan.get(name);
        return l != null && files.contains(l.tensor());
    }

    /** The shape, after checking that the dtype is one a float weight can be read from (so loading fails before it starts). */
    @Override
    public int[] shape(String name) throws IOException {
        Location l = plan.get(name);
        StDtype dtype = files.info(l.tensor()).dtype();
        if (dtype != StDtype.F32 && dtype != StDtype.BF16 && dtype != StDtype.F16 && dtype != StDtype.F64) {
            throw new SafetensorsException(files.source(), "tensor '" + l.tensor() + "' has dtype " + dtype
                    + "; a weight must be F32, BF16, F16 or F64");
        }
        int[] shape = files.intShape(l.tensor());
        if (l.rows() < 0) {
            return shape;
        }
        long tables = 0;
        for (Location o : plan.values()) {
            tables += o.tensor().equals(l.tensor()) ? 1 : 0;
        }
        if (shape.length != 2 || shape[0] != tables * l.rows()) {
            throw new SafetensorsException(files.source(), "fused tensor '" + l.tensor() + "' has shape "
                    + Arrays.toString(shape) + "; the model expects " + tables + " tables of " + l.rows() + " rows, ["
                    + tables * l.rows() + ", d]");
        }
        return new int[] {l.rows(), shape[1]};
    }

    @Override
    public boolean isBf16(String name) throws IOException {
        return files.info(plan.get(name).tensor()).dtype() == StDtype.BF16;
    }

    /** A whole BF16 tensor, mapped where it lies in the file (null for a part of a fused tensor). */
    @Override
    public java.nio.ShortBuffer mappedBf16(String name) throws IOException {
        Location l = plan.get(name);
        return l.rows() < 0 && isBf16(name) ? files.mappedBf16(l.tensor()) : null;
    }

    @Override
    public short[] readBf16(String name) throws IOException {
        Location l = plan.get(name);
        if (l.rows() < 0 && isBf16(name)) {
            return files.readBf16(l.tensor());
        }
        return ParameterStore.WeightSource.super.readBf16(name);
    }

    @Override
    public float[] read(String name) throws IOException {
        Location l = plan.get(name);
        if (l.rows() < 0) {
            return files.readFloats(l.tensor());
        }
        int cols = files.intShape(l.tensor())[1];
        float[] out = new float[Math.multiplyExact(l.rows(), cols)];
        files.readFloats(l.tensor(), l.fromRow() * cols, out.length, out, 0);
        return out;
    }

    /** The parameter names found, plus (under the file's names) the tensors no parameter maps to. */
    @Override
    public Collection<String> names() {
        Set<String> mapped = new LinkedHashSet<>();
        plan.values().forEach(l -> mapped.add(l.tensor()));
        Set<String> out = new LinkedHashSet<>();
        plan.forEach((p, l) -> {
            if (files.contains(l.tensor())) {
                out.add(p);
            }
        });
        for (String t : files.names()) {
            if (owns.test(t) && !mapped.contains(t)) {
                out.add(t);
            }
        }
        return out;
    }

    @Override
    public void close() {
        files.close();
    }

    /** The file tensors of this model's part (for dtype and size reports). */
    public Set<String> tensors() {
        Set<String> out = new LinkedHashSet<>();
        for (String t : files.names()) {
            if (owns.test(t)) {
                out.add(t);
            }
        }
        return out;
    }
}
