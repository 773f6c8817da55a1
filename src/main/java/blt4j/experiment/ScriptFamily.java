package blt4j.experiment;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;

/** The writing system a text is mostly in, from the Unicode scripts of its letters. */
public final class ScriptFamily {
    private ScriptFamily() {}

    /**
     * The dominant script of the letters of {@code utf8} ("Latin", "Cyrillic", "Han", …); Japanese (kana with Han) is
     * its own family, as the Han characters of a Japanese text would otherwise outvote its kana.
     */
    public static String of(byte[] utf8) {
        String s = new String(utf8, StandardCharsets.UTF_8);
        Map<Character.UnicodeScript, Integer> counts = new EnumMap<>(Character.UnicodeScript.class);
        int letters = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (!Character.isLetter(cp)) {
                continue;
            }
            Character.UnicodeScript script = Character.UnicodeScript.of(cp);
            if (script == Character.UnicodeScript.COMMON || script == Character.UnicodeScript.INHERITED) {
                continue;
            }
            counts.merge(script, 1, Integer::sum);
            letters++;
        }
        if (letters == 0) {
            return "none";
        }
        int kana = counts.getOrDefault(Character.UnicodeScript.HIRAGANA, 0) + counts.getOrDefault(Character.UnicodeScript.KATAKANA, 0);
        if (kana > letters / 10) {
            return "Japanese (kana + Han)";
        }
        Character.UnicodeScript best = null;
        for (var e : counts.entrySet()) {
            if (best == null || e.getValue() > counts.get(best)) {
                best = e.getKey();
            }
        }
        String name = best.name().toLowerCase().replace('_', ' ');
        return Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }
}
