package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void writeStringReplacesAndLeavesNoTemp() throws Exception {
        Path f = dir.resolve("a.txt");
        AtomicFiles.writeString(f, "one");
        AtomicFiles.writeString(f, "two ✓");
        assertEquals("two ✓", Files.readString(f));
        assertEquals(List.of("a.txt"), listDir());
    }

    @Test
    void failingCallbackKeepsPreviousFileAndRemovesTemp() throws Exception {
        Path f = dir.resolve("b.txt");
        AtomicFiles.writeString(f, "previous");
        IOException boom = new IOException("simulated failure");
        IOException thrown = assertThrows(IOException.class, () -> AtomicFiles.writeAtomically(f, tmp -> {
            Files.writeString(tmp, "half-writ");
            throw boom;
        }));
        assertSame(boom, thrown);
        RuntimeException rt = assertThrows(RuntimeException.class, () -> AtomicFiles.writeAtomically(f, tmp -> {
            throw new IllegalStateException("unchecked");
        }));
        assertEquals("unchecked", rt.getMessage());
        assertEquals("previous", Files.readString(f));
        assertEquals(List.of("b.txt"), listDir());
    }

    @Test
    void safetensorsWriteFailingMidwayKeepsPreviousCheckpoint() throws Exception {
        Path f = dir.resolve("ckpt.safetensors");
        float[] good = {1, 2, 3, 4};
        new SafetensorsWriter().addFloats("w", good, 2, 2).write(f);
        byte[] before = Files.readAllBytes(f);

        SafetensorsWriter next = new SafetensorsWriter().addFloats("w", new float[] {9, 9, 9, 9}, 2, 2)
                .addFloats("extra", new float[1000], 1000);
        assertThrows(IOException.class, () -> AtomicFiles.writeAtomically(f, tmp -> {
            next.writeTo(tmp); // the whole new file lands in the temp file...
            throw new IOException("simulated crash before the rename");
        }));

        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of("ckpt.safetensors"), listDir());
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertArrayEquals(good, st.readFloats("w"));
        }
    }

    @Test
    void failureWhenTargetIsADirectoryCleansUp() throws Exception {
        Path target = Files.createDirectory(dir.resolve("occupied"));
        Files.writeString(target.resolve("inside"), "x");
        assertThrows(IOException.class,
                () -> new SafetensorsWriter().addFloats("w", new float[] {1}, 1).write(target));
        assertEquals(List.of("occupied"), listDir());
    }
}
