package blt4j.io;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import java.util.Set;

/**
 * An interpreter for pickle protocols 0 to 5 that builds plain values only, so that a PyTorch checkpoint
 * can be read without Python and without running anything the file names. A pickle is a program for a
 * stack machine whose opcodes may import and call arbitrary Python callables; here the only names that
 * resolve are those in {@link Global}, and the only calls are building an {@code OrderedDict} and
 * describing a tensor. Every other global, instance creation, extension code or {@code BUILD} is refused
 * at the opcode that asks for it, with a message naming what was asked for.
 *
 * <p>Values: None is {@code null}; bool {@link Boolean}; int {@link Long}, or {@link BigInteger} when it
 * does not fit; float {@link Double}; str {@link String}; bytes and bytearray {@code byte[]}; tuple an
 * unmodifiable {@link List}; list an {@link ArrayList}; dict and {@code OrderedDict} a
 * {@link LinkedHashMap}; set a {@link LinkedHashSet}, frozenset an unmodifiable {@link Set}. Persistent ids
 * become {@link StorageRef}s and {@code _rebuild_tensor_v2} / {@code _rebuild_parameter} calls become
 * {@link TensorRef}s; neither reads any tensor data.
 *
 * <p>All length fields are checked against the bytes that remain before anything is allocated, and every
 * push consumes at least one input byte, so memory stays proportional to the input. Dict keys and set
 * elements must be scalars or tuples of scalars: that is all real checkpoints use, and it keeps hashing
 * from recursing into attacker-shaped nesting. Every failure is an {@link IOException} whose message gives
 * the byte offset of the offending opcode. An instance loads once and is not thread-safe.
 */
public final class RestrictedUnpickler {

    /** The only globals a pickle may name. Storage types are only accepted inside persistent ids. */
    public enum Global {
        ORDERED_DICT("collections", "OrderedDict", null),
        REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2", null),
        REBUILD_PARAMETER("torch._utils", "_rebuild_parameter", null),
        FLOAT_STORAGE("torch", "FloatStorage", StDtype.F32),
        BFLOAT16_STORAGE("torch", "BFloat16Storage", StDtype.BF16),
        HALF_STORAGE("torch", "HalfStorage", StDtype.F16),
        DOUBLE_STORAGE("torch", "DoubleStorage", StDtype.F64),
        LONG_STORAGE("torch", "LongStorage", StDtype.I64),
        INT_STORAGE("torch", "IntStorage", StDtype.I32);

        private final String module;
        private final String attribute;
        private final StDtype storageDtype;

        Global(String module, String attribute, StDtype storageDtype) {
            this.module = module;
            this.attribute = attribute;
            this.storageDtype = storageDtype;
        }

        public String module() {
            return module;
        }

        public String attribute() {
            return attribute;
        }

        /** {@code module.attribute}, as Python would print it. */
        public String qualifiedName() {
            return module + "." + attribute;
        }

        /** The element type of a storage type; null for the other globals. */
        public StDtype storageDtype() {
            return storageDtype;
        }

        /** The whitelisted global with this exact module and attribute, or null. */
        public static Global find(String module, String attribute) {
            for (Global g : values()) {
                if (g.module.equals(module) && g.attribute.equals(attribute)) {
                    return g;
                }
            }
            return null;
        }
    }

    /**
     * A persistent id {@code ('storage', <storage type>, key, location, numel)}: the storage's bytes live
     * outside the pickle (in a checkpoint, in the zip entry {@code data/<key>}).
     */
    public record StorageRef(StDtype dtype, String key, String location, long numel) {}

    /**
     * A tensor as {@code torch._utils._rebuild_tensor_v2} would build it: a view of {@code storage} that
     * starts {@code storageOffset} elements in, with the given sizes and strides (in elements).
     */
    public record TensorRef(StorageRef storage, long storageOffset, long[] size, long[] stride, boolean requiresGrad) {
        public TensorRef {
            size = size.clone();
            stride = stride.clone();
        }

        @Override
        public long[] size() {
            return size.clone();
        }

        @Override
        public long[] stride() {
            return stride.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorRef t && storage.equals(t.storage) && storageOffset == t.storageOffset
                    && Arrays.equals(size, t.size) && Arrays.equals(stride, t.stride) && requiresGrad == t.requiresGrad;
        }

