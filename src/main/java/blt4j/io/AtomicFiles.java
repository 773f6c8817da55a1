package blt4j.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.nio.file.FileAlreadyExistsException;

/**
 * Replaces files so that readers (and a process restarted after a crash) see either the complete old
 * content or the complete new content, never a truncated mix. Weights and checkpoints are written this
 * way because a half-written checkpoint that overwrote the last good one would lose a training run.
 *
 * <p>The recipe: write a temporary file in the target's directory (same file system, so the rename can
 * be atomic), fsync it, rename it over the target, then fsync the directory where the platform allows.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * Lets {@code writeTemp} fill a fresh, empty temporary file next to {@code target}, then atomically
     * moves it over {@code target}. If the callback throws, or anything else fails, the temporary file is
     * deleted, the previous {@code target} (if any) is untouched, and the exception propagates unchanged.
     * Missing parent directories are created.
     */
    public static void writeAtomically(Path target, IOConsumer<Path> writeTemp) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        if (dir == null || abs.getFileName() == null) {
            throw new IOException("cannot write atomically to " + target + ": no parent directory");
        }
        Files.createDirectories(dir);
        Path temp = createTemp(dir, abs.getFileName().toString());
        boolean done = false;
        try {
            writeTemp.accept(temp);
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // Some file systems cannot rename atomically; a plain replace is the best available.
                Files.move(temp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // The original failure is the one worth reporting.
                }
            }
        }
    }

    /** Atomically replaces {@code target} with {@code content} encoded as UTF-8. */
    public static void writeString(Path target, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        writeAtomically(target, temp -> Files.write(temp, bytes, StandardOpenOption.TRUNCATE_EXISTING));
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
            Path p = dir.resolve("." + name + "." + suffix + ".tmp");
            try {
                // createFile (not createTempFile) so the result gets the usual umask permissions.
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    /** Makes the rename itself durable; not supported everywhere (e.g. Windows), hence best effort. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException ignored) {
            // Best effort only.
        }
    }
}
