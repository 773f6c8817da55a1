package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import blt4j.SharedData;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of the safetensors reader, over a file {@link SafetensorsWriter} wrote (several
 * dtypes, with checksums) and over the reference fixture {@code blt-micro/weights.safetensors} (no checksums).
 * Every mutant is opened and every tensor read, as a loader would. Allowed outcomes: a clean
 * {@link IOException} naming the file; a load whose tensors equal the original exactly; and, for data-byte
 * flips in the file without checksums only, a load with changed values (the format cannot detect those).
 * Anything else fails: another exception type, an {@link Error} (OutOfMemoryError included), a case slower
 * than 2 s, or changed data.
 *
 * <p>More mutations outside CI: {@code mvn -o test -Dtest=SafetensorsFuzzTest -Dblt4j.fuzz.mutations=20000}
 * (and {@code -Dblt4j.fuzz.seed=N} for another seed).
 */
class SafetensorsFuzzTest {
    private static final int MUTATIONS = Integer.getInteger("blt4j.fuzz.mutations", 3000);
    private static final long SEED = Long.getLong("blt4j.fuzz.seed", 20240611L);
    private static final long CASE_LIMIT_MS = 2000;
    /** -Dblt4j.fuzz.verbose=true prints every mutation that loaded (identical or tolerated). */
    private static final boolean VERBOSE = Boolean.getBoolean("blt4j.fuzz.verbose");

    enum Kind {
        TRUNCATE(8), HEADER_FLIP(14), PREFIX_FLIP(6), DATA_FLIP(8), HEADER_LENGTH(8), OFFSET_EDIT(10),
        OFFSET_SWAP(4), SHAPE_EDIT(10), DTYPE_EDIT(8), DUPLICATE_KEY(6), JSON_TYPE(10), APPEND(4), HEADER_PADDING(4),
        EMPTY_FILE(1), DIRECTORY(1), FIFO(1);

        final int weight;

        Kind(int weight) {
            this.weight = weight;
        }
    }

    enum Outcome { CLEAN_ERROR, IDENTICAL, TOLERATED_DATA_FLIP, SKIPPED, BAD }

    /** A tensor as read from the unmutated file: the reference for "identical". */
    private record Snapshot(StDtype dtype, long[] shape, int[] bits) {}

    /** One seed file: bytes, parsed header model and tensor snapshots. */
    private record Original(String label, byte[] bytes, long dataStart, boolean checksummed, Header header,
                            Map<String, Snapshot> tensors, List<TensorInfo> infos) {}

    private static ExecutorService worker;

    @TempDir
    Path dir;

