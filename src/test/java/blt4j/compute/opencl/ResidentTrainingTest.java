package blt4j.compute.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.compute.Backend;
import blt4j.compute.ReferenceBackend;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import blt4j.nn.AdamW;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Three AdamW steps of a two-block transformer LM on OpenCL give the reference's losses, with parameters,
 * gradients and optimizer moments resident on the device: only the step's inputs go up and the per-row losses
 * come down, and no device buffer is allocated after the first step.
 */
class ResidentTrainingTest {

    private static EntropyModelConfig config() {
        EntropyModelConfig c = EntropyModelConfig.tiny();
        c.dim = 32;
        c.nHeads = 2;
        c.nLayers = 2;
        c.multipleOf = 32;
        c.maxSeqlen = 64;
        return c;
    }

    private static double[] train(Backend backend, int[] x, int[] y, int rows, int seqLen) {
        EntropyModel model = new EntropyModel(config(), backend).initialize(11);
        AdamW opt = AdamW.standard(model.parameters(), 0.1f);
        double[] losses = new double[3];
        for (int step = 0; step < 3; step++) {
            model.parameters().zeroGrads();
            model.forward(x, rows, seqLen);
            losses[step] = model.loss(y, null);
            model.backward();
            opt.step(3e-3f);
        }
        return losses;
    }

    @Test
    void threeStepsMatchTheReferenceAndOnlyInputsAndLossesCross() {
        int rows = 3;
        int seqLen = 37;
        int n = rows * seqLen;
        int[] x = new int[n];
        int[] y = new int[n];
        Random r = new Random(3);
        for (int i = 0; i < n; i++) {
            x[i] = 4 + r.nextInt(60);
            y[i] = 4 + r.nextInt(60);
        }
        double[] want;
        try (Backend ref = new ReferenceBackend()) {
            want = train(ref, x, y, rows, seqLen);
        }
        try (OpenClBackend cl = OpenClTestSupport.backend()) {
            EntropyModel model = new EntropyModel(config(), cl).initialize(11);
            AdamW opt = AdamW.standard(model.parameters(), 0.1f);
            cl.synchronize();
            long allocations = 0;
            for (int step = 0; step < 3; step++) {
                cl.resetTransfers();
                model.parameters().zeroGrads();
                model.forward(x, rows, seqLen);
                double loss = model.loss(y, null);
                model.backward();
                opt.step(3e-3f);
                cl.synchronize();
                assertEquals(want[step], loss, 1e-4, "loss at step " + (step + 1));
                TransferStats t = cl.transfers();
                // up: token ids and targets; the first step also sends the state's positions and mask (the mask
                // is sent again only when it changes); down: the per-row losses
                int uploads = step == 0 ? 5 : 2;
                assertEquals(uploads, t.uploadCalls(), "uploads at step " + (step + 1) + ": " + t);
                assertEquals((long) uploads * n * 4, t.uploadBytes(), "upload bytes at step " + (step + 1));
                if (step > 0) {
                    assertEquals(allocations, cl.allocations(), "device buffers allocated at step " + (step + 1));
                }
                allocations = cl.allocations();
                assertEquals(1, t.downloadCalls(), "downloads at step " + (step + 1) + ": " + t);
                assertEquals((long) n * 4, t.downloadBytes(), "download bytes at step " + (step + 1));
            }
        }
    }
}
