package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.TestBackends;
import blt4j.compute.Backend;
import blt4j.model.EntropyModel;
import blt4j.train.ModelExport;
import blt4j.train.ModelFiles;
import blt4j.train.ModelFolder;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The released layout with its entropy model as facebook/blt publishes it ({@code entropy_model/params.json} +
 * {@code consolidated.pth}, the state dict under "model"): the fixture's entropy model written that way loads and
 * scores the fixture's entropies on every backend.
 */
class ConsolidatedPthLayoutTest {
    @TempDir
    Path tmp;

    /** The fixture in the released layout, its entropy weights replaced by a consolidated.pth of the same tensors. */
    private Path releasedWithPth(boolean bf16) throws IOException {
        Path out = tmp.resolve("blt-1b-like");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), out,
                new ModelExport.Options(ModelExport.Target.REFERENCE, StDtype.F32, 0));
        Path entropyDir = out.resolve("entropy_model");
        Files.delete(entropyDir.resolve("model.safetensors"));
        TorchCheckpointTest.CheckpointBuilder pth = new TorchCheckpointTest.CheckpointBuilder().underModel();
        try (SafetensorsFile f = SafetensorsFile.open(SharedData.bltMicro().resolve("entropy_model.safetensors"))) {
            int key = 0;
            for (TensorInfo t : f.tensors().values()) {
                float[] v = f.readFloats(t.name());
                String k = Integer.toString(key++);
                pth.storage(k, bf16 ? bf16Bytes(v) : TorchCheckpointTest.floatsLE(v));
                pth.tensor(t.name(), bf16 ? "BFloat16Storage" : "FloatStorage", k, 0, t.shape());
            }
        }
        pth.write(entropyDir.resolve("consolidated.pth"));
        return out;
    }

    private static byte[] bf16Bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putShort(SafetensorsWriter.floatToBf16(x));
        }
        return b.array();
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void entropiesFromConsolidatedPthMatchTheFixture(String backendName) throws Exception {
        Path dir = releasedWithPth(false);
        assertEquals(ModelFolder.Layout.CONSOLIDATED, ModelFolder.open(dir.resolve("entropy_model")).layout());
        JsonObject exp = new Gson().fromJson(Files.readString(SharedData.bltMicro().resolve("cases/short/expected.json")),
                JsonObject.class);
        int[] x = new Gson().fromJson(exp.get("x"), int[].class);
        float[] want;
        try (SafetensorsFile t = SafetensorsFile.open(SharedData.bltMicro().resolve("cases/short/tensors.safetensors"))) {
            want = t.readFloats("entropies");
        }
        try (Backend b = TestBackends.create(backendName)) {
            EntropyModel em = ModelFiles.loadEntropyModel(dir, b);
            em.forward(x, 1, x.length);
            float[] got = em.entropies();
            for (int i = 0; i < want.length; i++) {
                assertTrue(Math.abs(got[i] - want[i]) <= 1e-4 + 1e-3 * Math.abs(want[i]), "entropy " + i + ": " + got[i] + " vs " + want[i]);
            }
        }
    }

    @Test
    void aBf16PthLoadsWithinBf16Tolerance() throws Exception {
        Path dir = releasedWithPth(true);
        try (Backend b = TestBackends.create("cpu")) {
            EntropyModel em = ModelFiles.loadEntropyModel(dir, b);
            int[] x = {1, 76, 108, 105, 112, 36, 120, 115, 118, 112, 104};
            em.forward(x, 1, x.length);
            for (float h : em.entropies()) {
                assertTrue(Float.isFinite(h) && h >= 0 && h <= Math.log(260) + 1e-3, "entropy " + h);
            }
        }
    }

    @Test
    void aPthThatCallsAnythingButTensorRebuildsIsRefusedByName() throws Exception {
        Path dir = releasedWithPth(false);
        Path pth = dir.resolve("entropy_model/consolidated.pth");
        TorchCheckpointTest.PickleWriter w = new TorchCheckpointTest.PickleWriter().proto(2);
        byte[] evil = w.global("os", "system").str("echo owned").raw(0x85).raw('R').stop();
        TorchCheckpointTest.writeZip(pth, TorchCheckpointTest.torchEntries(evil, java.util.Map.of()), java.util.zip.ZipEntry.STORED);
        try (Backend b = TestBackends.create("reference")) {
            IOException e = assertThrows(IOException.class, () -> ModelFiles.loadEntropyModel(dir, b));
            assertTrue(e.getMessage().contains("os.system"), e.getMessage());
        }
    }
}
