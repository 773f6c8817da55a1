package blt4j.io;

import blt4j.nn.ParameterStore;
import java.io.IOException;
import java.util.Collection;
import java.util.function.UnaryOperator;

/** A safetensors file as a weight source, optionally renaming keys (e.g. a prefix, or Hugging Face names). */
public final class SafetensorsWeights implements ParameterStore.WeightSource {
    private final SafetensorsFile file;
    private final UnaryOperator<String> toFileName;

    /** @param toFileName maps a model parameter name to the key stored in the file */
    public SafetensorsWeights(SafetensorsFile file, UnaryOperator<String> toFileName) {
        this.file = file;
        this.toFileName = toFileName;
    }

    public SafetensorsWeights(SafetensorsFile file) {
        this(file, UnaryOperator.identity());
    }

    @Override
    public boolean contains(String name) {
        return file.contains(toFileName.apply(name));
    }

    @Override
    public int[] shape(String name) throws IOException {
        return file.intShape(toFileName.apply(name));
    }

    @Override
    public float[] read(String name) throws IOException {
        return file.readFloats(toFileName.apply(name));
    }

    @Override
    public Collection<String> names() {
        return file.tensors().keySet();
    }
}
