package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/** Keys and values of every position seen so far by one attention layer, for incremental decoding. */
public final class KvCache {
    private final Tensor k;
    private final Tensor v;
    private int length;

    public KvCache(Backend backend, int capacity, int width) {
        this.k = backend.zeros(capacity, width);
        this.v = backend.zeros(capacity, width);
    }

    public int length() {
        return length;
    }

    /** Forgets every position from {@code length} on (speculative decoding rolls back rejected bytes). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a KV cache of " + length + " positions to " + newLength);
        }
        length = newLength;
    }

    /** Truncates every cache of a stack. */
    public static void truncate(KvCache[] caches, int newLength) {
        for (KvCache c : caches) {
            c.truncate(newLength);
        }
    }

    public int capacity() {
        return k.rows();
    }

    /** Appends rows of keys and values; returns the row index of the first appended row. */
    int append(Backend backend, Tensor newK, Tensor newV) {
        int n = newK.rows();
        if (length + n > capacity()) {
            throw new IllegalStateException("KV cache full: " + capacity() + " positions; generate fewer bytes");
        }
        backend.copy(newK, k.rowSlice(length, length + n));
        backend.copy(newV, v.rowSlice(length, length + n));
        int at = length;
        length += n;
        return at;
    }

    Tensor keys() {
        return k.rowSlice(0, length);
    }

    Tensor values() {
        return v.rowSlice(0, length);
    }
}
