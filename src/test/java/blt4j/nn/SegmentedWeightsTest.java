package blt4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.TestBackends;
import blt4j.compute.Backend;
import blt4j.io.StDtype;
import blt4j.model.ByteLatentTransformer;
import blt4j.train.ModelExport;
import blt4j.train.ModelFiles;
import blt4j.train.ModelFolder;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bf16 matrix weights split over many buffers (as blt-7b's 6.7B must be: one Java array holds at most 2^31−1) give
 * the same logits, bit for bit, as one buffer.
 */
class SegmentedWeightsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void segmentsChangeNothing(String backendName) throws Exception {
        Path dir = tmp.resolve("bf16");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), dir,
                new ModelExport.Options(ModelExport.Target.REFERENCE, StDtype.BF16, 0));
        int[] x = {1, 76, 108, 105, 112, 36, 120, 115, 118, 112, 104, 40, 40, 36, 72};
        int[][] lengths = {{1, 3, 4, 4, 4}};
        long saved = ParameterStore.segmentElements;
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer one = ModelFiles.loadBlt(dir, backend);
            one.forward(x, 1, x.length, lengths);
            float[] want = one.activations().logits().toHost();
            ParameterStore.segmentElements = 5000; // blt-micro's matrices: about 30 segments
            ByteLatentTransformer many = ModelFiles.loadBlt(dir, backend);
            assertTrue(many.parameters().lowPrecisionSegments() > 10, "segments: " + many.parameters().lowPrecisionSegments());
            assertTrue(one.parameters().lowPrecisionSegments() == 1);
            many.forward(x, 1, x.length, lengths);
            assertArrayEquals(want, many.activations().logits().toHost());
        } finally {
            ParameterStore.segmentElements = saved;
        }
    }
}
