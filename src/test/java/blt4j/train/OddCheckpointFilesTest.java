package blt4j.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.backends.Backends;
import blt4j.compute.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A config.json that is a FIFO, a folder or binary gives a clear error at once, never a hang or a charset message. */
class OddCheckpointFilesTest {
    @TempDir
    Path tmp;

    private Path referenceCopy() throws IOException {
        Path fixture = SharedData.bltMicro();
        Path dir = tmp.resolve("ref");
        Files.createDirectories(dir);
        for (String f : new String[] {"weights.safetensors", "entropy_model.safetensors"}) {
            Files.copy(fixture.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    private static IOException loadFails(Path dir) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            try (Backend b = Backends.create("reference", 1, null)) {
                return assertThrows(IOException.class, () -> ModelFiles.loadBlt(dir, b));
            }
        });
    }

    @Test
    void aFifoInPlaceOfTheConfigIsRefusedWithoutReading() throws Exception {
        Path dir = referenceCopy();
        Process p;
        try {
            p = new ProcessBuilder("mkfifo", dir.resolve("config.json").toString()).start();
        } catch (IOException e) {
            Assumptions.abort("mkfifo is not available: " + e.getMessage());
            return;
        }
        Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo failed");
        IOException e = loadFails(dir);
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void aBinaryConfigSaysSo() throws Exception {
        Path dir = referenceCopy();
        Files.write(dir.resolve("config.json"), new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, 0, 1});
        IOException e = loadFails(dir);
        assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
    }

    @Test
    void aFolderInPlaceOfTheConfigSaysSo() throws Exception {
        Path dir = referenceCopy();
        Files.createDirectory(dir.resolve("config.json"));
        IOException e = loadFails(dir);
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
