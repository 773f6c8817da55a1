package blt4j.io;

import blt4j.io.RestrictedUnpickler.StorageRef;
import blt4j.io.RestrictedUnpickler.TensorRef;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Read-only view of a PyTorch checkpoint in the zip format {@code torch.save} has written since 1.6: one
 * top folder holding {@code data.pkl} (the pickled object), {@code data/<key>} (each storage's raw
 * little-endian bytes), {@code version} and optionally {@code byteorder}. The pickle is interpreted by
 * {@link RestrictedUnpickler}, so nothing the file names is ever executed.
 *
 * <p>The tensors exposed are the state dict: the top-level dict, or the dict under {@code "model"} when
 * there is one (facebook/blt's {@code consolidated.pth} keeps optimizer state next to it, which is
 * ignored). Only str keys with tensor values count; nested dicts are not flattened. Everything is checked
 * when the file is opened, in 64-bit arithmetic and before any tensor is allocated: every storage entry
 * must exist and hold exactly its declared bytes, every tensor must lie inside its storage and be
 * contiguous row-major. Every error is an {@link IOException} naming the file, usually a
 * {@link TorchCheckpointException}. Reads are safe from several threads.
 */
public final class TorchCheckpoint implements AutoCloseable {

    /** data.pkl holds structure only (kilobytes for a large model); the bound keeps a lying entry from allocating. */
    static final int MAX_PICKLE_BYTES = 1 << 30;

    /** Small text entries ({@code version}, {@code byteorder}). */
    private static final int MAX_TEXT_BYTES = 64;

    /** Bytes read from a storage entry per step; a multiple of every element size. */
    private static final int READ_CHUNK_BYTES = 1 << 16;

    /**
     * One tensor of the state dict.
     *
     * @param name          key in the state dict
     * @param dtype         element type of its storage
     * @param shape         dimensions, outermost first; empty for a 0-dim tensor (the accessor returns a copy)
     * @param storageKey    the storage's key: its bytes are the zip entry {@code <archive>/data/<key>}
     * @param elementOffset first element of the tensor within the storage
     */
    public record StoredTensor(String name, StDtype dtype, long[] shape, String storageKey, long elementOffset) {
        public StoredTensor {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** Number of elements: the product of the shape, 1 for a 0-dim tensor (checked not to overflow at open). */
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof StoredTensor t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                    && storageKey.equals(t.storageKey) && elementOffset == t.elementOffset;
        }

