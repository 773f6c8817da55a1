package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.model.BltConfig;
import blt4j.model.BpeTransformer;
import blt4j.train.Checkpoint;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train --model bpe-transformer, eval on other text, resume, and noise, through the command line. */
class BpeBaselineCliTest {

    private static String run(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.commandLine().execute(args);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, String.join(" ", args) + " failed:\n" + out);
        return out;
    }

    @Test
    void trainsEvaluatesAndResumes(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("train.txt");
        java.util.Random rnd = new java.util.Random(3);
        String[] words = "the of and to in is was for on that with as by at from his her an which or were are be this".split(" ");
        StringBuilder text = new StringBuilder();
        while (text.length() < 20_000) {
            text.append(words[rnd.nextInt(words.length)]).append(rnd.nextInt(12) == 0 ? ".\n" : " ");
            if (rnd.nextInt(5) == 0) {
                text.append((char) ('a' + rnd.nextInt(26))).append((char) ('a' + rnd.nextInt(26))).append(' ');
            }
        }
        Files.writeString(data, text);
        Path other = dir.resolve("other.txt");
        Files.writeString(other, "Ο γρήγορος καφέ αλεπού, a different text entirely.\n".repeat(20));
        Path config = dir.resolve("micro.json");
        Files.writeString(config, BltConfig.micro().toJson());
        Path run = dir.resolve("run");
        String[] train = {"train", "--model", "bpe-transformer", "--config", config.toString(), "--data", data.toString(),
            "--bpe-vocab", "320", "--steps", "6", "--batch", "2", "--seq-len", "16", "--eval-every", "3",
            "--checkpoint-every", "3", "--eval-batches", "2", "-o", run.toString()};
        String out = run(train);
        assertTrue(out.contains("bpe: 320 ids"), out);
        assertTrue(out.contains("2 rows x 16 tokens per step"), out);
        Path latest = Checkpoint.latestDir(run);
        assertTrue(Files.isRegularFile(latest.resolve(BpeTransformer.MERGES_FILE)), "merges next to the checkpoint");
        assertTrue(Files.isRegularFile(run.resolve(BpeTransformer.MERGES_FILE)));

        Path json = dir.resolve("eval.json");
        String eval = run("eval", "-c", run.toString(), "--data", other.toString(), "--held-out", "1", "--seq-len", "32",
                "--json", json.toString());
        assertTrue(eval.contains("bpe-transformer on"), eval);
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertEquals("bpe-transformer", o.get("kind").getAsString());
        assertEquals(Files.size(other) + 2, o.get("predicted_bytes").getAsLong(), "every byte of the text (+ BOS, EOS) is scored");
        double bpt = o.get("bytes_per_token").getAsDouble();
        assertEquals((double) (Files.size(other) + 2) / o.get("tokens").getAsLong(), bpt, 1e-9);
        assertTrue(bpt >= 1, "a token stands for at least one byte: " + bpt);
        double bpb = o.get("bits_per_byte").getAsDouble();
        assertTrue(bpb > 0 && bpb < 20, "bits/byte " + bpb);

        String[] more = train.clone();
        more[java.util.Arrays.asList(more).indexOf("6")] = "9";
        String[] resumed = java.util.Arrays.copyOf(more, more.length + 2);
        resumed[more.length] = "--resume";
        resumed[more.length + 1] = "--override-resume-options";
        String again = run(resumed);
        assertTrue(again.contains("resumed bpe-transformer at step 6"), again);
        assertTrue(!again.contains("training a"), "a resumed run reuses its merges: " + again);
        assertTrue(Checkpoint.latestDir(run).getFileName().toString().endsWith("9"));
    }

    @Test
    void aTrainingFlopBudgetSetsTheSteps(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("train.txt");
        Files.writeString(data, "a small text to train on, repeated. ".repeat(300));
        Path run = dir.resolve("run");
        double budget = 2e10;
        String out = run("train-entropy", "--data", data.toString(), "--train-flops", Double.toString(budget), "--batch", "2",
                "--seq-len", "64", "--held-out", "0", "--warmup", "50", "-o", run.toString());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("-> ([0-9,]+) steps").matcher(out);
        assertTrue(m.find(), out);
        int steps = Integer.parseInt(m.group(1).replace(",", ""));
        assertTrue(steps > 1, out);
        assertTrue(out.contains("warm-up " + steps / 5 + " steps"), "warm-up shortened to a fifth of a short run: " + out);
        JsonObject state = JsonParser.parseString(Files.readString(Checkpoint.latestDir(run).resolve("state.json")))
                .getAsJsonObject();
        assertEquals(steps, state.get("step").getAsInt());
        double used = state.get("train_flops").getAsDouble();
        assertTrue(Math.abs(used - budget) < 0.05 * budget, "used " + used + " of a budget of " + budget);
    }

    @Test
    void noiseWritesASeededCopy(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.txt");
        Files.writeString(in, "some words to edit here\n".repeat(500));
        Path a = dir.resolve("a.txt");
        Path b = dir.resolve("b.txt");
        String out = run("noise", in.toString(), "-o", a.toString(), "--delete", "0.1", "--seed", "4");
        assertTrue(out.contains("deleted"), out);
        run("noise", in.toString(), "-o", b.toString(), "--delete", "0.1", "--seed", "4");
        assertEquals(Files.readString(a), Files.readString(b));
        assertTrue(Files.size(a) < Files.size(in) * 0.95);
        assertTrue(Main.commandLine().execute("noise", in.toString(), "-o", a.toString(), "--rate", "0.5") != 0,
                "rates adding up to more than 1 are refused");
    }
}
