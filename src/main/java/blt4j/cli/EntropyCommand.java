package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.model.EntropyModel;
import blt4j.patch.EntropyScorer;
import blt4j.train.ModelFiles;
import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blt entropy FILE}: next-byte entropy of every byte, streamed in bounded memory. */
@Command(name = "entropy", mixinStandardHelpOptions = true,
        description = {"Score the next-byte entropy (nats) of every byte of FILE with an entropy model. Prints TSV "
                + "(position, token id, byte, entropy) and a summary on stderr.",
            "Like the reference, the token stream ([BOS] + bytes) is cut into rows of max_seqlen (8192) tokens scored "
                + "independently: the context restarts at every row edge, so the first bytes of each row see no history."})
final class EntropyCommand implements Callable<Integer> {
    @Mixin
    BackendOptions backendOptions = new BackendOptions();

    @Option(names = {"-c", "--checkpoint"}, required = true, description = "Entropy model: a training run, a checkpoint folder or a reference-layout folder.")
    Path checkpoint;

    @Option(names = "--out", description = "Write the TSV here instead of standard output.")
    Path out;

    @Option(names = "--summary", description = "Print only the summary.")
    boolean summaryOnly;

    @Parameters(index = "0", description = "Input file (any bytes; '-' for standard input).")
    String file;

    @Override
    public Integer call() throws Exception {
        if (!"-".equals(file)) {
            PatchCommand.requireInputFile(Path.of(file));
        }
        if (out != null && Files.isDirectory(out)) {
            throw new java.io.IOException("--out " + out + " is a folder, not a file");
        }
        ModelFiles.resolve(checkpoint);
        try (Backend backend = backendOptions.create()) {
            EntropyModel model = ModelFiles.loadEntropyModel(checkpoint, backend);
            EntropyScorer scorer = new EntropyScorer(model);
            long start = System.nanoTime();
            double[] sum = new double[1];
            try (InputStream in = "-".equals(file) ? System.in : new BufferedInputStream(Files.newInputStream(Path.of(file)));
                 Writer w = summaryOnly ? Writer.nullWriter() : new BufferedWriter(new OutputStreamWriter(
                         out == null ? System.out : Files.newOutputStream(out), StandardCharsets.UTF_8), 1 << 16)) {
                w.write("position\ttoken\tbyte\tentropy_nats\n");
                long n = scorer.score(in, true, (pos, token, h) -> {
                    sum[0] += h;
                    w.write(pos + "\t" + token + "\t" + (token >= 4 ? Integer.toString(token - 4) : "") + "\t" + h + "\n");
                });
                w.flush();
                double secs = (System.nanoTime() - start) / 1e9;
                System.err.printf("%,d tokens ([BOS] + %,d bytes), mean entropy %.4f nats, %,.0f bytes/s on %s%n",
                        n, n - 1, sum[0] / Math.max(1, n), (n - 1) / secs, backend.name());
            }
        }
        return 0;
    }
}
