package blt4j.cli;

import blt4j.backends.Backends;

import blt4j.train.Checkpoint;
import blt4j.train.Corpus;
import blt4j.train.UnigramBaseline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.io.ByteArrayOutputStream;
import java.util.Locale;

/**
 * {@code blt demo}: the main job end to end on the cpu backend and the embedded corpus — train an entropy model,
 * show its patches, train a small BLT on them, compare with a unigram model and generate a sample.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a small entropy model and a small BLT on the embedded corpus (blt4j's own sources and docs), "
                + "show patches, held-out bits/byte against a unigram model, and a generated sample. About 5 minutes on 2 cores.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/demo", description = "Folder for the demo's runs and figures (default: ${DEFAULT-VALUE}).")
    Path out;

    double minutes;

    @Option(names = "--minutes", defaultValue = "5", description = "Total training time budget (default: ${DEFAULT-VALUE}).")
    void setMinutes(double m) {
        minutes = FlagException.finitePositive("--minutes", m);
    }

    String backend;

    @Option(names = {"-b", "--backend"}, defaultValue = "cpu", description = "Backend (default: ${DEFAULT-VALUE}).")
    void setBackend(String b) {
        FlagException.require(Backends.NAMES.contains(b), "unknown backend '" + b + "' (known: " + String.join(", ", Backends.NAMES) + ")");
        backend = b;
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        section("1/5", "devices");
        new DevicesCommand().call();

        section("2/5", "data: the embedded corpus");
        Corpus all = Corpus.embedded();
        Corpus[] split = all.split(0.1);
        double unigram = UnigramBaseline.bitsPerByte(split[0], split[1]);
        System.out.printf("%,d bytes in %d files; unigram byte model on the held-out 10%%: %.3f bits/byte%n",
                all.bytes(), all.documents(), unigram);

        section("3/5", "train the entropy model (entropy-tiny)");
        Path entropy = out.resolve("entropy");
        Checkpoint.deleteRun(entropy); // the demo starts its runs afresh
        Checkpoint.deleteRun(out.resolve("blt"));
        TrainEntropyCommand te = new TrainEntropyCommand();
        run(te, "--backend", backend, "--out", entropy.toString(), "--steps", "400", "--minutes", fmt(minutes * 0.35),
                "--batch", "8", "--seq-len", "256", "--lr", "3e-3", "--warmup", "30", "--eval-every", "100",
                "--eval-batches", "8", "--checkpoint-every", "100", "--log-every", "25");

        section("4/5", "patches of a held-out paragraph");
        Path paragraph = out.resolve("held-out-paragraph.txt");
        Files.write(paragraph, heldOutParagraph(split[1]));
        run(new PatchCommand(), "--backend", backend, paragraph.toString(), "--checkpoint", entropy.toString(),
                "--target-patch-size", "4.5", "--show", "500",
                "--html", out.resolve("patches.html").toString(), "--png", out.resolve("patches.png").toString());

        section("5/5", "train a small BLT (blt-demo) on those patches, then generate");
        Path blt = out.resolve("blt");
        TrainCommand tb = new TrainCommand();
        run(tb, "--backend", backend, "--model", "blt-demo", "--entropy-model", entropy.toString(), "--out", blt.toString(),
                "--steps", "600", "--minutes", fmt(minutes * 0.55), "--batch", "4", "--seq-len", "512", "--lr", "2e-3",
                "--warmup", "30", "--eval-every", "100", "--eval-batches", "8", "--checkpoint-every", "100", "--log-every", "25");
        run(new GenerateCommand(), "--backend", backend, "--checkpoint", blt.toString(), "--prompt", "public static ",
                "--max-bytes", "200", "--temperature", "0.7", "--seed", "7");

        System.out.println();
        System.out.println("== summary");
        System.out.printf("unigram baseline       : %.3f bits/byte (held-out)%n", unigram);
        if (te.lastResult != null) {
            System.out.printf("entropy model          : %.3f bits/byte%n", te.lastResult.bitsPerByte());
        }
        if (tb.lastResult != null) {
            double bpb = tb.lastResult.bitsPerByte();
            System.out.printf("BLT (blt-demo)         : %.3f bits/byte, %.3f better than unigram%n", bpb, unigram - bpb);
        }
        System.out.println("figures and checkpoints: " + out);
        return 0;
    }

    private static void section(String step, String title) {
        System.out.println();
        System.out.println("== [" + step + "] " + title);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static void run(Object command, String... args) {
        int code = new CommandLine(command).execute(args);
        if (code != 0) {
            throw new IllegalStateException("demo step failed: " + String.join(" ", args));
        }
    }

    /** A paragraph-sized piece of the held-out text, cut at line boundaries. */
    private static byte[] heldOutParagraph(Corpus heldOut) {
        int from = Math.min(heldOut.length() / 3, Math.max(0, heldOut.length() - 600));
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        boolean started = false;
        for (int i = from; i < heldOut.length() && b.size() < 500; i++) {
            int t = heldOut.id(i);
            if (t < 4) {
                continue;
            }
            if (!started) {
                started = (t - 4) == '\n';
                continue;
            }
            b.write(t - 4);
        }
        return b.toByteArray();
    }
}