        @Override
        public int hashCode() {
            return (storage.hashCode() * 31 + Long.hashCode(storageOffset)) * 31 + Arrays.hashCode(size) * 7
                    + Arrays.hashCode(stride);
        }

        @Override
        public String toString() {
            return "TensorRef[" + storage + " +" + storageOffset + " size " + Arrays.toString(size) + " stride "
                    + Arrays.toString(stride) + "]";
        }
    }

    /** Python caps decimal int literals at 4300 digits for the same reason: parsing is quadratic. */
    private static final int MAX_DECIMAL_DIGITS = 4300;

    private static final int HIGHEST_PROTOCOL = 5;

    private final byte[] in;
    private int pos;
    private int opStart;
    private boolean used;
    private final ArrayList<Object> stack = new ArrayList<>();
    private int[] marks = new int[8];
    private int markCount;
    // Keyed by index rather than an array sized by it, so a huge index in BINPUT allocates nothing.
    private final Map<Long, Object> memo = new HashMap<>();
    private final List<StorageRef> storages = new ArrayList<>();

    /** @param pickle the pickle bytes; not copied, so they must not change while {@link #load()} runs */
    public RestrictedUnpickler(byte[] pickle) {
        this.in = pickle;
    }

    /** Unpickles {@code pickle} in one call, refusing anything outside the whitelist. */
    public static Object load(byte[] pickle) throws IOException {
        return new RestrictedUnpickler(pickle).load();
    }

    /** Every persistent id the loaded pickle referred to, in order of appearance (repeats included). */
    public List<StorageRef> storages() {
        return Collections.unmodifiableList(storages);
    }

    /** Runs the pickle up to its STOP opcode and returns the value it built. Trailing bytes are ignored, as Python does. */
    public Object load() throws IOException {
        if (used) {
            throw new IllegalStateException("an unpickler loads once");
        }
        used = true;
        while (true) {
            if (pos >= in.length) {
                throw new IOException("pickle ends at byte " + in.length + " without a STOP opcode (truncated?)");
            }
            opStart = pos;
            int op = in[pos++] & 0xFF;
            if (op == '.') {
                return stop();
            }
            execute(op);
            // Each opcode consumed at least one byte and pushed at most one value: memory follows the input.
            if (stack.size() > pos || memo.size() > pos) {
                throw error("stack or memo outgrew the input (internal invariant broken)");
            }
        }
    }

    private Object stop() throws IOException {
        if (markCount != 0 || stack.size() != 1) {
            throw error("STOP with " + stack.size() + " values on the stack and " + markCount
                    + " open marks; expected exactly one value");
        }
        return stack.get(0);
    }

