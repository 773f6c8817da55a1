package blt4j.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A file of prompts for {@code blt generate --prompts}: UTF-8, one prompt per line; in a line, {@code \n} stands for a
 * newline and {@code \\} for a backslash; blank lines are skipped. Invalid UTF-8, an unknown escape or a file with no
 * prompt is an error naming the line.
 */
final class PromptsFile {
    private PromptsFile() {}

    static List<byte[]> read(Path file) throws IOException {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--prompts: no file " + file);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("--prompts: " + file + " is not UTF-8 text");
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1); // a byte-order mark is not part of the first prompt
        }
        List<byte[]> prompts = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            prompts.add(unescape(lines[i], file, i + 1).getBytes(StandardCharsets.UTF_8));
        }
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("--prompts: " + file + " holds no prompt (one per line)");
        }
        return prompts;
    }

    private static String unescape(String line, Path file, int number) {
        StringBuilder b = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char next = i + 1 < line.length() ? line.charAt(i + 1) : 0;
            if (next == 'n') {
                b.append('\n');
            } else if (next == '\\') {
                b.append('\\');
            } else {
                throw new IllegalArgumentException("--prompts: " + file + " line " + number + ": '\\' must be followed by n or \\"
                        + " (a newline or a backslash)");
            }
            i++;
        }
        return b.toString();
    }
}
