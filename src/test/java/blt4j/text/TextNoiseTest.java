package blt4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The noise generator: rates as stated, seeded, whitespace and UTF-8 characters intact. */
class TextNoiseTest {
    private static final int N = 200_000;

    private static byte[] lowercaseWords(long seed) {
        Random rnd = new Random(seed);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < N) {
            int len = 3 + rnd.nextInt(8);
            for (int i = 0; i < len; i++) {
                sb.append((char) ('a' + rnd.nextInt(26)));
            }
            sb.append(rnd.nextInt(10) == 0 ? '\n' : ' ');
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** |observed − expected| within 4.5 binomial standard deviations. */
    private static void assertRate(String what, long count, long trials, double p) {
        double expected = trials * p;
        double sd = Math.sqrt(trials * p * (1 - p));
        assertTrue(Math.abs(count - expected) < 4.5 * sd, what + ": " + count + " of " + trials + ", expected " + expected);
    }

    @Test
    void eachEditHappensAtItsRate() {
        byte[] text = lowercaseWords(1);
        double r = 0.03;
        var del = TextNoise.apply(text, new TextNoise.Rates(r, 0, 0, 0, 0), 11);
        assertRate("deletions", del.deleted(), del.characters(), r);
        assertEquals(text.length - del.deleted(), del.text().length);
        var sub = TextNoise.apply(text, new TextNoise.Rates(0, r, 0, 0, 0), 12);
        assertRate("substitutions", sub.substituted(), sub.characters(), r);
        var ins = TextNoise.apply(text, new TextNoise.Rates(0, 0, 0, 0, r), 13);
        assertRate("insertions", ins.inserted(), ins.characters(), r);
        assertEquals(text.length + ins.inserted(), ins.text().length);
        var cas = TextNoise.apply(text, new TextNoise.Rates(0, 0, 0, r, 0), 14);
        assertRate("case flips", cas.caseFlipped(), cas.characters(), r);
        var swp = TextNoise.apply(text, new TextNoise.Rates(0, 0, r, 0, 0), 15);
        // a swap consumes two characters and cannot start at a word's last letter (mean word 6.5 letters)
        assertTrue(swp.swapped() > 0.7 * r * swp.characters() && swp.swapped() < r * swp.characters(),
                swp.swapped() + " swaps over " + swp.characters());
        assertEquals(text.length, swp.text().length);
        var all = TextNoise.apply(text, TextNoise.Rates.each(0.02), 16);
        assertRate("all edits", all.deleted() + all.substituted() + all.inserted(), 3 * all.characters(), 0.02);
    }

    @Test
    void sameSeedSameOutputAndRateZeroIsTheIdentity() {
        byte[] text = lowercaseWords(2);
        TextNoise.Rates rates = TextNoise.Rates.each(0.05);
        assertArrayEquals(TextNoise.apply(text, rates, 5).text(), TextNoise.apply(text, rates, 5).text());
        assertFalse(java.util.Arrays.equals(TextNoise.apply(text, rates, 5).text(), TextNoise.apply(text, rates, 6).text()));
        assertArrayEquals(text, TextNoise.apply(text, TextNoise.Rates.each(0), 5).text());
    }

    @Test
    void whitespaceAndCharactersSurvive() throws CharacterCodingException {
        String greek = "Η Οικουμενική Διακήρυξη για τα Ανθρώπινα Δικαιώματα. 日本語のテキスト、ÄÖÜ äöü ß.\n".repeat(400);
        byte[] text = greek.getBytes(StandardCharsets.UTF_8);
        var r = TextNoise.apply(text, TextNoise.Rates.each(0.05), 3);
        String out = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(r.text())).toString();
        assertEquals(greek.chars().filter(c -> c == '\n').count(), out.chars().filter(c -> c == '\n').count());
        assertEquals(greek.chars().filter(c -> c == ' ').count(), out.chars().filter(c -> c == ' ').count());
        assertTrue(r.caseFlipped() > 0 && r.edits() > 0.15 * r.characters());
        byte[] invalid = {(byte) 0xFF, 'a', (byte) 0xC3, ' ', (byte) 0xE2, (byte) 0x82};
        assertEquals(6, TextNoise.characters(invalid).size(), "every invalid byte is a character of its own");
        assertEquals(2, TextNoise.characters("é€".getBytes(StandardCharsets.UTF_8)).size());
    }

    @Test
    void ratesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> TextNoise.Rates.each(0.3));
        assertThrows(IllegalArgumentException.class, () -> new TextNoise.Rates(-0.1, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new TextNoise.Rates(Double.NaN, 0, 0, 0, 0));
    }
}
