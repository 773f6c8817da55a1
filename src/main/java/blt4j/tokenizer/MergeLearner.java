package blt4j.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * BPE training over distinct chunks with their counts. Pair counts are kept for the whole corpus and updated only in
 * the chunks a merge touches; a max-queue with lazy entries finds the best pair (a queued count is never below the
 * true one, because a merge only lowers the counts of existing pairs and its new pairs are queued when made).
 */
final class MergeLearner {
    private final int[][] words;      // symbol ids of each distinct chunk (prefix of length len[w] is live)
    private final int[] len;
    private final int[] freq;
    private final Map<Long, long[]> pairCount = new HashMap<>();
    private final Map<Long, Set<Integer>> pairWords = new HashMap<>();
    private final PriorityQueue<long[]> queue = new PriorityQueue<>((a, b) ->
            a[0] != b[0] ? Long.compare(b[0], a[0]) : Long.compare(a[1], b[1]));   // {count, key}
    private final List<Integer> lefts = new ArrayList<>();
    private final List<Integer> rights = new ArrayList<>();

    MergeLearner(Map<BpeTokenizer.Chunk, int[]> chunks) {
        int n = chunks.size();
        words = new int[n][];
        len = new int[n];
        freq = new int[n];
        // a fixed order (by content) makes the learned merges independent of hash iteration order
        List<BpeTokenizer.Chunk> sorted = new ArrayList<>(chunks.keySet());
        sorted.sort((a, b) -> java.util.Arrays.compareUnsigned(a.text, a.from, a.to, b.text, b.from, b.to));
        for (int w = 0; w < n; w++) {
            BpeTokenizer.Chunk c = sorted.get(w);
            int[] s = new int[c.length()];
            for (int i = 0; i < s.length; i++) {
                s[i] = (c.text[c.from + i] & 0xFF) + ByteTokenizer.OFFSET;
            }
            words[w] = s;
            len[w] = s.length;
            freq[w] = chunks.get(c)[0];
            countPairs(w, +1);
        }
        for (Map.Entry<Long, long[]> e : pairCount.entrySet()) {
            queue.add(new long[] {e.getValue()[0], e.getKey()});
        }
    }

    int merges() {
        return lefts.size();
    }

    int[] left() {
        return lefts.stream().mapToInt(Integer::intValue).toArray();
    }

    int[] right() {
        return rights.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Merges the most frequent pair (count ≥ 2); false when no pair occurs twice. */
    boolean mergeBest() {
        while (!queue.isEmpty()) {
            long[] top = queue.poll();
            long[] now = pairCount.get(top[1]);
            long current = now == null ? 0 : now[0];
            if (current != top[0]) {
                if (current > 0) {
                    queue.add(new long[] {current, top[1]});
                }
                continue;
            }
            if (current < 2) {
                return false;
            }
            merge(top[1]);
            return true;
        }
        return false;
    }

    private void merge(long key) {
        int a = (int) (key >>> 32);
        int b = (int) key;
        int id = ByteTokenizer.VOCAB + lefts.size();
        lefts.add(a);
        rights.add(b);
        Set<Integer> touched = pairWords.remove(key);
        Set<Long> created = new HashSet<>();
        List<Integer> order = new ArrayList<>(touched);
        order.sort(null);
        for (int w : order) {
            countPairs(w, -1);
            len[w] = replace(words[w], len[w], a, b, id);
            for (int i = 0; i + 1 < len[w]; i++) {
                if (words[w][i] == id || words[w][i + 1] == id) {
                    created.add(BpeTokenizer.key(words[w][i], words[w][i + 1]));
                }
            }
            countPairs(w, +1);
        }
        pairCount.remove(key);
        for (long k : created) {
            long[] c = pairCount.get(k);
            if (c != null && c[0] > 0) {
                queue.add(new long[] {c[0], k});
            }
        }
    }

    private void countPairs(int w, int sign) {
        int[] s = words[w];
        for (int i = 0; i + 1 < len[w]; i++) {
            long k = BpeTokenizer.key(s[i], s[i + 1]);
            long[] c = pairCount.computeIfAbsent(k, x -> new long[1]);
            c[0] += sign * (long) freq[w];
            if (sign > 0) {
                pairWords.computeIfAbsent(k, x -> new HashSet<>()).add(w);
            } else if (c[0] == 0) {
                pairCount.remove(k);
            }
        }
    }

    /** Replaces every (a, b) in s[0, n) by id, left to right without overlap; returns the new length. */
    static int replace(int[] s, int n, int a, int b, int id) {
        int out = 0;
        for (int i = 0; i < n; i++) {
            if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                s[out++] = id;
                i++;
            } else {
                s[out++] = s[i];
            }
        }
        return out;
    }
}
