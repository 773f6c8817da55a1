package blt4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.LongBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Read-only, memory-mapped view of a safetensors file. The header is validated completely when the file
 * is opened, so a corrupt or truncated file fails early with a message naming the file and the problem
 * instead of an {@link IndexOutOfBoundsException} or a huge allocation halfway through loading a model.
 *
 * <p>The data section is mapped in windows of at most 1 GiB (a {@link MappedByteBuffer} cannot exceed
 * 2 GiB), so files and single tensors larger than 2 GiB are readable. Mappings stay valid after
 * {@link #close()} until they are garbage collected; the file must not be truncated while it is open.
 * Instances are safe for concurrent reads.
 *
 * <p>Validation follows the reference implementation: the tensors' byte ranges must tile the data section
 * exactly, duplicate JSON keys are refused, and all sizes are checked in 64 bits against the file's real
 * length before anything is allocated. Files written by {@link SafetensorsWriter} record a CRC32C of each
 * tensor's bytes in {@code __metadata__}; every read of such a tensor verifies it, computed chunk by chunk
 * while the bytes are converted. Files without checksums (downloaded models) are read unverified. Every
 * error is an {@link IOException} naming the file, usually a {@link SafetensorsException}.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Refuse headers larger than this: real headers are kilobytes, and the check bounds the allocation. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** Default mapping window. */
    static final long DEFAULT_WINDOW_BYTES = 1L << 30;

    /** Each window maps this many extra bytes so that an element starting in it never straddles two. */
    private static final int WINDOW_OVERLAP = 8;

    /** Elements converted per step for dtypes that need a conversion loop. */
    private static final int CONVERT_CHUNK = 1 << 14;

    /** Bytes handed to one conversion step (and checksum update), so both see them while they are in cache. */
    private static final long STEP_BYTES = 1L << 20;

    private final Path path;
    private final long fileSize;
    private final long dataStart;
    private final long windowBytes;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final Map<String, Integer> checksums;
    private volatile ByteBuffer[] windows;

    private SafetensorsFile(Path path, long fileSize, long dataStart, long windowBytes, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata, Map<String, Integer> checksums, ByteBuffer[] windows) {
        this.path = path;
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.windowBytes = windowBytes;
        this.tensors = tensors;
        this.metadata = metadata;
        this.checksums = checksums;
        this.windows = windows;
    }

    /** Opens and validates {@code path}; throws {@link SafetensorsException} if it is malformed. */
    public static SafetensorsFile open(Path path) throws IOException {
        return open(path, DEFAULT_WINDOW_BYTES);
    }

    /** As {@link #open(Path)} with a chosen mapping window; tests use tiny windows to exercise straddling. */
    static SafetensorsFile open(Path path, long windowBytes) throws IOException {
        if (windowBytes < 1 || windowBytes > Integer.MAX_VALUE - WINDOW_OVERLAP) {
            throw new IllegalArgumentException("window size out of range: " + windowBytes);
        }
        requireRegularFile(path);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsException(path, "file is " + size
                        + " bytes, shorter than the 8-byte header length prefix (empty or truncated file?)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long headerLen = lenBuf.getLong(0);
            // Checked against the limit and the real file size before the header buffer is allocated.
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new SafetensorsException(path, "absurd header size " + Long.toUnsignedString(headerLen)
                        + " bytes (limit " + MAX_HEADER_BYTES + "); not a safetensors file?");
            }
            if (headerLen > size - 8) {
                throw new SafetensorsException(path, "header length " + headerLen
                        + " extends past the end of the file (file size " + size + ", truncated file?)");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBytes, 8, path);

            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            SafetensorsHeader.Parsed parsed = SafetensorsHeader.parse(headerBytes.array(), dataSize, path);
            Map<String, TensorInfo> byOffset = new LinkedHashMap<>();
            for (TensorInfo t : parsed.tensorsByOffset()) {
                byOffset.put(t.name(), t);
            }
            ByteBuffer[] windows = mapWindows(ch, dataStart, dataSize, windowBytes);
            return new SafetensorsFile(path, size, dataStart, windowBytes, Collections.unmodifiableMap(byOffset),
                    Collections.unmodifiableMap(parsed.metadata()), Collections.unmodifiableMap(parsed.checksums()),
                    windows);
        } catch (SafetensorsException | FileSystemException e) {
            throw e; // these name the file already
        } catch (IOException e) {
            throw new SafetensorsException(path, "cannot read the file: " + e, e);
        }
    }

    /**
     * Refuses anything but a regular file (links followed) before opening it: reading a FIFO would block
     * forever, and a directory or device is never a checkpoint.
     */
    private static void requireRegularFile(Path path) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(path, Files.isSymbolicLink(path)
                    ? "is a symbolic link to a missing file" : "no such file", e);
        }
        if (a.isRegularFile()) {
            return;
        }
        String what = a.isDirectory() ? "a directory" : specialKind(path);
        String via = Files.isSymbolicLink(path) ? " (through a symbolic link)" : "";
        throw new SafetensorsException(path, "is " + what + via + ", not a regular file; refusing to read it");
    }

    private static String specialKind(Path path) {
        try {
            int type = ((Integer) Files.getAttribute(path, "unix:mode")) & 0170000;
            return switch (type) {
                case 0010000 -> "a FIFO (named pipe)";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | RuntimeException e) {
            return "a special file (FIFO, device or socket)"; // no unix attribute view on this platform
        }
    }

    /** The file this view reads. */
    public Path path() {
        return path;
    }

    /** File size in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** Absolute file offset of the data section (8 + header length). */
    public long dataStart() {
        return dataStart;
    }

    /** All tensors, ordered by data offset. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /**
     * The {@code __metadata__} entries (empty when absent), in header order, without the per-tensor checksum
     * entries ({@code blt4j.crc32c.*}), which are verified by the reads instead.
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** True if the file records a checksum for tensor {@code name}, which every read of it then verifies. */
    public boolean hasChecksum(String name) {
        return checksums.containsKey(name);
    }

    /**
     * The shape of {@code name} as ints, refused (as the file's fault) when a dimension or the element count
     * does not fit an int, which {@link TensorInfo#intShape()} would report as an {@link ArithmeticException}.
     */
    public int[] intShape(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        long[] shape = t.shape();
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            if (shape[i] > Integer.MAX_VALUE - 8) {
                throw new SafetensorsException(path, "tensor '" + name + "': dimension " + i + " of shape "
                        + Arrays.toString(shape) + " is too large for an int");
            }
            s[i] = (int) shape[i];
        }
        long product = 1;
        for (long d : shape) {
            product = Math.min(product * d, Integer.MAX_VALUE); // d <= 2^31, so no long overflow before the clamp
        }
        if (product > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path, "tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " has too many elements for one Java array");
        }
        return s;
    }

    /** True if the file holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The header entry for {@code name}; the error for a missing name lists similar names. */
    public TensorInfo info(String name) throws SafetensorsException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path, "no tensor named '" + name + "' (file has " + tensors.size()
                    + " tensors" + suggestions(name) + ")");
        }
        return t;
    }

    /** Reads a F32, BF16, F16 or F64 tensor as fp32. */
    public float[] readFloats(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        float[] dst = new float[arrayLength(t)];
        readFloats(t, dst, 0, true);
        return dst;
    }

    /** Reads a float tensor after checking that its shape is exactly {@code expectedShape}. */
    public float[] readFloatsChecked(String name, int... expectedShape) throws SafetensorsException {
        TensorInfo t = info(name);
        if (!t.hasShape(expectedShape)) {
            throw new SafetensorsException(path, "tensor '" + name + "' has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(expectedShape));
        }
        return readFloats(name);
    }

    /** Reads a float tensor into {@code dst} starting at {@code dstOffset}, converting to fp32. */
    public void readFloats(String name, float[] dst, int dstOffset) throws SafetensorsException {
        TensorInfo t = info(name);
        if (dstOffset < 0 || dstOffset > dst.length || dst.length - dstOffset < t.numel()) {
            throw new IllegalArgumentException(path + ": tensor '" + name + "' has " + t.numel()
                    + " elements, which do not fit in an array of length " + dst.length + " at offset " + dstOffset);
        }
        readFloats(t, dst, dstOffset, true);
    }

    /**
     * Reads {@code count} elements of a float tensor, from element {@code fromElement} on, as fp32 (one table of a
     * fused embedding, for example). A part of a tensor cannot be checked against the whole tensor's checksum, so
     * such a read is unverified.
     */
    public void readFloats(String name, long fromElement, int count, float[] dst, int dstOffset) throws SafetensorsException {
        TensorInfo t = info(name);
        if (fromElement < 0 || count < 0 || fromElement > t.numel() - count) {
            throw new SafetensorsException(path, "tensor '" + name + "' has " + t.numel() + " elements; elements ["
                    + fromElement + ", " + (fromElement + count) + ") are outside it");
        }
        if (dstOffset < 0 || dstOffset > dst.length - count) {
            throw new IllegalArgumentException(count + " elements do not fit in an array of length " + dst.length
                    + " at offset " + dstOffset);
        }
        long es = t.dtype().size();
        TensorInfo part = new TensorInfo(t.name(), t.dtype(), new long[] {count}, t.begin() + fromElement * es,
                t.begin() + (fromElement + count) * es);
        readFloats(part, dst, dstOffset, count == t.numel());
    }

    /**
     * A BF16 tensor as a read-only little-endian view of its own mapping of the file: nothing is copied, the values are
     * read from the page cache as they are used. A recorded checksum is verified once here (one pass over the pages).
     */
    public java.nio.ShortBuffer mappedBf16(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        if (t.dtype() != StDtype.BF16) {
            throw new SafetensorsException(path, "tensor '" + name + "' has dtype " + t.dtype() + ", not BF16");
        }
        arrayLength(t);
        windows(); // refuses a closed file
        ByteBuffer bytes;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            if (ch.size() != fileSize) {
                throw new SafetensorsException(path, "the file changed size since it was opened (" + fileSize + " -> "
                        + ch.size() + " bytes)");
            }
            bytes = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.byteLength());
        } catch (SafetensorsException e) {
            throw e;
        } catch (IOException e) {
            throw new SafetensorsException(path, "cannot map tensor '" + name + "': " + e, e);
        }
        Integer expected = checksums.get(name);
        if (expected != null) {
            CRC32C crc = new CRC32C();
            crc.update(bytes.duplicate());
            if ((int) crc.getValue() != expected) {
                throw new SafetensorsException(path, String.format("tensor '%s': checksum mismatch, the CRC32C of its %d"
                        + " data bytes is %08x but the file records %08x (the file is corrupt)", name, t.byteLength(),
                        (int) crc.getValue(), expected));
            }
        }
        return bytes.order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().asReadOnlyBuffer();
    }

    /** The raw bits of a BF16 tensor (no conversion: a bulk copy from the mapping, verified like every read). */
    public short[] readBf16(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        if (t.dtype() != StDtype.BF16) {
            throw new SafetensorsException(path, "tensor '" + name + "' has dtype " + t.dtype() + ", not BF16");
        }
        short[] dst = new short[arrayLength(t)];
        forEachChunk(windows(), t, true, (chunk, count, index) -> chunk.asShortBuffer().get(dst, (int) index, count));
        return dst;
    }

    /** Reads an I32 or I64 tensor; I64 values outside the int range are an error. */
    public int[] readInts(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        if (!t.dtype().isIntReadable()) {
            throw new SafetensorsException(path, "tensor '" + name + "' has dtype " + t.dtype()
                    + ", cannot read it as integers (supported: I32, I64)");
        }
        int[] dst = new int[arrayLength(t)];
        ByteBuffer[] w = windows();
        if (t.dtype() == StDtype.I32) {
            forEachChunk(w, t, true, (chunk, count, index) -> chunk.asIntBuffer().get(dst, (int) index, count));
        } else {
            long[] tmp = new long[(int) Math.min(CONVERT_CHUNK, dst.length)];
            forEachChunk(w, t, true, (chunk, count, index) -> {
                LongBuffer lb = chunk.asLongBuffer();
                for (int done = 0; done < count; ) {
                    int k = Math.min(tmp.length, count - done);
                    lb.get(tmp, 0, k);
                    for (int i = 0; i < k; i++) {
                        long v = tmp[i];
                        if (v != (int) v) {
                            throw new SafetensorsException(path, "tensor '" + name + "' (I64) element "
                                    + (index + done + i) + " = " + v + " does not fit in an int");
                        }
                        dst[(int) index + done + i] = (int) v;
                    }
                    done += k;
                }
            });
        }
        return dst;
    }

    /** Releases the view; further reads fail. The mappings themselves are freed by the garbage collector. */
    @Override
    public void close() {
        windows = null;
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }

    // ---------------------------------------------------------------- reading

    private void readFloats(TensorInfo t, float[] dst, int dstOffset, boolean verify) throws SafetensorsException {
        ByteBuffer[] w = windows();
        switch (t.dtype()) {
            case F32 -> forEachChunk(w, t, verify, (chunk, count, index) ->
                    chunk.asFloatBuffer().get(dst, dstOffset + (int) index, count));
            case F64 -> {
                double[] tmp = new double[(int) Math.min(CONVERT_CHUNK, t.numel())];
                forEachChunk(w, t, verify, (chunk, count, index) -> {
                    DoubleBuffer db = chunk.asDoubleBuffer();
                    int base = dstOffset + (int) index;
                    for (int done = 0; done < count; ) {
                        int k = Math.min(tmp.length, count - done);
                        db.get(tmp, 0, k);
                        for (int i = 0; i < k; i++) {
                            dst[base + done + i] = (float) tmp[i];
                        }
                        done += k;
                    }
                });
            }
            case BF16, F16 -> {
                boolean bf16 = t.dtype() == StDtype.BF16;
                short[] tmp = new short[(int) Math.min(CONVERT_CHUNK, t.numel())];
                forEachChunk(w, t, verify, (chunk, count, index) -> {
                    ShortBuffer sb = chunk.asShortBuffer();
                    int base = dstOffset + (int) index;
                    for (int done = 0; done < count; ) {
                        int k = Math.min(tmp.length, count - done);
                        sb.get(tmp, 0, k);
                        int o = base + done;
                        if (bf16) {
                            for (int i = 0; i < k; i++) {
                                dst[o + i] = Float.intBitsToFloat(tmp[i] << 16);
                            }
                        } else {
                            for (int i = 0; i < k; i++) {
                                dst[o + i] = halfToFloat(tmp[i]);
                            }
                        }
                        done += k;
                    }
                });
            }
            default -> throw new SafetensorsException(path, "tensor '" + t.name() + "' has dtype " + t.dtype()
                    + ", cannot read it as floats (supported: F32, BF16, F16, F64)");
        }
    }

    /** IEEE 754 binary16 bits to fp32, exact for every input including subnormals, infinities and NaN. */
    static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // zero or subnormal: mant * 2^-24, exact in fp32
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13)); // inf, or NaN keeping its payload
        }
        return Float.intBitsToFloat(sign | ((exp + (127 - 15)) << 23) | (mant << 13));
    }

    @FunctionalInterface
    private interface ChunkReader {
        /** {@code chunk} holds {@code count} little-endian elements, the first being element {@code index}. */
        void read(ByteBuffer chunk, int count, long index) throws SafetensorsException;
    }

    /**
     * Walks the tensor's bytes window by window, in steps of at most {@link #STEP_BYTES}. Every element
     * starting inside window k is read from window k, which maps {@link #WINDOW_OVERLAP} extra bytes, so no
     * element is ever split. When the file records a checksum for the tensor, each step's bytes are added to
     * a CRC32C just before {@code reader} converts them, and a mismatch at the end fails the read.
     */
    private void forEachChunk(ByteBuffer[] w, TensorInfo t, boolean verify, ChunkReader reader) throws SafetensorsException {
        Integer expected = verify ? checksums.get(t.name()) : null;
        CRC32C crc = expected != null ? new CRC32C() : null;
        int es = t.dtype().size();
        long pos = t.begin();
        long end = t.end();
        long index = 0;
        while (pos < end) {
            int k = (int) (pos / windowBytes);
            long windowStart = k * windowBytes;
            long limit = Math.min(Math.min(windowStart + windowBytes, end), pos + STEP_BYTES);
            long count = (limit - pos + es - 1) / es;
            int off = (int) (pos - windowStart);
            ByteBuffer chunk = w[k].slice(off, (int) (count * es)).order(ByteOrder.LITTLE_ENDIAN);
            if (crc != null) {
                crc.update(chunk);
                chunk.rewind();
            }
            reader.read(chunk, (int) count, index);
            pos += count * es;
            index += count;
        }
        if (crc != null && (int) crc.getValue() != expected) {
            throw new SafetensorsException(path, String.format("tensor '%s': checksum mismatch, the CRC32C of its %d"
                    + " data bytes is %08x but the file records %08x (the file is corrupt)", t.name(),
                    t.byteLength(), (int) crc.getValue(), expected));
        }
    }

    private ByteBuffer[] windows() throws SafetensorsException {
        ByteBuffer[] w = windows;
        if (w == null) {
            throw new SafetensorsException(path, "file has been closed");
        }
        return w;
    }

    private int arrayLength(TensorInfo t) throws SafetensorsException {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path, "tensor '" + t.name() + "' has " + n
                    + " elements, too many for one Java array");
        }
        return (int) n;
    }

    private String suggestions(String name) {
        if (tensors.isEmpty()) {
            return "";
        }
        List<String> keys = new ArrayList<>(tensors.keySet());
        keys.sort(Comparator.comparingInt((String k) -> -commonPrefix(k, name)).thenComparing(k -> k));
        List<String> few = keys.subList(0, Math.min(5, keys.size()));
        return "; closest: " + String.join(", ", few) + (keys.size() > few.size() ? ", ..." : "");
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    // ---------------------------------------------------------------- opening

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new SafetensorsException(path, "unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }


    private static ByteBuffer[] mapWindows(FileChannel ch, long dataStart, long dataSize, long windowBytes)
            throws IOException {
        long n = (dataSize + windowBytes - 1) / windowBytes;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("window size " + windowBytes + " too small for " + dataSize + " bytes");
        }
        int count = (int) n;
        ByteBuffer[] w = new ByteBuffer[count];
        for (int k = 0; k < count; k++) {
            long start = k * windowBytes;
            long len = Math.min(windowBytes + WINDOW_OVERLAP, dataSize - start);
            w[k] = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + start, len);
        }
        return w;
    }
}
