package blt4j.compute;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Weight matrices packed once into the GEMM's B-panel layout, for products X·Wᵀ with W inside a storage the model
 * registered as its parameters. A product then needs no packing per call, so one row (a decoding step) streams the
 * packed weights with vector FMAs and no lane sums, and every row of a product gets the same bits whatever the number
 * of rows. Any write into a registered storage drops its packs (the next product packs again).
 */
final class CpuPackedWeights {
    /** W [n, k] packed: for each NC column block and KC depth block, in loop order, a panel of roundUp(nc, NR) × kc. */
    record Packed(float[] data, int n, int k) {
        /** Where the panel of columns from jc and depth from pc starts. */
        int panelOffset(int jc, int pc) {
            int offset = 0;
            for (int j = 0; j < jc; j += CpuGemm.NC) {
                offset += roundUp(Math.min(CpuGemm.NC, n - j)) * k;
            }
            return offset + roundUp(Math.min(CpuGemm.NC, n - jc)) * pc;
        }
    }

    private record Key(int offset, int n, int k) {}

    /** A pack and whether its storage was written since (then it is packed again in place: no garbage per step). */
    private static final class Entry {
        final Packed packed;
        boolean stale;

        Entry(Packed packed) {
            this.packed = packed;
        }
    }

    // weak keys (arrays compare by identity), so a model dropped by its user takes its packs with it
    private final Set<float[]> registered = Collections.newSetFromMap(new WeakHashMap<>());
    private final Map<float[], Map<Key, Entry>> packs = new WeakHashMap<>();

    void register(float[] storage) {
        registered.add(storage);
    }

    boolean holdsWeights(Object storage) {
        return !registered.isEmpty() && storage instanceof float[] f && registered.contains(f);
    }

    /** The storage was written: its packs are stale (kept, and refilled by the next product that needs them). */
    void invalidate(Object storage) {
        if (!packs.isEmpty() && storage instanceof float[] f) {
            Map<Key, Entry> m = packs.get(f);
            if (m != null) {
                for (Entry e : m.values()) {
                    e.stale = true;
                }
            }
        }
    }

    /** W [n, k] at w[wo..], packed (once, until the storage is written; then again into the same array). */
    Packed get(float[] w, int wo, int n, int k) {
        Map<Key, Entry> m = packs.computeIfAbsent(w, x -> new HashMap<>());
        Key key = new Key(wo, n, k);
        Entry e = m.get(key);
        if (e == null) {
            e = new Entry(new Packed(new float[Math.toIntExact(size(n, k))], n, k));
            e.stale = true;
            m.put(key, e);
        }
        if (e.stale) {
            pack(w, wo, e.packed);
            e.stale = false;
        }
        return e.packed;
    }

    private static long size(int n, int k) {
        long size = 0;
        for (int jc = 0; jc < n; jc += CpuGemm.NC) {
            size += (long) roundUp(Math.min(CpuGemm.NC, n - jc)) * k;
        }
        return size;
    }

    private static void pack(float[] w, int wo, Packed p) {
        int n = p.n(), k = p.k();
        for (int jc = 0; jc < n; jc += CpuGemm.NC) {
            int nc = Math.min(CpuGemm.NC, n - jc);
            for (int pc = 0; pc < k; pc += CpuGemm.KC) {
                CpuGemm.packB(w, wo, true, n, k, pc, Math.min(CpuGemm.KC, k - pc), jc, nc, p.data(),
                        p.panelOffset(jc, pc));
            }
        }
    }

    private static int roundUp(int cols) {
        return (cols + CpuGemm.NR - 1) / CpuGemm.NR * CpuGemm.NR;
    }
}
