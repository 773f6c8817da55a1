package blt4j.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded character-level noise for robustness tests: each non-whitespace character is, with the stated
 * probabilities, deleted, replaced by another character, swapped with the next one, case-flipped, or preceded by an
 * inserted character. Replacement and inserted characters are drawn from the text's own characters (weighted by how
 * often they occur), so the noise stays in the text's script. Characters are UTF-8 code points; an invalid byte is
 * one character of its own and is kept intact. Whitespace is never edited, so lines and words stay where they were.
 */
public final class TextNoise {

    /** Per-character probabilities of each edit; their sum must be at most 1. */
    public record Rates(double delete, double substitute, double swap, double caseFlip, double insert) {
        public Rates {
            double[] all = {delete, substitute, swap, caseFlip, insert};
            double sum = 0;
            for (double r : all) {
                if (!(r >= 0 && r <= 1)) {
                    throw new IllegalArgumentException("noise rates must be in [0, 1], got " + r);
                }
                sum += r;
            }
            if (sum > 1 + 1e-12) {
                throw new IllegalArgumentException("noise rates add up to " + sum + " per character; at most 1");
            }
        }

        /** The same rate for every edit. */
        public static Rates each(double r) {
            return new Rates(r, r, r, r, r);
        }

        public double total() {
            return delete + substitute + swap + caseFlip + insert;
        }
    }

    /** The noised bytes and how many edits of each kind were made, out of how many editable characters. */
    public record Result(byte[] text, long characters, long deleted, long substituted, long swapped, long caseFlipped,
                         long inserted) {
        public long edits() {
            return deleted + substituted + swapped + caseFlipped + inserted;
        }
    }

    private TextNoise() {}

    public static Result apply(byte[] input, Rates rates, long seed) {
        List<byte[]> chars = characters(input);
        List<byte[]> pool = new ArrayList<>();
        for (byte[] c : chars) {
            if (!whitespace(c)) {
                pool.add(c);
            }
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        ByteArrayOutputStream out = new ByteArrayOutputStream(input.length + input.length / 8);
        long editable = 0;
        long del = 0;
        long sub = 0;
        long swp = 0;
        long cas = 0;
        long ins = 0;
        for (int i = 0; i < chars.size(); i++) {
            byte[] c = chars.get(i);
            if (whitespace(c)) {
                out.writeBytes(c);
                continue;
            }
            editable++;
            double u = rnd.nextDouble();
            if ((u -= rates.delete()) < 0) {
                del++;
            } else if ((u -= rates.substitute()) < 0) {
                out.writeBytes(pool.get(rnd.nextInt(pool.size())));
                sub++;
            } else if ((u -= rates.swap()) < 0) {
                if (i + 1 < chars.size() && !whitespace(chars.get(i + 1))) {
                    out.writeBytes(chars.get(i + 1));
                    out.writeBytes(c);
                    i++;
                    editable++;
                    swp++;
                } else {
                    out.writeBytes(c); // nothing to swap with: the last character of a word stays
                }
            } else if ((u -= rates.caseFlip()) < 0) {
                byte[] flipped = flipCase(c);
                out.writeBytes(flipped);
                if (flipped != c) {
                    cas++;
                }
            } else if ((u -= rates.insert()) < 0) {
                out.writeBytes(pool.get(rnd.nextInt(pool.size())));
                out.writeBytes(c);
                ins++;
            } else {
                out.writeBytes(c);
            }
        }
        return new Result(out.toByteArray(), editable, del, sub, swp, cas, ins);
    }

    /** Splits bytes into UTF-8 characters; a byte that does not start a well-formed sequence is its own character. */
    static List<byte[]> characters(byte[] b) {
        List<byte[]> out = new ArrayList<>();
        int i = 0;
        while (i < b.length) {
            int n = sequenceLength(b, i);
            byte[] c = new byte[n];
            System.arraycopy(b, i, c, 0, n);
            out.add(c);
            i += n;
        }
        return out;
    }

    private static int sequenceLength(byte[] b, int i) {
        int v = b[i] & 0xFF;
        int n = v < 0x80 ? 1 : v >= 0xC2 && v < 0xE0 ? 2 : v >= 0xE0 && v < 0xF0 ? 3 : v >= 0xF0 && v < 0xF5 ? 4 : 1;
        if (n == 1 || i + n > b.length) {
            return 1;
        }
        for (int k = 1; k < n; k++) {
            if ((b[i + k] & 0xC0) != 0x80) {
                return 1;
            }
        }
        int second = b[i + 1] & 0xFF;
        boolean wellFormed = switch (v) {
            case 0xE0 -> second >= 0xA0;          // no overlong 3-byte forms
            case 0xED -> second < 0xA0;           // no surrogates
            case 0xF0 -> second >= 0x90;          // no overlong 4-byte forms
            case 0xF4 -> second < 0x90;           // nothing above U+10FFFF
            default -> true;
        };
        return wellFormed ? n : 1;
    }

    private static boolean whitespace(byte[] c) {
        return c.length == 1 && (c[0] == ' ' || c[0] == '\n' || c[0] == '\t' || c[0] == '\r' || c[0] == '\f' || c[0] == 0x0B);
    }

    /** The other case of a cased letter (its UTF-8 bytes), or {@code c} itself when it has none. */
    static byte[] flipCase(byte[] c) {
        String s = new String(c, StandardCharsets.UTF_8);
        if (s.codePointCount(0, s.length()) != 1) {
            return c;
        }
        int cp = s.codePointAt(0);
        int other = Character.isUpperCase(cp) ? Character.toLowerCase(cp)
                : Character.isLowerCase(cp) ? Character.toUpperCase(cp) : cp;
        if (other == cp) {
            return c;
        }
        return new String(Character.toChars(other)).getBytes(StandardCharsets.UTF_8);
    }
}
