package blt4j.io;

import blt4j.nn.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;

/** A PyTorch {@code consolidated.pth} state dict (reference tensor names) as a weight source. */
public final class TorchWeights implements ParameterStore.WeightSource {
    private final TorchCheckpoint checkpoint;

    private TorchWeights(TorchCheckpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    public static TorchWeights open(Path file) throws IOException {
        return new TorchWeights(TorchCheckpoint.open(file));
    }

    @Override
    public boolean contains(String name) {
        return checkpoint.contains(name);
    }

    @Override
    public int[] shape(String name) throws IOException {
        return checkpoint.intShape(name);
    }

    @Override
    public boolean isBf16(String name) throws IOException {
        return checkpoint.info(name).dtype() == StDtype.BF16;
    }

    @Override
    public float[] read(String name) throws IOException {
        return checkpoint.readFloats(name);
    }

    @Override
    public Collection<String> names() {
        return checkpoint.names();
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