    private void execute(int op) throws IOException {
        switch (op) {
            case 0x80 -> { // PROTO
                int v = u8();
                if (v > HIGHEST_PROTOCOL) {
                    throw error("unsupported pickle protocol " + v);
                }
            }
            case 0x95 -> length(u64(), "FRAME"); // frames only group opcodes; the bytes are read as they come
            case '(' -> pushMark();
            case '0' -> { // POP: Python pops the mark when the current frame of the stack is empty
                if (stack.size() > base()) {
                    stack.remove(stack.size() - 1);
                } else {
                    popMark();
                }
            }
            case '1' -> popMark();
            case '2' -> push(peek());
            case 'N' -> push(null);
            case 0x88 -> push(Boolean.TRUE);
            case 0x89 -> push(Boolean.FALSE);
            case 'I' -> {
                String s = asciiLine();
                push(s.equals("01") ? Boolean.TRUE : s.equals("00") ? Boolean.FALSE : decimal(s));
            }
            case 'J' -> push((long) i32());
            case 'K' -> push((long) u8());
            case 'M' -> push((long) u16());
            case 'L' -> {
                String s = asciiLine();
                push(decimal(s.endsWith("L") ? s.substring(0, s.length() - 1) : s));
            }
            case 0x8a -> push(signedLittleEndian(u8()));
            case 0x8b -> {
                int n = i32();
                if (n < 0) {
                    throw error("LONG4 with negative byte count " + n);
                }
                push(signedLittleEndian(length(n, "LONG4")));
            }
            case 'F' -> push(pythonFloat(asciiLine()));
            case 'G' -> push(Double.longBitsToDouble(ByteBuffer.wrap(take(8)).getLong())); // big-endian, unlike the ints
            case 'S' -> push(quotedString(line()));
            case 'T' -> {
                int n = i32();
                if (n < 0) {
                    throw error("BINSTRING with negative length " + n);
                }
                push(new String(take(length(n, "BINSTRING")), StandardCharsets.ISO_8859_1));
            }
            case 'U' -> push(new String(take(u8()), StandardCharsets.ISO_8859_1));
            case 'V' -> push(rawUnicodeEscape(line()));
            case 'X' -> push(utf8(length(u32(), "BINUNICODE")));
            case 0x8c -> push(utf8(u8()));
            case 0x8d -> push(utf8(length(u64(), "BINUNICODE8")));
            case 'B' -> push(take(length(u32(), "BINBYTES")));
            case 'C' -> push(take(u8()));
            case 0x8e -> push(take(length(u64(), "BINBYTES8")));
            case 0x96 -> push(take(length(u64(), "BYTEARRAY8")));
            case 0x97 -> throw error("NEXT_BUFFER: out-of-band buffers are not supported");
            case 0x98 -> peek(); // READONLY_BUFFER: a flag on a buffer we hold as plain bytes anyway
            case ')' -> push(tuple(new Object[0]));
            case 't' -> push(tuple(popMark().toArray()));
            case 0x85 -> push(tuple(new Object[] {pop()}));
            case 0x86 -> {
                Object b = pop();
                push(tuple(new Object[] {pop(), b}));
            }
            case 0x87 -> {
                Object c = pop();
                Object b = pop();
                push(tuple(new Object[] {pop(), b, c}));
            }
            case ']' -> push(new ArrayList<>());
            case 'l' -> push(new ArrayList<>(popMark()));
            case 'a' -> {
                Object v = pop();
                list(peek(), "APPEND").add(v);
            }
            case 'e' -> {
                List<Object> items = popMark();
                list(peek(), "APPENDS").addAll(items);
            }
            case '}' -> push(new LinkedHashMap<>());
            case 'd' -> {
                Map<Object, Object> d = new LinkedHashMap<>();
                putPairs(d, popMark());
                push(d);
            }
            case 's' -> {
                Object v = pop();
                Object k = pop();
                dict(peek(), "SETITEM").put(hashable(k), v);
            }
            case 'u' -> {
                List<Object> items = popMark();
                putPairs(dict(peek(), "SETITEMS"), items);
            }
            case 0x8f -> push(new LinkedHashSet<>());
            case 0x90 -> {
                List<Object> items = popMark();
                Object target = peek();
                if (!(target instanceof LinkedHashSet<?>)) {
                    throw error("ADDITEMS on a " + typeName(target) + ", not a set");
                }
                @SuppressWarnings("unchecked")
                Set<Object> set = (Set<Object>) target;
                for (Object item : items) {
                    set.add(hashable(item));
                }
            }
            case 0x91 -> {
                Set<Object> set = new LinkedHashSet<>();
                for (Object item : popMark()) {
                    set.add(hashable(item));
                }
                push(Collections.unmodifiableSet(set));
            }
            case 'g' -> push(memoGet(decimalIndex(asciiLine())));
            case 'h' -> push(memoGet(u8()));
            case 'j' -> push(memoGet(u32()));
            case 'p' -> memo.put(decimalIndex(asciiLine()), peek());
            case 'q' -> memo.put((long) u8(), peek());
            case 'r' -> memo.put(u32(), peek());
            case 0x94 -> memo.put((long) memo.size(), peek());
            case 'c' -> {
                String module = utf8Line();
                push(resolve(module, utf8Line()));
            }
            case 0x93 -> {
                Object attribute = pop();
                Object module = pop();
                if (!(module instanceof String m) || !(attribute instanceof String a)) {
                    throw error("STACK_GLOBAL needs two str, got " + typeName(module) + " and " + typeName(attribute));
                }
                push(resolve(m, a));
            }
            case 'i' -> {
                String module = utf8Line();
                throw error("refuses global " + printable(module) + "." + printable(utf8Line())
                        + " (INST): building instances is not supported");
            }
            case 'o' -> {
                List<Object> items = popMark();
                throw error("refuses OBJ" + (items.isEmpty() ? "" : " of " + typeName(items.get(0)))
                        + ": building instances is not supported");
            }
            case 0x81 -> {
                pop();
                throw error("refuses NEWOBJ of " + typeName(pop()) + ": building instances is not supported");
            }
            case 0x92 -> {
                pop();
                pop();
                throw error("refuses NEWOBJ_EX of " + typeName(pop()) + ": building instances is not supported");
            }
            case 0x82 -> throw error("refuses extension code " + u8() + " (EXT1): the copyreg registry is not supported");
            case 0x83 -> throw error("refuses extension code " + u16() + " (EXT2): the copyreg registry is not supported");
            case 0x84 -> throw error("refuses extension code " + i32() + " (EXT4): the copyreg registry is not supported");
            case 'R' -> {
                Object args = pop();
                push(call(pop(), args));
            }
            case 'b' -> build();
            case 'P' -> push(persistentLoad(asciiLine()));
            case 'Q' -> push(persistentLoad(pop()));
            default -> throw error(String.format("unknown opcode 0x%02x", op));
        }
    }

