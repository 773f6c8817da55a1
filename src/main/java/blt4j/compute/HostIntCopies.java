package blt4j.compute;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * What the host wrote into each I32 storage of a device backend, so {@link Backend} can validate ids, targets and
 * positions without reading the device. Keyed by storage identity (weakly: a freed buffer drops its copy). A copy
 * starts as zeros, like a new buffer; a kernel write makes it stale until the host rewrites the whole storage.
 */
final class HostIntCopies {
    private static final class Copy {
        final int size;
        int[] data; // null: all zeros (allocated on first use)
        boolean stale;

        Copy(int size) {
            this.size = size;
        }
    }

    private final Map<Object, Copy> copies = new WeakHashMap<>();

    void register(Tensor t) {
        copies.put(t.storage(), new Copy(t.size()));
    }

    /** The host's ints of t's storage (index with t.offset()), or null when unknown. */
    int[] get(Tensor t) {
        Copy c = copies.get(t.storage());
        if (c == null || c.stale) {
            return null;
        }
        if (c.data == null) {
            c.data = new int[c.size];
        }
        return c.data;
    }

    void hostWrote(Tensor dst, int[] src) {
        hostWrote(dst, src, 0);
    }

    /** The host wrote src[srcOffset, srcOffset + dst.size()) into dst. */
    void hostWrote(Tensor dst, int[] src, int srcOffset) {
        Copy c = copies.get(dst.storage());
        if (c == null) {
            return;
        }
        if (c.stale && dst.offset() == 0 && dst.size() == c.size) {
            c.stale = false; // a whole rewrite makes it known again
        }
        if (!c.stale) {
            if (c.data == null) {
                c.data = new int[c.size];
            }
            System.arraycopy(src, srcOffset, c.data, dst.offset(), dst.size());
        }
    }

    void kernelWrote(Tensor dst) {
        Copy c = copies.get(dst.storage());
        if (c != null) {
            c.stale = true;
            c.data = null;
        }
    }

    /** A device copy src → dst; srcInts is the host's view of src (null when unknown). */
    void copied(Tensor src, int[] srcInts, Tensor dst) {
        if (!copies.containsKey(dst.storage())) {
            return;
        }
        int[] to = get(dst);
        if (srcInts == null || to == null) {
            kernelWrote(dst);
        } else {
            System.arraycopy(srcInts, src.offset(), to, dst.offset(), src.size());
        }
    }
}