        @Override
        public int hashCode() {
            return ((name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)) * 31
                    + storageKey.hashCode() * 17 + Long.hashCode(elementOffset);
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape) + " @ storage " + storageKey + "+" + elementOffset;
        }
    }

    private final Path path;
    private final String archive;
    private final Map<String, StoredTensor> tensors;
    private final Map<String, ZipEntry> storageEntries;
    private volatile ZipFile zip;

    private TorchCheckpoint(Path path, String archive, Map<String, StoredTensor> tensors,
                            Map<String, ZipEntry> storageEntries, ZipFile zip) {
        this.path = path;
        this.archive = archive;
        this.tensors = tensors;
        this.storageEntries = storageEntries;
        this.zip = zip;
    }

    /** Opens and validates {@code path}; throws {@link TorchCheckpointException} if it is malformed or unsafe. */
    public static TorchCheckpoint open(Path path) throws IOException {
        requireNonEmptyRegularFile(path);
        requireZipSignature(path);
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new TorchCheckpointException(path, "not a readable zip archive (" + e.getMessage()
                    + "); a torch.save checkpoint is a zip", e);
        }
        try {
            String archive = findArchive(path, zip);
            checkByteOrder(path, zip, archive);
            checkVersion(path, zip, archive);
            String pickleName = archive + "data.pkl";
            byte[] pickle = readEntry(path, zip, zip.getEntry(pickleName), MAX_PICKLE_BYTES);
            RestrictedUnpickler unpickler = new RestrictedUnpickler(pickle);
            Object root;
            try {
                root = unpickler.load();
            } catch (IOException e) {
                throw new TorchCheckpointException(path, pickleName + ": " + e.getMessage(), e);
            }
            Map<String, ZipEntry> entries = new HashMap<>();
            Map<String, StoredTensor> tensors = stateDictTensors(path, zip, archive, root, unpickler.storages(), entries);
            return new TorchCheckpoint(path, archive, Collections.unmodifiableMap(tensors), entries, zip);
        } catch (IOException | RuntimeException | Error e) {
            try {
                zip.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The file this view reads. */
    public Path path() {
        return path;
    }

    /** The top folder of the zip, with its trailing slash (often {@code archive/} or the file's base name). */
    public String archive() {
        return archive;
    }

    /** The state dict's tensors, in the order the pickle lists them. */
    public Map<String, StoredTensor> tensors() {
        return tensors;
    }

    /** The state dict's tensor names. */
    public Collection<String> names() {
        return tensors.keySet();
    }

    /** True if the state dict holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The entry for {@code name}; the error for a missing name says how many tensors there are. */
    public StoredTensor info(String name) throws TorchCheckpointException {
        StoredTensor t = tensors.get(name);
        if (t == null) {
            throw new TorchCheckpointException(path, "no tensor named '" + name + "' (the state dict has "
                    + tensors.size() + " tensors)");
        }
        return t;
    }

    /** The shape of {@code name} as ints, refused when a dimension or the element count does not fit a Java array. */
    public int[] intShape(String name) throws TorchCheckpointException {
        StoredTensor t = info(name);
        long[] shape = t.shape();
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            if (shape[i] > Integer.MAX_VALUE - 8) {
                throw new TorchCheckpointException(path, "tensor '" + name + "': dimension " + i + " of shape "
                        + Arrays.toString(shape) + " is too large for an int");
            }
            s[i] = (int) shape[i];
        }
        arrayLength(t);
        return s;
    }

    /** Reads a F32, BF16, F16 or F64 tensor as fp32 (bf16 and f16 exactly, f64 rounded to nearest). */
    public float[] readFloats(String name) throws IOException {
        StoredTensor t = info(name);
        StDtype dtype = t.dtype();
        if (dtype != StDtype.F32 && dtype != StDtype.BF16 && dtype != StDtype.F16 && dtype != StDtype.F64) {
            throw new TorchCheckpointException(path, "tensor '" + name + "' has dtype " + dtype
                    + ", cannot read it as floats (supported: F32, BF16, F16, F64)");
        }
        float[] dst = new float[arrayLength(t)];
        int es = dtype.size();
        ZipEntry entry = storageEntries.get(t.storageKey());
        try (InputStream in = openZip().getInputStream(entry)) {
            in.skipNBytes(t.elementOffset() * es);
            byte[] buf = new byte[(int) Math.min(READ_CHUNK_BYTES, (long) dst.length * es)];
            ByteBuffer view = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
            for (int done = 0; done < dst.length; ) {
                int count = Math.min(buf.length / es, dst.length - done);
                if (in.readNBytes(buf, 0, count * es) < count * es) {
                    throw new EOFException();
                }
                convert(view, dtype, count, dst, done);
                done += count;
            }
        } catch (EOFException e) {
            throw new TorchCheckpointException(path, "tensor '" + name + "': entry " + entry.getName()
                    + " ends before the tensor's data does (truncated file?)", e);
        } catch (TorchCheckpointException e) {
            throw e;
        } catch (IOException | IllegalStateException e) { // ZipFile reports a concurrent close as IllegalStateException
            throw new TorchCheckpointException(path, "tensor '" + name + "': cannot read entry " + entry.getName()
                    + ": " + e, e);
        }
        return dst;
    }

    /** Closes the zip; further reads fail. Unchecked, like {@link SafetensorsFile#close()}: nothing is lost if it fails. */
    @Override
    public void close() {
        ZipFile z = zip;
        zip = null;
        if (z != null) {
            try {
                z.close();
            } catch (IOException e) {
                throw new UncheckedIOException(path + ": cannot close: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public String toString() {
        return "TorchCheckpoint[" + path + ", " + tensors.size() + " tensors]";
    }

    // ---------------------------------------------------------------- reading

    private ZipFile openZip() throws TorchCheckpointException {
        ZipFile z = zip;
        if (z == null) {
            throw new TorchCheckpointException(path, "checkpoint has been closed");
        }
        return z;
    }

    /** Converts {@code count} little-endian elements at the start of {@code src}; the caller filled exactly those bytes. */
    private static void convert(ByteBuffer src, StDtype dtype, int count, float[] dst, int at) {
        switch (dtype) {
            case F32 -> src.asFloatBuffer().get(dst, at, count);
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    dst[at + i] = (float) src.getDouble(i * 8);
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[at + i] = Float.intBitsToFloat(src.getShort(i * 2) << 16); // bf16 is the top half of an fp32
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[at + i] = SafetensorsFile.halfToFloat(src.getShort(i * 2));
                }
            }
            default -> throw new IllegalArgumentException("not a float dtype: " + dtype);
        }
    }

    private int arrayLength(StoredTensor t) throws TorchCheckpointException {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new TorchCheckpointException(path, "tensor '" + t.name() + "' has " + n
                    + " elements, too many for one Java array");
        }
        return (int) n;
    }

    // ---------------------------------------------------------------- opening

    private static void requireNonEmptyRegularFile(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new TorchCheckpointException(path, "no such file");
        }
        // A FIFO or device would block or never end; a checkpoint is always a plain file.
        if (!Files.isRegularFile(path)) {
            throw new TorchCheckpointException(path, (Files.isDirectory(path) ? "is a directory" : "is a special file")
                    + (Files.isSymbolicLink(path) ? " (through a symbolic link)" : "") + ", not a regular file");
        }
        if (Files.size(path) == 0) {
            throw new TorchCheckpointException(path, "file is empty (0 bytes); expected a torch.save zip checkpoint");
        }
    }

    /** Recognises the legacy (pre-1.6) format and other non-zips by their first bytes, for a useful message. */
    private static void requireZipSignature(Path path) throws IOException {
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        }
        boolean zipLike = n == 4 && head[0] == 'P' && head[1] == 'K'
                && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
        if (zipLike) {
            return;
        }
        if (n >= 1 && (head[0] & 0xFF) == 0x80) {
            throw new TorchCheckpointException(path, "starts with a raw pickle, not a zip: this is the legacy torch.save"
                    + " format (PyTorch before 1.6, or _use_new_zipfile_serialization=False), which is not supported;"
                    + " re-save it with a current PyTorch");
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < n; i++) {
            hex.append(String.format("%02x", head[i] & 0xFF));
        }
        throw new TorchCheckpointException(path, "not a zip archive (starts with bytes " + hex
                + ", a zip starts with 504b0304); a torch.save checkpoint is a zip");
    }

    /** The single top folder holding {@code data.pkl}, with its trailing slash. */
    private static String findArchive(Path path, ZipFile zip) throws IOException {
        List<String> found = new ArrayList<>();
        int entries = 0;
        for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
            String name = e.nextElement().getName();
            entries++;
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                found.add(name.substring(0, slash + 1));
            }
        }
        if (found.isEmpty()) {
            throw new TorchCheckpointException(path, "the zip (" + entries + " entries) has no <archive>/data.pkl;"
                    + " not a torch.save checkpoint");
        }
        if (found.size() > 1) {
            throw new TorchCheckpointException(path, "the zip holds " + found.size() + " archives (" + found
                    + "); a torch.save checkpoint has exactly one top folder with a data.pkl");
        }
        return found.get(0);
    }

    private static void checkByteOrder(Path path, ZipFile zip, String archive) throws IOException {
        ZipEntry e = zip.getEntry(archive + "byteorder");
        if (e == null) {
            return; // files from before PyTorch 1.10 have none and are little-endian
        }
        String order = new String(readEntry(path, zip, e, MAX_TEXT_BYTES), StandardCharsets.US_ASCII).trim();
        if (!order.equals("little")) {
            throw new TorchCheckpointException(path, e.getName() + " is '" + order
                    + "'; only little-endian checkpoints are supported");
        }
    }

    private static void checkVersion(Path path, ZipFile zip, String archive) throws IOException {
        ZipEntry e = zip.getEntry(archive + "version");
        if (e == null) {
            e = zip.getEntry(archive + ".data/version");
        }
        if (e == null) {
            throw new TorchCheckpointException(path, "the zip has no " + archive + "version entry;"
                    + " not a torch.save checkpoint (or a truncated one)");
        }
        String v = new String(readEntry(path, zip, e, MAX_TEXT_BYTES), StandardCharsets.US_ASCII).trim();
        if (!v.matches("[0-9]{1,9}")) {
            throw new TorchCheckpointException(path, e.getName() + " is '" + v + "', not a format version number");
        }
    }

    /** Reads a whole entry of at most {@code limit} bytes, trusting neither the recorded size nor the stream. */
    private static byte[] readEntry(Path path, ZipFile zip, ZipEntry e, int limit) throws IOException {
        if (e.getSize() > limit) {
            throw new TorchCheckpointException(path, e.getName() + " is " + e.getSize() + " bytes, more than the "
                    + limit + " this reader accepts");
        }
        byte[] b;
        try (InputStream in = zip.getInputStream(e)) {
            b = in.readNBytes(limit + 1); // grows as bytes arrive, so a lying size allocates nothing up front
        } catch (ZipException ex) {
            throw new TorchCheckpointException(path, "cannot read " + e.getName() + ": " + ex.getMessage(), ex);
        }
        if (b.length > limit) {
            throw new TorchCheckpointException(path, e.getName() + " holds more than " + limit + " bytes");
        }
        if (e.getSize() >= 0 && b.length != e.getSize()) {
            throw new TorchCheckpointException(path, e.getName() + " holds " + b.length + " bytes but the zip records "
                    + e.getSize() + " (truncated or corrupt file?)");
        }
        return b;
    }

    /** The state dict's tensors, validated, after every storage the pickle refers to has been checked. */
    private static Map<String, StoredTensor> stateDictTensors(Path path, ZipFile zip, String archive, Object root,
                                                              List<StorageRef> storages, Map<String, ZipEntry> entries)
            throws IOException {
        if (!(root instanceof Map<?, ?> top)) {
            throw new TorchCheckpointException(path, "data.pkl holds a " + RestrictedUnpickler.typeName(root)
                    + ", not a dict of tensors (a state dict)");
        }
        Map<?, ?> stateDict = top.get("model") instanceof Map<?, ?> model ? model : top;
        Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> kv : stateDict.entrySet()) {
            if (kv.getKey() instanceof String name && kv.getValue() instanceof TensorRef t) {
                tensors.put(name, checkedTensor(path, zip, archive, name, t, entries));
            }
        }
        // Storages only used elsewhere (optimizer state) are checked too: a file that lies anywhere is refused.
        Map<String, StorageRef> byKey = new HashMap<>();
        for (StorageRef s : storages) {
            StorageRef first = byKey.putIfAbsent(s.key(), s);
            if (first != null && (first.dtype() != s.dtype() || first.numel() != s.numel())) {
                throw new TorchCheckpointException(path, "storage '" + s.key() + "' is declared both as " + first.numel()
                        + " " + first.dtype() + " and as " + s.numel() + " " + s.dtype() + " elements");
            }
            if (first == null) {
                checkStorage(path, zip, archive, s, "a storage used outside the state dict", entries);
            }
        }
        return tensors;
    }

    private static StoredTensor checkedTensor(Path path, ZipFile zip, String archive, String name, TensorRef t,
                                              Map<String, ZipEntry> entries) throws IOException {
        String what = "tensor '" + name + "'";
        long[] size = t.size();
        long[] stride = t.stride();
        long numel = 1;
        for (long d : size) {
            if (d != 0 && numel > Long.MAX_VALUE / d) {
                throw new TorchCheckpointException(path, what + ": shape " + Arrays.toString(size)
                        + " has more elements than a 64-bit count holds");
            }
            numel *= d;
        }
        // Row-major as torch's is_contiguous() defines it: a stride only matters where the size exceeds 1.
        long[] rowMajor = new long[size.length];
        long expected = 1;
        boolean contiguous = true;
        for (int i = size.length - 1; i >= 0; i--) {
            rowMajor[i] = expected;
            contiguous &= size[i] == 1 || stride[i] == expected;
            expected *= size[i];
        }
        if (numel != 0 && !contiguous) {
            throw new TorchCheckpointException(path, what + " is not contiguous: shape " + Arrays.toString(size)
                    + " has strides " + Arrays.toString(stride) + ", row-major needs " + Arrays.toString(rowMajor)
                    + " (save tensor.contiguous() instead)");
        }
        StorageRef s = t.storage();
        checkStorage(path, zip, archive, s, what, entries);
        long offset = t.storageOffset();
        if (offset > s.numel() || numel > s.numel() - offset) {
            throw new TorchCheckpointException(path, what + ": its " + numel + " elements at offset " + offset
                    + " extend past the end of storage '" + s.key() + "' (" + s.numel() + " elements)");
        }
        return new StoredTensor(name, s.dtype(), size, s.key(), offset);
    }

    /** Checks that the storage's entry exists and holds exactly numel × element size bytes. */
    private static void checkStorage(Path path, ZipFile zip, String archive, StorageRef s, String user,
                                     Map<String, ZipEntry> entries) throws IOException {
        if (entries.containsKey(s.key())) {
            return;
        }
        String entryName = archive + "data/" + s.key();
        ZipEntry e = zip.getEntry(entryName);
        if (e == null || e.isDirectory()) {
            throw new TorchCheckpointException(path, user + ": its storage '" + s.key() + "' has no entry " + entryName
                    + " (incomplete or truncated checkpoint?)");
        }
        int es = s.dtype().size();
        if (s.numel() > Long.MAX_VALUE / es) {
            throw new TorchCheckpointException(path, user + ": storage '" + s.key() + "' declares an absurd "
                    + s.numel() + " elements");
        }
        long need = s.numel() * es;
        long have = e.getSize();
        if (have != need) {
            String verdict = have < 0 ? "has no recorded size" : "holds " + have + " bytes";
            String hint = have >= 0 && have < need ? " (truncated file?)" : " (corrupt file?)";
            throw new TorchCheckpointException(path, user + ": storage entry " + entryName + " " + verdict + ", but its "
                    + s.numel() + " " + s.dtype() + " elements need " + need + hint);
        }
        entries.put(s.key(), e);
    }
}
