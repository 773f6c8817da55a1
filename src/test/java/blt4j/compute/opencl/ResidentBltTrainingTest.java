package blt4j.compute.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.compute.Backend;
import blt4j.compute.ReferenceBackend;
import blt4j.model.Batch;
import blt4j.model.BltConfig;
import blt4j.model.ByteLatentTransformer;
import blt4j.nn.AdamW;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * BLT training steps on OpenCL after the first: the reference's losses, no device buffer allocated, and only the
 * step's inputs uploaded (token ids, the hash ids of every table, patch positions, targets, weights); masks that
 * did not change stay on the device. Down comes only the per-row loss vector.
 */
class ResidentBltTrainingTest {
    private static final int ROWS = 2;
    private static final int N = 40;

    private static Batch batch() {
        Random r = new Random(5);
        int[] x = new int[ROWS * N];
        int[] y = new int[ROWS * N];
        float[] w = new float[ROWS * N];
        Arrays.fill(w, 1f);
        for (int i = 0; i < x.length; i++) {
            x[i] = i % N == 0 ? 1 : 4 + r.nextInt(200);
            y[i] = 4 + r.nextInt(200);
        }
        int[][] lengths = new int[ROWS][];
        for (int b = 0; b < ROWS; b++) {
            int[] l = new int[1 + N / 3 + 1];
            l[0] = 1;
            int left = N;
            int j = 1;
            while (left > 0) {
                l[j] = Math.min(3, left);
                left -= l[j++];
            }
            lengths[b] = Arrays.copyOf(l, j);
        }
        return new Batch(x, y, w, ROWS, N, lengths);
    }

    private static ByteLatentTransformer model(Backend b) {
        BltConfig c = BltConfig.micro();
        c.maxEncoderSeqLength = 64;
        return new ByteLatentTransformer(c, b).initialize(13);
    }

    @Test
    void stepsAfterTheFirstAllocateNothingAndUploadOnlyInputs() {
        Batch b = batch();
        double[] want = new double[3];
        try (Backend ref = new ReferenceBackend()) {
            ByteLatentTransformer m = model(ref);
            AdamW opt = AdamW.standard(m.parameters(), 0.1f);
            for (int step = 0; step < 3; step++) {
                m.parameters().zeroGrads();
                want[step] = m.forwardLoss(b);
                m.backward();
                opt.step(1e-3f);
            }
        }
        try (OpenClBackend cl = OpenClTestSupport.backend()) {
            ByteLatentTransformer m = model(cl);
            AdamW opt = AdamW.standard(m.parameters(), 0.1f);
            int hashTables = m.config().hashTables();
            int patches = Arrays.stream(b.patchLengths()).mapToInt(l -> l.length).sum();
            cl.synchronize();
            long allocations = 0;
            for (int step = 0; step < 3; step++) {
                cl.resetTransfers();
                m.parameters().zeroGrads();
                double loss = m.forwardLoss(b);
                m.backward();
                opt.step(1e-3f);
                cl.synchronize();
                assertEquals(want[step], loss, 1e-4, "loss at step " + (step + 1));
                if (step > 0) {
                    TransferStats t = cl.transfers();
                    assertEquals(allocations, cl.allocations(), "device buffers allocated at step " + (step + 1));
                    assertEquals(1 + hashTables + 1 + 2, t.uploadCalls(), "uploads at step " + (step + 1) + ": " + t);
                    assertEquals(4L * ((1 + hashTables + 2) * ROWS * N + patches), t.uploadBytes(), "upload bytes");
                    assertEquals(1, t.downloadCalls(), "downloads at step " + (step + 1) + ": " + t);
                }
                allocations = cl.allocations();
            }
        }
    }
}
