package blt4j.cli;

import blt4j.io.AtomicFiles;
import blt4j.text.TextNoise;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blt noise}: a seeded noised copy of a text, for robustness evaluation. */
@Command(name = "noise", mixinStandardHelpOptions = true,
        description = {"Write a noised copy of a text: each non-whitespace character is deleted, substituted, swapped "
                + "with the next, case-flipped or preceded by an inserted character, with the stated probabilities "
                + "(substitutes and insertions are drawn from the text's own characters; whitespace is never edited).",
            "The same input, rates and seed always give the same output. Prints the edits made and their rates."})
final class NoiseCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Input text (any bytes; UTF-8 characters are edited whole).")
    Path input;

    @Option(names = {"-o", "--out"}, required = true, description = "Output file (written atomically).")
    Path out;

    @Option(names = "--rate", description = "Probability per character of every edit kind at once (each kind gets it).")
    Double rate;

    @Option(names = "--delete", defaultValue = "0", description = "Deletion probability per character.")
    double delete;

    @Option(names = "--substitute", defaultValue = "0", description = "Substitution probability per character.")
    double substitute;

    @Option(names = "--swap", defaultValue = "0", description = "Probability of swapping a character with the next one.")
    double swap;

    @Option(names = "--case", defaultValue = "0", description = "Case-flip probability per character.")
    double caseFlip;

    @Option(names = "--insert", defaultValue = "0", description = "Insertion probability per character.")
    double insert;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws IOException {
        TextNoise.Rates rates;
        try {
            rates = rate != null ? TextNoise.Rates.each(rate) : new TextNoise.Rates(delete, substitute, swap, caseFlip, insert);
        } catch (IllegalArgumentException e) {
            throw new FlagException(e.getMessage());
        }
        if (!Files.isRegularFile(input)) {
            throw new IOException("input " + input + " not found or not a regular file");
        }
        if (Files.exists(out) && Files.isSameFile(input, out)) {
            throw new FlagException("--out must not be the input file");
        }
        TextNoise.Result r = TextNoise.apply(Files.readAllBytes(input), rates, seed);
        byte[] text = r.text();
        AtomicFiles.writeAtomically(out, tmp -> Files.write(tmp, text));
        long n = Math.max(1, r.characters());
        System.out.printf("%s -> %s: %,d editable characters, %,d edits (%.4f per character): deleted %,d (%.4f), "
                        + "substituted %,d (%.4f), swapped %,d (%.4f), case-flipped %,d (%.4f), inserted %,d (%.4f); seed %d%n",
                input, out, r.characters(), r.edits(), (double) r.edits() / n, r.deleted(), (double) r.deleted() / n,
                r.substituted(), (double) r.substituted() / n, r.swapped(), (double) r.swapped() / n, r.caseFlipped(),
                (double) r.caseFlipped() / n, r.inserted(), (double) r.inserted() / n, seed);
        return 0;
    }
}
