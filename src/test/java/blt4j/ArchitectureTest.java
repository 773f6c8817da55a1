package blt4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layers follow the data path: every main package may use only the packages listed here (a plain scan of
 * imports and fully qualified names, comments and strings stripped). In particular compute knows no model,
 * model knows neither training, files nor the command line, and patching knows no training.
 */
class ArchitectureTest {
    private static final Path MAIN = Path.of("src/main/java/blt4j");

    /** package → the blt4j packages it may use (besides itself). */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("tokenizer", Set.of()),
            Map.entry("text", Set.of()),
            Map.entry("compute", Set.of()),
            Map.entry("compute.opencl", Set.of("compute")),
            Map.entry("backends", Set.of("compute", "compute.opencl")),
            Map.entry("nn", Set.of("compute")),
            Map.entry("model", Set.of("compute", "nn", "tokenizer")),
            Map.entry("patch", Set.of("compute", "nn", "model", "tokenizer")),
            Map.entry("io", Set.of("compute", "nn", "tokenizer")),
            Map.entry("generate", Set.of("compute", "nn", "model", "patch", "tokenizer")),
            Map.entry("train", Set.of("compute", "nn", "model", "patch", "io", "tokenizer")),
            Map.entry("viz", Set.of("model", "patch", "train", "tokenizer")),
            Map.entry("bench", Set.of("backends", "compute", "compute.opencl", "nn", "model", "patch", "generate", "train",
                    "io", "tokenizer", "viz")),
            Map.entry("experiment", Set.of("train", "io")),
            Map.entry("cli", Set.of("backends", "compute", "compute.opencl", "nn", "model", "patch", "generate", "train", "io",
                    "tokenizer", "viz", "bench", "text", "experiment")));

    private static final Pattern REFERENCE = Pattern.compile("\\bblt4j\\.([a-z]+(?:\\.opencl)?)\\.[A-Z]");
    private static final Pattern COMMENTS_AND_STRINGS = Pattern.compile("//[^\\n]*|/\\*.*?\\*/|\"(?:\\\\.|[^\"\\\\])*\"",
            Pattern.DOTALL);

    @Test
    void packagesUseOnlyTheLayersBelowThem() throws IOException {
        List<String> violations = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String pkg = MAIN.relativize(f.getParent()).toString().replace('/', '.').replace('\\', '.');
                seen.add(pkg);
                Set<String> allowed = ALLOWED.get(pkg);
                if (allowed == null) {
                    violations.add(f + ": package " + pkg + " has no layering rule; add it to ArchitectureTest");
                    continue;
                }
                String code = COMMENTS_AND_STRINGS.matcher(Files.readString(f)).replaceAll(" ");
                Matcher m = REFERENCE.matcher(code);
                while (m.find()) {
                    String used = m.group(1);
                    if (!used.equals(pkg) && !allowed.contains(used)) {
                        violations.add(MAIN.relativize(f) + " (" + pkg + ") uses " + used);
                    }
                }
            }
        }
        assertTrue(seen.containsAll(Set.of("compute", "model", "patch", "train")), "scan found no sources in " + MAIN);
        assertEquals(List.of(), violations, "layering violations");
    }

    @Test
    void theScanSeesFullyQualifiedNamesToo() {
        String code = COMMENTS_AND_STRINGS.matcher("class A { blt4j.train.Trainer t; // blt4j.cli.Main\n String s = \"blt4j.io.X\"; }")
                .replaceAll(" ");
        Matcher m = REFERENCE.matcher(code);
        assertTrue(m.find());
        assertEquals("train", m.group(1));
        assertTrue(!m.find(), "comments and strings are not dependencies");
    }
}
