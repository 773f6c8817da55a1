package blt4j.tokenizer;

/**
 * Cuts bytes into the chunks BPE merges stay inside, in the spirit of GPT-2's pre-tokenizer but on bytes: runs of
 * letters (ASCII letters and every byte ≥ 0x80, so a UTF-8 character is never cut by class), of digits, of other
 * symbols, and of whitespace; a single space before a non-space run joins that run (" the"), and a whitespace run
 * leaves its last space to the word after it. Chunks are at most {@link #MAX_CHUNK} bytes, so text without spaces
 * (or binary data) costs linear time.
 */
final class PreSplit {
    static final int MAX_CHUNK = 64;

    private static final int LETTER = 0;
    private static final int DIGIT = 1;
    private static final int SPACE = 2;
    private static final int OTHER = 3;

    private PreSplit() {}

    interface ChunkConsumer {
        void accept(int from, int to);
    }

    /** Calls {@code sink} with every chunk of text[from, to), in order; together they cover the range exactly. */
    static void forEach(byte[] text, int from, int to, ChunkConsumer sink) {
        int i = from;
        while (i < to) {
            int start = i;
            int c = kind(text[i]);
            if (text[i] == ' ' && i + 1 < to && kind(text[i + 1]) != SPACE) {
                i++;
                c = kind(text[i]);
            }
            if (c == SPACE) {
                while (i < to && kind(text[i]) == SPACE) {
                    i++;
                }
                if (i < to && i - start > 1 && text[i - 1] == ' ') {
                    i--; // the space goes with the next word
                }
            } else {
                while (i < to && kind(text[i]) == c) {
                    i++;
                }
            }
            for (int a = start; a < i; a += MAX_CHUNK) {
                sink.accept(a, Math.min(i, a + MAX_CHUNK));
            }
        }
    }

    private static int kind(byte b) {
        int v = b & 0xFF;
        if (v >= 0x80 || v >= 'a' && v <= 'z' || v >= 'A' && v <= 'Z') {
            return LETTER;
        }
        if (v >= '0' && v <= '9') {
            return DIGIT;
        }
        if (v == ' ' || v == '\t' || v == '\n' || v == '\r' || v == '\f' || v == 0x0B) {
            return SPACE;
        }
        return OTHER;
    }
}