    @BeforeAll
    static void startWorker() {
        worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "safetensors-fuzz");
            t.setDaemon(true); // a case that hangs (the FIFO bug) must not keep the JVM alive
            return t;
        });
    }

    @AfterAll
    static void stopWorker() {
        worker.shutdownNow();
    }

    @Test
    void mutatedFilesFailCleanlyOrLoadIdentically() throws Exception {
        Path written = dir.resolve("written.safetensors");
        SplittableRandom data = new SplittableRandom(SEED ^ 0x9E3779B97F4A7C15L);
        new SafetensorsWriter()
                .putMetadata("format", "blt4j")
                .putMetadata("note", "fuzz seed file")
                .addFloats("layers.0.w", randomFloats(data, 15), 3, 5)
                .addFloats("layers.0.bf16", StDtype.BF16, randomFloats(data, 12), 4, 3)
                .addFloats("scalar", new float[] {Float.NaN})
                .addFloats("h.f16", StDtype.F16, randomFloats(data, 12), 2, 1, 6)
                .addInts("ids", new int[] {3, -1, 0, Integer.MAX_VALUE, Integer.MIN_VALUE, 42, 7}, 7)
                .addFloats("empty", new float[0], 0, 4)
                .addFloats("row", StDtype.BF16, randomFloats(data, 6), 1, 6)
                .write(written);
        List<Original> originals = new ArrayList<>();
        originals.add(load("writer", written, true));
        originals.add(load("fixture", SharedData.bltMicro().resolve("weights.safetensors"), false));

        boolean fifoAvailable = SafetensorsHardeningTest.mkfifo(dir.resolve("probe.fifo"));
        if (!fifoAvailable) {
            System.err.println("!!! SKIPPING FIFO mutations: mkfifo is not available on this machine");
        }

        Map<String, Map<Kind, EnumMap<Outcome, Integer>>> table = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(SEED);
        int totalWeight = Arrays.stream(Kind.values()).mapToInt(k -> k.weight).sum();
        long slowest = 0;
        long started = System.nanoTime();
        for (int i = 0; i < MUTATIONS; i++) {
            Original o = originals.get(i % originals.size());
            Kind kind = pick(rng, totalWeight);
            SplittableRandom r = rng.split();
            Path target = dir.resolve(o.label() + "-mutant.safetensors");
            String[] description = {""};
            Outcome outcome;
            String problem = null;
            try {
                Path file = mutate(o, kind, r, target, i, description, fifoAvailable);
                if (file == null) {
                    outcome = Outcome.SKIPPED;
                } else {
                    long t0 = System.nanoTime();
                    Future<Map<String, Object>> f = worker.submit(() -> readAll(file, o));
                    Map<String, Object> result;
                    try {
                        result = f.get(CASE_LIMIT_MS * 5, TimeUnit.MILLISECONDS);
                    } catch (TimeoutException e) {
                        f.cancel(true);
                        throw new AssertionError("open+read did not finish within " + CASE_LIMIT_MS * 5 + " ms");
                    }
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    slowest = Math.max(slowest, ms);
                    if (ms > CASE_LIMIT_MS) {
                        problem = "open+read took " + ms + " ms";
                    }
                    outcome = classify(o, kind, file, result);
                    if (outcome == Outcome.BAD && problem == null) {
                        problem = String.valueOf(result.get("#problem"));
                    }
                    cleanUp(file, target);
                }
            } catch (AssertionError e) {
                outcome = Outcome.BAD;
                problem = e.getMessage();
            }
            if (problem != null) {
                outcome = Outcome.BAD;
                if (bad.size() < 20) {
                    bad.add("#" + i + " " + o.label() + " " + kind + " (" + description[0] + "): " + problem);
                }
            }
            if (VERBOSE && (outcome == Outcome.IDENTICAL || outcome == Outcome.TOLERATED_DATA_FLIP)) {
                System.out.println("#" + i + " " + o.label() + " " + kind + " (" + description[0] + "): " + outcome);
            }
            table.computeIfAbsent(o.label(), k -> new EnumMap<>(Kind.class))
                    .computeIfAbsent(kind, k -> new EnumMap<>(Outcome.class)).merge(outcome, 1, Integer::sum);
        }
        long seconds = (System.nanoTime() - started) / 1_000_000_000;
        printTable(table, seconds, slowest);
        assertTrue(bad.isEmpty(), bad.size() + "+ bad outcomes (seed " + SEED + "):\n" + String.join("\n", bad));
        for (Map.Entry<String, Map<Kind, EnumMap<Outcome, Integer>>> e : table.entrySet()) {
            EnumMap<Outcome, Integer> padding = e.getValue().get(Kind.HEADER_PADDING);
            if (padding != null) {
                assertEquals(padding.values().stream().mapToInt(Integer::intValue).sum(),
                        padding.getOrDefault(Outcome.IDENTICAL, 0), e.getKey() + ": padded headers must still load");
            }
        }
    }

    // ---------------------------------------------------------------- reading and judging

    /** Opens {@code file}, reads every tensor it has and then every tensor of the original as a loader would. */
    private static Map<String, Object> readAll(Path file, Original o) {
        Map<String, Object> out = new HashMap<>();
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            Map<String, Object> own = new HashMap<>();
            for (TensorInfo t : st.tensors().values()) {
                StDtype d = t.dtype();
                if (d == StDtype.F32 || d == StDtype.BF16 || d == StDtype.F16 || d == StDtype.F64) {
                    own.put(t.name(), st.readFloats(t.name()));
                } else if (d.isIntReadable()) {
                    own.put(t.name(), st.readInts(t.name()));
                }
            }
            for (Map.Entry<String, Snapshot> e : o.tensors().entrySet()) {
                String name = e.getKey();
                boolean ints = e.getValue().dtype() == StDtype.I32;
                TensorInfo t = st.info(name);
                Object v = t.dtype() == e.getValue().dtype() ? own.get(name) : null;
                if (v == null) {
                    v = ints ? st.readInts(name) : st.readFloats(name);
                }
                out.put(name, new Object[] {t.dtype(), t.shape(), v});
            }
            out.put("#names", new ArrayList<>(st.tensors().keySet()));
        } catch (Throwable e) {
            out.put("#error", e);
        }
        return out;
    }

    private static Outcome classify(Original o, Kind kind, Path file, Map<String, Object> result) {
        Object err = result.get("#error");
        if (err != null) {
            Throwable e = (Throwable) err;
            boolean named = e instanceof SafetensorsException se ? se.file().equals(file)
                    : String.valueOf(e.getMessage()).contains(file.toString());
            if (e instanceof IOException && named) {
                return Outcome.CLEAN_ERROR;
            }
            result.put("#problem", "unclean error " + e.getClass().getName() + ": " + e.getMessage()
                    + stackTop(e));
            return Outcome.BAD;
        }
        boolean valuesChanged = false;
        for (Map.Entry<String, Snapshot> e : o.tensors().entrySet()) {
            Object[] got = (Object[]) result.get(e.getKey());
            Snapshot want = e.getValue();
            if (got[0] != want.dtype() || !Arrays.equals((long[]) got[1], want.shape())) {
                result.put("#problem", "loaded '" + e.getKey() + "' as " + got[0] + Arrays.toString((long[]) got[1])
                        + ", original " + want.dtype() + Arrays.toString(want.shape()));
                return Outcome.BAD;
            }
            if (!Arrays.equals(bits(got[2]), want.bits())) {
                valuesChanged = true;
            }
        }
        @SuppressWarnings("unchecked")
        List<String> names = (List<String>) result.get("#names");
        if (names.size() != o.tensors().size()) {
            result.put("#problem", "loaded tensors " + names + ", original " + o.tensors().keySet());
            return Outcome.BAD;
        }
        if (!valuesChanged) {
            return Outcome.IDENTICAL;
        }
        if (kind == Kind.DATA_FLIP && !o.checksummed()) {
            return Outcome.TOLERATED_DATA_FLIP;
        }
        result.put("#problem", "loaded successfully with different values");
        return Outcome.BAD;
    }

    private static String stackTop(Throwable e) {
        StackTraceElement[] st = e.getStackTrace();
        return st.length == 0 ? "" : " at " + st[0] + (st.length > 1 ? " < " + st[1] : "");
    }

    private static int[] bits(Object values) {
        if (values instanceof int[] ints) {
            return ints;
        }
        float[] f = (float[]) values;
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    private static Original load(String label, Path file, boolean checksummed) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Map<String, Snapshot> tensors = new LinkedHashMap<>();
        List<TensorInfo> infos;
        long dataStart;
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            dataStart = st.dataStart();
            infos = new ArrayList<>(st.tensors().values());
            for (TensorInfo t : infos) {
                assertEquals(checksummed, st.hasChecksum(t.name()), label + " " + t.name());
                Object v = t.dtype() == StDtype.I32 ? st.readInts(t.name()) : st.readFloats(t.name());
                tensors.put(t.name(), new Snapshot(t.dtype(), t.shape(), bits(v)));
            }
        }
        String text = new String(bytes, 8, (int) (dataStart - 8), StandardCharsets.UTF_8);
        return new Original(label, bytes, dataStart, checksummed, Header.parse(text), tensors, infos);
    }

    private static void printTable(Map<String, Map<Kind, EnumMap<Outcome, Integer>>> table, long seconds,
                                   long slowestMs) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%nsafetensors fuzz: %d mutations, seed %d, %d s, slowest case %d ms%n", MUTATIONS,
                SEED, seconds, slowestMs));
        b.append(String.format("%-8s %-15s %11s %10s %14s %8s %5s%n", "file", "mutation", "clean error", "identical",
                "tolerated flip", "skipped", "BAD"));
        EnumMap<Outcome, Integer> total = new EnumMap<>(Outcome.class);
        for (Map.Entry<String, Map<Kind, EnumMap<Outcome, Integer>>> f : table.entrySet()) {
            for (Kind k : Kind.values()) {
                EnumMap<Outcome, Integer> c = f.getValue().get(k);
                if (c == null) {
                    continue;
                }
                c.forEach((out, n) -> total.merge(out, n, Integer::sum));
                b.append(row(f.getKey(), k.name().toLowerCase().replace('_', '-'), c));
            }
        }
        b.append(row("all", "", total));
        System.out.print(b);
    }

    private static String row(String file, String kind, EnumMap<Outcome, Integer> c) {
        return String.format("%-8s %-15s %11d %10d %14d %8d %5d%n", file, kind, c.getOrDefault(Outcome.CLEAN_ERROR, 0),
                c.getOrDefault(Outcome.IDENTICAL, 0), c.getOrDefault(Outcome.TOLERATED_DATA_FLIP, 0),
                c.getOrDefault(Outcome.SKIPPED, 0), c.getOrDefault(Outcome.BAD, 0));
    }

    // ---------------------------------------------------------------- mutations

    private static Kind pick(SplittableRandom rng, int totalWeight) {
        int x = rng.nextInt(totalWeight);
        for (Kind k : Kind.values()) {
            x -= k.weight;
            if (x < 0) {
                return k;
            }
        }
        throw new AssertionError();
    }

    /** Writes the mutant for {@code kind} and returns the path to open (null: case skipped). */
    private Path mutate(Original o, Kind kind, SplittableRandom r, Path target, int index, String[] desc,
                        boolean fifoAvailable) throws IOException {
        byte[] b = o.bytes();
        int dataStart = (int) o.dataStart();
        int headerLen = dataStart - 8;
        switch (kind) {
            case TRUNCATE -> {
                int n = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(dataStart + 1); // inside prefix or header
                    case 1 -> b.length - 1 - r.nextInt(Math.min(16, b.length)); // the last few bytes
                    default -> r.nextInt(b.length);
                };
                desc[0] = "to " + n + " of " + b.length + " bytes";
                return write(target, Arrays.copyOf(b, n));
            }
            case HEADER_FLIP, PREFIX_FLIP, DATA_FLIP -> {
                byte[] m = b.clone();
                int flips = 1 + (r.nextInt(4) == 0 ? r.nextInt(3) : 0);
                StringBuilder d = new StringBuilder();
                for (int k = 0; k < flips; k++) {
                    int at = switch (kind) {
                        case HEADER_FLIP -> 8 + r.nextInt(headerLen);
                        case PREFIX_FLIP -> r.nextInt(8);
                        default -> dataStart + r.nextInt(b.length - dataStart);
                    };
                    int x = r.nextInt(3) == 0 ? 1 << r.nextInt(8) : 1 + r.nextInt(255);
                    m[at] ^= (byte) x;
                    d.append(k == 0 ? "" : ", ").append("byte ").append(at).append(" ^= 0x")
                            .append(Integer.toHexString(x));
                }
                desc[0] = d.toString();
                return write(target, m);
            }
            case HEADER_LENGTH -> {
                int delta = (1 + r.nextInt(8)) * (r.nextBoolean() ? 1 : -1);
                byte[] m = b.clone();
                ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerLen + delta);
                desc[0] = "length prefix " + headerLen + " -> " + (headerLen + delta);
                return write(target, m);
            }
            case APPEND -> {
                int n = 1 + r.nextInt(64);
                byte[] m = Arrays.copyOf(b, b.length + n);
                int style = r.nextInt(3);
                for (int k = b.length; k < m.length; k++) {
                    m[k] = style == 0 ? 0 : style == 1 ? (byte) ' ' : (byte) r.nextInt(256);
                }
                desc[0] = n + " bytes (style " + style + ")";
                return write(target, m);
            }
            case EMPTY_FILE -> {
                desc[0] = "0 bytes";
                return write(target, new byte[0]);
            }
            case DIRECTORY -> {
                Path d = Files.createDirectory(dir.resolve("dir-" + index + ".safetensors"));
                if (r.nextBoolean()) {
                    desc[0] = "symbolic link to a directory";
                    return Files.createSymbolicLink(dir.resolve("dirlink-" + index + ".safetensors"), d);
                }
                desc[0] = "directory";
                return d;
            }
            case FIFO -> {
                if (!fifoAvailable) {
                    desc[0] = "mkfifo unavailable";
                    return null;
                }
                Path p = dir.resolve("fifo-" + index + ".safetensors");
                try {
                    if (!SafetensorsHardeningTest.mkfifo(p)) {
                        throw new AssertionError("mkfifo failed for " + p);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
                if (r.nextBoolean()) {
                    desc[0] = "symbolic link to a FIFO";
                    return Files.createSymbolicLink(dir.resolve("fifolink-" + index + ".safetensors"), p);
                }
                desc[0] = "FIFO";
                return p;
            }
            default -> {
                Header h = o.header().copy();
                String d = editHeader(o, h, kind, r);
                desc[0] = d;
                boolean pad = kind != Kind.HEADER_PADDING || r.nextBoolean();
                byte[] text = h.serialize(pad ? 8 : 1).getBytes(StandardCharsets.UTF_8);
                if (kind == Kind.HEADER_PADDING) {
                    int extra = r.nextInt(17);
                    text = Arrays.copyOf(text, text.length + extra);
                    for (int k = text.length - extra; k < text.length; k++) {
                        text[k] = (byte) (r.nextInt(4) == 0 ? " \t\n\r".charAt(r.nextInt(4)) : ' ');
                    }
                    desc[0] += ", " + extra + " more whitespace bytes";
                }
                ByteBuffer m = ByteBuffer.allocate(8 + text.length + b.length - dataStart).order(ByteOrder.LITTLE_ENDIAN);
                m.putLong(text.length).put(text).put(b, dataStart, b.length - dataStart);
                return write(target, m.array());
            }
        }
    }

    private static final String[] VALID_DTYPES = Arrays.stream(StDtype.values()).map(StDtype::headerName)
            .toArray(String[]::new);
    private static final String[] INVALID_DTYPES = {"F33", "", "f32", "BF 16", "F32 ", "FLOAT", "I128", "\\u0046\\u0033"};
    private static final String[] WRONG_FOR_NUMBER = {"null", "true", "\"12\"", "\"x\"", "1.5", "12.0", "1e3", "[]",
            "[1]", "{}", "{\"a\":1}", "-1.0E2", "\"\""};
    private static final String[] WRONG_FOR_STRING = {"null", "false", "32", "[\"F32\"]", "{}", "0.5"};
    private static final String[] WRONG_FOR_ARRAY = {"null", "true", "\"[1,2]\"", "7", "{}", "{\"0\":1}"};
    private static final String[] WRONG_FOR_OBJECT = {"null", "true", "\"{}\"", "7", "[]", "[{}]"};
    private static final long[] NASTY_NUMBERS = {0, -1, 1, -8, 1L << 31, 1L << 32, (1L << 32) + 1, 1L << 62,
            Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, -(1L << 40)};

    /** Applies a header-level mutation to {@code h}; returns its description. */
    private static String editHeader(Original o, Header h, Kind kind, SplittableRandom r) {
        int ti = r.nextInt(h.entries.size());
        Header.Entry e = h.entries.get(ti);
        switch (kind) {
            case OFFSET_EDIT -> {
                long[] offs = parseArray(e.get("data_offsets"));
                int which = r.nextInt(3);
                long v;
                if (which == 2) { // move the whole range (relocation), same length
                    long shift = r.nextBoolean() ? (1 + r.nextInt(64)) * (r.nextBoolean() ? 1 : -1)
                            : NASTY_NUMBERS[r.nextInt(NASTY_NUMBERS.length)];
                    if (shift == 0) {
                        shift = 8;
                    }
                    offs[0] += shift;
                    offs[1] += shift;
                    e.set("data_offsets", "[" + offs[0] + "," + offs[1] + "]");
                    return "tensor '" + e.name + "' relocated by " + shift;
                }
                v = switch (r.nextInt(4)) {
                    case 0 -> offs[which] + (1 + r.nextInt(16)) * (r.nextBoolean() ? 1 : -1);
                    case 1 -> NASTY_NUMBERS[r.nextInt(NASTY_NUMBERS.length)];
                    case 2 -> parseArray(h.entries.get(r.nextInt(h.entries.size())).get("data_offsets"))[r.nextInt(2)];
                    default -> r.nextLong(o.bytes().length * 2L + 1);
                };
                if (v == offs[which]) {
                    v++;
                }
                offs[which] = v;
                e.set("data_offsets", "[" + offs[0] + "," + offs[1] + "]");
                return "tensor '" + e.name + "' data_offsets[" + which + "] = " + v;
            }
            case OFFSET_SWAP -> {
                // Swapping two tensors of equal byte length keeps a valid layout; only checksums can catch it,
                // so the file without checksums gets only swaps of unequal lengths.
                List<Header.Entry> partners = new ArrayList<>();
                long[] mine = parseArray(e.get("data_offsets"));
                for (Header.Entry x : h.entries) {
                    long[] xo = parseArray(x.get("data_offsets"));
                    if (x != e && (o.checksummed() || xo[1] - xo[0] != mine[1] - mine[0])) {
                        partners.add(x);
                    }
                }
                Header.Entry p = partners.get(r.nextInt(partners.size()));
                String tmp = e.get("data_offsets");
                e.set("data_offsets", p.get("data_offsets"));
                p.set("data_offsets", tmp);
                return "swapped data_offsets of '" + e.name + "' and '" + p.name + "'";
            }
            case SHAPE_EDIT -> {
                long[] shape = parseArray(e.get("shape"));
                int op = r.nextInt(o.checksummed() ? 5 : 4);
                long[] ns;
                String what;
                if (op == 0 && shape.length > 0) { // change one dimension to a different value
                    int i = r.nextInt(shape.length);
                    long v = r.nextBoolean() ? NASTY_NUMBERS[r.nextInt(NASTY_NUMBERS.length)]
                            : shape[i] + (1 + r.nextInt(4)) * (r.nextBoolean() ? 1 : -1);
                    if (v == shape[i] || (v == 1 && !o.checksummed() && shape[i] == 1)) {
                        v = shape[i] + 1;
                    }
                    ns = shape.clone();
                    ns[i] = v;
                    what = "shape[" + i + "] = " + v;
                } else if (op == 1) { // append a dimension (never 1 without checksums: that is a pure reshape)
                    long v = NASTY_NUMBERS[r.nextInt(NASTY_NUMBERS.length)];
                    if (v == 1 && !o.checksummed()) {
                        v = 2;
                    }
                    ns = Arrays.copyOf(shape, shape.length + 1);
                    ns[shape.length] = v;
                    what = "appended dimension " + v;
                } else if (op == 2 && shape.length > 0 && (o.checksummed() || shape[shape.length - 1] != 1)) {
                    ns = Arrays.copyOf(shape, shape.length - 1);
                    what = "dropped the last dimension";
                } else if (op == 3) { // huge, negative or zero everywhere
                    ns = new long[1 + r.nextInt(3)];
                    long v = r.nextInt(3) == 0 ? 0 : NASTY_NUMBERS[r.nextInt(NASTY_NUMBERS.length)];
                    Arrays.fill(ns, v);
                    if (Arrays.equals(ns, shape)) {
                        ns[0] = -7;
                    }
                    what = "shape replaced";
                } else if (o.checksummed()) { // same element count, other shape: only checksums can catch it
                    ns = new long[shape.length + 1];
                    System.arraycopy(shape, 0, ns, 1, shape.length);
                    ns[0] = 1;
                    what = "reshaped with a leading 1";
                } else { // fallback for the cases above that do not apply to this shape
                    ns = Arrays.copyOf(shape, shape.length + 1);
                    ns[shape.length] = 2;
                    what = "appended dimension 2";
                }
                e.set("shape", Header.array(ns));
                return "tensor '" + e.name + "' " + what + " -> " + Header.array(ns);
            }
            case DTYPE_EDIT -> {
                String now = e.get("dtype");
                String v;
                do {
                    v = r.nextInt(3) == 0 ? INVALID_DTYPES[r.nextInt(INVALID_DTYPES.length)]
                            : VALID_DTYPES[r.nextInt(VALID_DTYPES.length)];
                } while (("\"" + v + "\"").equals(now));
                e.set("dtype", "\"" + v + "\"");
                return "tensor '" + e.name + "' dtype " + now + " -> \"" + v + "\"";
            }
            case DUPLICATE_KEY -> {
                switch (r.nextInt(5)) {
                    case 0 -> {
                        Header.Entry copy = e.copy();
                        if (r.nextBoolean()) {
                            copy.set("dtype", "\"I8\"");
                        }
                        h.entries.add(r.nextInt(h.entries.size() + 1), copy);
                        return "tensor entry '" + e.name + "' twice";
                    }
                    case 1 -> {
                        h.extraTop.add(new String[] {"__metadata__", r.nextBoolean() ? "{}" : "{\"x\":\"y\"}"});
                        return "__metadata__ twice";
                    }
                    case 2 -> {
                        if (h.metadata.isEmpty()) {
                            h.metadata.add(new String[] {"k", "\"1\""});
                        }
                        String[] m = h.metadata.get(r.nextInt(h.metadata.size()));
                        h.metadata.add(r.nextInt(h.metadata.size() + 1), new String[] {m[0], r.nextBoolean() ? m[1]
                                : "\"other\""});
                        return "metadata key '" + m[0] + "' twice";
                    }
                    case 3 -> {
                        String[] f = e.fields.get(r.nextInt(e.fields.size()));
                        e.fields.add(r.nextInt(e.fields.size() + 1), new String[] {f[0], f[1]});
                        return "tensor '" + e.name + "' field '" + f[0] + "' twice";
                    }
                    default -> {
                        e.fields.add(new String[] {"extra", "{\"a\":[{\"b\":1,\"b\":2}]}"});
                        return "tensor '" + e.name + "' duplicate key nested in an unknown field";
                    }
                }
            }
            case JSON_TYPE -> {
                switch (r.nextInt(7)) {
                    case 0 -> {
                        e.set("dtype", WRONG_FOR_STRING[r.nextInt(WRONG_FOR_STRING.length)]);
                        return "tensor '" + e.name + "' dtype = " + e.get("dtype");
                    }
                    case 1 -> {
                        String field = r.nextBoolean() ? "shape" : "data_offsets";
                        e.set(field, WRONG_FOR_ARRAY[r.nextInt(WRONG_FOR_ARRAY.length)]);
                        return "tensor '" + e.name + "' " + field + " = " + e.get(field);
                    }
                    case 2 -> {
                        String field = r.nextBoolean() || parseArray(e.get("shape")).length == 0 ? "data_offsets"
                                : "shape";
                        long[] a = parseArray(e.get(field));
                        String[] parts = new String[a.length];
                        for (int i = 0; i < a.length; i++) {
                            parts[i] = Long.toString(a[i]);
                        }
                        int i = r.nextInt(parts.length);
                        parts[i] = WRONG_FOR_NUMBER[r.nextInt(WRONG_FOR_NUMBER.length)];
                        e.set(field, "[" + String.join(",", parts) + "]");
                        return "tensor '" + e.name + "' " + field + "[" + i + "] = " + parts[i];
                    }
                    case 3 -> {
                        e.override = WRONG_FOR_OBJECT[r.nextInt(WRONG_FOR_OBJECT.length)];
                        return "tensor '" + e.name + "' entry = " + e.override;
                    }
                    case 4 -> {
                        h.metadataOverride = WRONG_FOR_OBJECT[r.nextInt(WRONG_FOR_OBJECT.length)];
                        return "__metadata__ = " + h.metadataOverride;
                    }
                    case 5 -> {
                        if (h.metadata.isEmpty()) {
                            h.metadata.add(new String[] {"k", "\"v\""});
                        }
                        String[] m = h.metadata.get(r.nextInt(h.metadata.size()));
                        m[1] = WRONG_FOR_STRING[r.nextInt(WRONG_FOR_STRING.length)];
                        return "metadata '" + m[0] + "' = " + m[1];
                    }
                    default -> {
                        String field = new String[] {"dtype", "shape", "data_offsets"}[r.nextInt(3)];
                        e.fields.removeIf(f -> f[0].equals(field));
                        return "tensor '" + e.name + "' without " + field;
                    }
                }
            }
            case HEADER_PADDING -> {
                return "header re-serialized";
            }
            default -> throw new AssertionError(kind);
        }
    }

    private static long[] parseArray(String json) {
        String inner = json.substring(1, json.length() - 1).trim();
        if (inner.isEmpty()) {
            return new long[0];
        }
        return Arrays.stream(inner.split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
    }

    private static Path write(Path target, byte[] bytes) throws IOException {
        return Files.write(target, bytes);
    }

    /** Removes the special files a case made; the regular mutant path is overwritten by the next case. */
    private static void cleanUp(Path file, Path target) throws IOException {
        if (file.equals(target)) {
            return;
        }
        Path real = Files.isSymbolicLink(file) ? file.resolveSibling(Files.readSymbolicLink(file)) : null;
        Files.deleteIfExists(file);
        if (real != null) {
            Files.deleteIfExists(real);
        }
    }

    private static float[] randomFloats(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * 3);
        }
        return a;
    }

    /**
     * A safetensors header as an editable list of raw JSON fragments, so mutations can produce what a JSON
     * object model cannot hold (duplicate keys, wrong types) and serialize it back.
     */
    static final class Header {
        static final class Entry {
            final String name;
            final List<String[]> fields = new ArrayList<>(); // field name, raw JSON value
            String override; // raw JSON replacing the whole entry object

            Entry(String name) {
                this.name = name;
            }

            String get(String field) {
                for (String[] f : fields) {
                    if (f[0].equals(field)) {
                        return f[1];
                    }
                }
                throw new IllegalStateException("no field " + field + " in " + name);
            }

            void set(String field, String raw) {
                for (String[] f : fields) {
                    if (f[0].equals(field)) {
                        f[1] = raw;
                        return;
                    }
                }
                fields.add(new String[] {field, raw});
            }

            Entry copy() {
                Entry c = new Entry(name);
                for (String[] f : fields) {
                    c.fields.add(f.clone());
                }
                c.override = override;
                return c;
            }
        }

        boolean hasMetadata;
        final List<String[]> metadata = new ArrayList<>();
        String metadataOverride;
        final List<Entry> entries = new ArrayList<>();
        final List<String[]> extraTop = new ArrayList<>();

        static Header parse(String text) {
            JsonObject root = JsonParser.parseString(text).getAsJsonObject();
            Header h = new Header();
            for (Map.Entry<String, JsonElement> e : root.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    h.hasMetadata = true;
                    for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                        h.metadata.add(new String[] {m.getKey(), m.getValue().toString()});
                    }
                } else {
                    Entry t = new Entry(e.getKey());
                    for (Map.Entry<String, JsonElement> f : e.getValue().getAsJsonObject().entrySet()) {
                        t.fields.add(new String[] {f.getKey(), f.getValue().toString()});
                    }
                    h.entries.add(t);
                }
            }
            return h;
        }

        Header copy() {
            Header c = new Header();
            c.hasMetadata = hasMetadata;
            for (String[] m : metadata) {
                c.metadata.add(m.clone());
            }
            c.metadataOverride = metadataOverride;
            for (Entry e : entries) {
                c.entries.add(e.copy());
            }
            for (String[] x : extraTop) {
                c.extraTop.add(x.clone());
            }
            return c;
        }

        /** JSON text, space-padded to a multiple of {@code align}. */
        String serialize(int align) {
            StringBuilder b = new StringBuilder("{");
            List<String> parts = new ArrayList<>();
            if (hasMetadata || metadataOverride != null) {
                StringBuilder m = new StringBuilder(key("__metadata__"));
                if (metadataOverride != null) {
                    m.append(metadataOverride);
                } else {
                    m.append(object(metadata));
                }
                parts.add(m.toString());
            }
            for (Entry e : entries) {
                parts.add(key(e.name) + (e.override != null ? e.override : object(e.fields)));
            }
            for (String[] x : extraTop) {
                parts.add(key(x[0]) + x[1]);
            }
            b.append(String.join(",", parts)).append('}');
            while (b.length() % align != 0) {
                b.append(' ');
            }
            return b.toString();
        }

        private static String object(List<String[]> fields) {
            StringBuilder b = new StringBuilder("{");
            for (int i = 0; i < fields.size(); i++) {
                b.append(i == 0 ? "" : ",").append(key(fields.get(i)[0])).append(fields.get(i)[1]);
            }
            return b.append('}').toString();
        }

        private static String key(String k) {
            return new JsonPrimitive(k).toString() + ":";
        }

        static String array(long[] v) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < v.length; i++) {
                b.append(i == 0 ? "" : ",").append(v[i]);
            }
            return b.append(']').toString();
        }
    }
}