    // ---------------------------------------------------------------- globals and calls

    private Global resolve(String module, String attribute) throws IOException {
        Global g = Global.find(module, attribute);
        if (g == null) {
            throw error("refuses global " + printable(module) + "." + printable(attribute)
                    + ": only collections.OrderedDict, torch._utils._rebuild_tensor_v2,"
                    + " torch._utils._rebuild_parameter and torch.*Storage types are allowed");
        }
        return g;
    }

    private Object call(Object callable, Object argsValue) throws IOException {
        if (!(callable instanceof Global g)) {
            throw error("REDUCE on a " + typeName(callable) + ", which is not a callable global");
        }
        if (!(argsValue instanceof Tuple args)) {
            throw error("REDUCE of " + g.qualifiedName() + " with " + typeName(argsValue) + " arguments, not a tuple");
        }
        return switch (g) {
            case ORDERED_DICT -> orderedDict(args);
            case REBUILD_TENSOR_V2 -> rebuildTensor(args);
            case REBUILD_PARAMETER -> rebuildParameter(args);
            default -> throw error("refuses to call " + g.qualifiedName()
                    + ": storage types are only accepted inside persistent ids");
        };
    }

    private Map<Object, Object> orderedDict(Tuple args) throws IOException {
        Map<Object, Object> d = new LinkedHashMap<>();
        if (args.size() == 0) {
            return d;
        }
        if (args.size() == 1 && (args.get(0) instanceof List<?> pairs)) {
            for (Object pair : pairs) {
                if (!(pair instanceof List<?> kv) || kv.size() != 2) {
                    throw error("collections.OrderedDict from a " + typeName(pair) + ", not a (key, value) pair");
                }
                d.put(hashable(kv.get(0)), kv.get(1));
            }
            return d;
        }
        throw error("collections.OrderedDict called with " + args.size() + " arguments; expected none or a list of pairs");
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private TensorRef rebuildTensor(Tuple args) throws IOException {
        if (args.size() != 6 && args.size() != 7) {
            throw error("torch._utils._rebuild_tensor_v2 called with " + args.size() + " arguments, expected 6 or 7");
        }
        if (!(args.get(0) instanceof StorageRef storage)) {
            throw error("torch._utils._rebuild_tensor_v2 on a " + typeName(args.get(0)) + ", not a storage");
        }
        long offset = nonNegative(args.get(1), "storage_offset");
        long[] size = intTuple(args.get(2), "size");
        long[] stride = intTuple(args.get(3), "stride");
        if (size.length != stride.length) {
            throw error("torch._utils._rebuild_tensor_v2 with " + size.length + " sizes but " + stride.length + " strides");
        }
        if (!(args.get(4) instanceof Boolean requiresGrad)) {
            throw error("torch._utils._rebuild_tensor_v2: requires_grad is a " + typeName(args.get(4)) + ", not a bool");
        }
        // backward_hooks and metadata are ignored: weights need neither.
        return new TensorRef(storage, offset, size, stride, requiresGrad);
    }

    /** {@code _rebuild_parameter(data, requires_grad, backward_hooks)}: a Parameter is its tensor here. */
    private TensorRef rebuildParameter(Tuple args) throws IOException {
        if (args.size() != 3) {
            throw error("torch._utils._rebuild_parameter called with " + args.size() + " arguments, expected 3");
        }
        if (!(args.get(0) instanceof TensorRef t)) {
            throw error("torch._utils._rebuild_parameter on a " + typeName(args.get(0)) + ", not a tensor");
        }
        if (!(args.get(1) instanceof Boolean requiresGrad)) {
            throw error("torch._utils._rebuild_parameter: requires_grad is a " + typeName(args.get(1)) + ", not a bool");
        }
        return new TensorRef(t.storage(), t.storageOffset(), t.size(), t.stride(), requiresGrad);
    }

    /**
     * BUILD sets an object's state. The only objects here that Python would give state are OrderedDicts
     * (a module's {@code state_dict()} carries {@code _metadata}); that state is accepted and dropped.
     */
    private void build() throws IOException {
        Object state = pop();
        Object target = peek();
        if (!(target instanceof Map<?, ?>)) {
            throw error("refuses BUILD on a " + typeName(target) + ": only dict state is accepted");
        }
        boolean plainState = state == null || state instanceof Map<?, ?>;
        boolean slotState = state instanceof Tuple t && t.size() == 2
                && (t.get(0) == null || t.get(0) instanceof Map<?, ?>) && (t.get(1) == null || t.get(1) instanceof Map<?, ?>);
        if (!plainState && !slotState) {
            throw error("refuses BUILD of a dict with " + typeName(state) + " state");
        }
    }

    private StorageRef persistentLoad(Object pid) throws IOException {
        if (!(pid instanceof Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw error("persistent id is a " + typeName(pid) + ", not a ('storage', type, key, location, numel) tuple");
        }
        if (!(t.get(1) instanceof Global g) || g.storageDtype() == null) {
            throw error("persistent id names storage type " + typeName(t.get(1)) + ", not a torch.*Storage type");
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location)) {
            throw error("persistent id with a " + typeName(t.get(2)) + " key and a " + typeName(t.get(3))
                    + " location; both must be str");
        }
        StorageRef s = new StorageRef(g.storageDtype(), key, location, nonNegative(t.get(4), "storage numel"));
        storages.add(s);
        return s;
    }

    private long nonNegative(Object v, String what) throws IOException {
        if (!(v instanceof Long n) || n < 0) {
            throw error(what + " is " + (v instanceof Long || v instanceof BigInteger ? "out of range: " + v
                    : "a " + typeName(v)) + ", expected a non-negative int");
        }
        return n;
    }

    private long[] intTuple(Object v, String what) throws IOException {
        if (!(v instanceof Tuple t)) {
            throw error(what + " is a " + typeName(v) + ", expected a tuple of ints");
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = nonNegative(t.get(i), what + "[" + i + "]");
        }
        return out;
    }

    // ---------------------------------------------------------------- stack, marks, memo

    private int base() {
        return markCount == 0 ? 0 : marks[markCount - 1];
    }

    private void push(Object v) {
        stack.add(v);
    }

    private Object pop() throws IOException {
        if (stack.size() <= base()) {
            throw error("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws IOException {
        if (stack.size() <= base()) {
            throw error("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private void pushMark() {
        if (markCount == marks.length) {
            marks = Arrays.copyOf(marks, marks.length * 2);
        }
        marks[markCount++] = stack.size();
    }

    /** Removes and returns the values above the innermost mark. */
    private List<Object> popMark() throws IOException {
        if (markCount == 0) {
            throw error("no MARK to pop to");
        }
        int from = marks[--markCount];
        List<Object> top = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private Object memoGet(long index) throws IOException {
        if (!memo.containsKey(index)) {
            throw error("memo has no entry " + index);
        }
        return memo.get(index);
    }

    private void putPairs(Map<Object, Object> d, List<Object> items) throws IOException {
        if (items.size() % 2 != 0) {
            throw error("odd number of items (" + items.size() + ") for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            d.put(hashable(items.get(i)), items.get(i + 1));
        }
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object target, String opcode) throws IOException {
        if (!(target instanceof ArrayList<?>)) {
            throw error(opcode + " on a " + typeName(target) + ", not a list");
        }
        return (List<Object>) target;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object target, String opcode) throws IOException {
        if (!(target instanceof LinkedHashMap<?, ?>)) {
            throw error(opcode + " on a " + typeName(target) + ", not a dict");
        }
        return (Map<Object, Object>) target;
    }

    private Object hashable(Object key) throws IOException {
        if (isScalar(key)) {
            return key;
        }
        if (key instanceof Tuple t) {
            for (Object item : t) {
                if (!isScalar(item)) {
                    throw error("dict key or set element is a tuple holding a " + typeName(item)
                            + "; only scalars and tuples of scalars are supported");
                }
            }
            return key;
        }
        throw error("dict key or set element is a " + typeName(key) + "; only scalars and tuples of scalars are supported");
    }

    private static boolean isScalar(Object v) {
        return v == null || v instanceof Boolean || v instanceof Long || v instanceof BigInteger || v instanceof Double
                || v instanceof String;
    }

    // ---------------------------------------------------------------- reading the input

    private int remaining() {
        return in.length - pos;
    }

    /** Checks a length field against the input that remains, before anything of that size is allocated. */
    private int length(long n, String what) throws IOException {
        if (n < 0 || n > remaining()) {
            throw error(what + " length " + (n < 0 ? Long.toUnsignedString(n) : Long.toString(n))
                    + " exceeds the " + remaining() + " bytes that remain (truncated or corrupt pickle)");
        }
        return (int) n;
    }

    private byte[] take(int n) throws IOException {
        length(n, "argument");
        byte[] b = Arrays.copyOfRange(in, pos, pos + n);
        pos += n;
        return b;
    }

    private int u8() throws IOException {
        length(1, "argument");
        return in[pos++] & 0xFF;
    }

    private int u16() throws IOException {
        length(2, "argument");
        int v = (in[pos] & 0xFF) | (in[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    private int i32() throws IOException {
        length(4, "argument");
        int v = (in[pos] & 0xFF) | (in[pos + 1] & 0xFF) << 8 | (in[pos + 2] & 0xFF) << 16 | (in[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    private long u32() throws IOException {
        return i32() & 0xFFFF_FFFFL;
    }

    /** An unsigned 64-bit field; values above 2^63 come back negative and fail the length checks. */
    private long u64() throws IOException {
        long lo = u32();
        long hi = u32();
        return lo | hi << 32;
    }

    private Object signedLittleEndian(int n) throws IOException {
        byte[] le = take(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        return narrow(new BigInteger(be));
    }

    private static Object narrow(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** The bytes up to the next newline (consumed, not returned). */
    private byte[] line() throws IOException {
        for (int i = pos; i < in.length; i++) {
            if (in[i] == '\n') {
                byte[] b = Arrays.copyOfRange(in, pos, i);
                pos = i + 1;
                return b;
            }
        }
        throw error("text argument has no terminating newline (truncated pickle)");
    }

    private String asciiLine() throws IOException {
        byte[] b = line();
        for (byte x : b) {
            if (x < 0x20) {
                throw error("text argument holds control byte " + x);
            }
        }
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private String utf8Line() throws IOException {
        byte[] b = line();
        return decodeUtf8(b, 0, b.length);
    }

    private String utf8(int n) throws IOException {
        length(n, "string");
        String s = decodeUtf8(in, pos, n);
        pos += n;
        return s;
    }

    private String decodeUtf8(byte[] b, int off, int n) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, off, n)).toString();
        } catch (CharacterCodingException e) {
            throw error("string is not valid UTF-8");
        }
    }

    private Object decimal(String s) throws IOException {
        String digits = s.startsWith("-") || s.startsWith("+") ? s.substring(1) : s;
        if (digits.isEmpty() || digits.length() > MAX_DECIMAL_DIGITS || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw error("not a decimal integer: '" + printable(s) + "'");
        }
        return narrow(new BigInteger(s.startsWith("+") ? digits : s));
    }

    private long decimalIndex(String s) throws IOException {
        if (!(decimal(s) instanceof Long n) || n < 0) {
            throw error("memo index out of range: '" + printable(s) + "'");
        }
        return n;
    }

    /** Python's repr of a float: Java's syntax plus inf and nan. */
    private double pythonFloat(String s) throws IOException {
        String t = s.trim();
        switch (t) {
            case "inf", "+inf" -> { return Double.POSITIVE_INFINITY; }
            case "-inf" -> { return Double.NEGATIVE_INFINITY; }
            case "nan", "-nan", "+nan" -> { return Double.NaN; }
            default -> { }
        }
        // Double.parseDouble would also take Java-only forms such as "NaN", "1f" or hex; only decimal is pickle's.
        if (t.isEmpty() || !t.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E'
                || c == '+' || c == '-')) {
            throw error("not a float: '" + printable(s) + "'");
        }
        try {
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw error("not a float: '" + printable(s) + "'");
        }
    }

    /** Protocol 0's STRING: a quoted Python bytes repr, unescaped the way {@code codecs.escape_decode} does. */
    private String quotedString(byte[] b) throws IOException {
        int n = b.length;
        if (n < 2 || b[0] != b[n - 1] || (b[0] != '\'' && b[0] != '"')) {
            throw error("STRING argument is not quoted");
        }
        StringBuilder sb = new StringBuilder(n);
        for (int i = 1; i < n - 1; i++) {
            int c = b[i] & 0xFF;
            if (c != '\\' || i + 1 >= n - 1) {
                sb.append((char) c);
                continue;
            }
            int e = b[++i] & 0xFF;
            switch (e) {
                case '\n' -> { }
                case '\\', '\'', '"' -> sb.append((char) e);
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'v' -> sb.append('\u000b');
                case 'x' -> {
                    if (i + 2 >= n - 1 || hex(b[i + 1]) < 0 || hex(b[i + 2]) < 0) {
                        throw error("STRING has an invalid \\x escape");
                    }
                    sb.append((char) (hex(b[i + 1]) * 16 + hex(b[i + 2])));
                    i += 2;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && i + 1 < n - 1 && b[i + 1] >= '0' && b[i + 1] <= '7'; k++) {
                            v = v * 8 + (b[++i] - '0');
                        }
                        sb.append((char) (v & 0xFF));
                    } else {
                        sb.append('\\').append((char) e); // Python keeps unknown escapes as written
                    }
                }
            }
        }
        return sb.toString();
    }

    /** Protocol 0's UNICODE: latin-1 bytes with {@code \}{@code uXXXX} and {@code \}{@code UXXXXXXXX} escapes. */
    private String rawUnicodeEscape(byte[] b) throws IOException {
        StringBuilder sb = new StringBuilder(b.length);
        for (int i = 0; i < b.length; i++) {
            int c = b[i] & 0xFF;
            int digits = c == '\\' && i + 1 < b.length ? (b[i + 1] == 'u' ? 4 : b[i + 1] == 'U' ? 8 : 0) : 0;
            if (digits == 0) {
                sb.append((char) c);
                continue;
            }
            if (i + 1 + digits >= b.length) {
                throw error("UNICODE has a truncated \\u escape");
            }
            int cp = 0;
            for (int k = 0; k < digits; k++) {
                int h = hex(b[i + 2 + k]);
                if (h < 0) {
                    throw error("UNICODE has an invalid \\u escape");
                }
                cp = cp * 16 + h;
            }
            if (cp < 0 || cp > Character.MAX_CODE_POINT) {
                throw error("UNICODE escape beyond U+10FFFF");
            }
            sb.appendCodePoint(cp);
            i += 1 + digits;
        }
        return sb.toString();
    }

    private static int hex(byte c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    // ---------------------------------------------------------------- values and messages

    private static Tuple tuple(Object[] items) {
        return new Tuple(items);
    }

    /** A Python tuple: an unmodifiable list, a type of its own so that APPEND and persistent ids can tell it from a list. */
    private static final class Tuple extends AbstractList<Object> implements RandomAccess {
        private final Object[] items;

        Tuple(Object[] items) {
            this.items = items;
        }

        @Override
        public Object get(int index) {
            return items[index];
        }

        @Override
        public int size() {
            return items.length;
        }
    }

    /** Python's name for the type of a value built here; never prints the value, which may be huge or nested. */
    static String typeName(Object v) {
        if (v == null) {
            return "None";
        } else if (v instanceof Boolean) {
            return "bool";
        } else if (v instanceof Long || v instanceof BigInteger) {
            return "int";
        } else if (v instanceof Double) {
            return "float";
        } else if (v instanceof String) {
            return "str";
        } else if (v instanceof byte[]) {
            return "bytes";
        } else if (v instanceof Tuple) {
            return "tuple";
        } else if (v instanceof List<?>) {
            return "list";
        } else if (v instanceof Map<?, ?>) {
            return "dict";
        } else if (v instanceof Set<?>) {
            return "set";
        } else if (v instanceof Global g) {
            return g.qualifiedName();
        } else if (v instanceof StorageRef) {
            return "storage";
        } else if (v instanceof TensorRef) {
            return "tensor";
        }
        return v.getClass().getSimpleName();
    }

    /** A name from the file, shortened and with control characters escaped, safe to put in a message. */
    private static String printable(String s) {
        int keep = Math.min(s.length(), 100);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < keep; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return keep < s.length() ? sb + "..." : sb.toString();
    }

    private IOException error(String problem) {
        return new IOException("pickle byte " + opStart + ": " + problem);
    }
}
