package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.backends.Backends;
import blt4j.compute.Backend;
import blt4j.generate.Generator;
import blt4j.generate.Sampler;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.PatchingConfig;
import blt4j.train.ModelFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import picocli.CommandLine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * On a BLT trained here (blt-micro, a few seconds on the start of tinyshakespeare, patched by the fixture's trained
 * entropy model), so its greedy choices are not the near-ties of random weights: speculative greedy output equals
 * plain cached output equals full recomputation, for global and monotonic patching, several prompts and k; and
 * batched output equals one prompt at a time.
 */
class TrainedModelGenerationTest {
    @TempDir
    static Path tmp;

    static Path run;

    private static final String[] PROMPTS = {"First Citizen:\n", "ROMEO:\nBut soft, what light", "KING RICHARD III:\nNow is the"};

    @BeforeAll
    static void train() throws Exception {
        byte[] text = Files.readAllBytes(SharedData.file("data/tinyshakespeare.txt"));
        Path data = Files.write(tmp.resolve("shakespeare-60k.txt"), Arrays.copyOf(text, 60_000));
        run = tmp.resolve("run");
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        StringWriter err = new StringWriter();
        cmd.setErr(new PrintWriter(err));
        PrintStream old = System.out;
        int code;
        try {
            System.setOut(new PrintStream(new ByteArrayOutputStream()));
            code = cmd.execute("train", "--model", "blt-micro", "-e", SharedData.bltMicro().toString(), "--data",
                    data.toString(), "-o", run.toString(), "--steps", "120", "--batch", "4", "--seq-len", "256", "--lr", "3e-3",
                    "--warmup", "10", "--target-patch-size", "4.5", "--eval-every", "0", "--backend", "cpu");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code, err.toString());
    }

    private static Generator generator(PatchingConfig patching, Backend backend) throws Exception {
        ByteLatentTransformer blt = ModelFiles.loadBlt(run, backend);
        return new Generator(blt, ModelFiles.patchingScheme(run, patching == null ? blt.config().patching() : patching, backend));
    }

    @ParameterizedTest(name = "{0}, monotonic {1}")
    @CsvSource({"cpu, false", "cpu, true", "opencl, false"})
    void speculativeEqualsPlainEqualsFullRecomputation(String backendName, boolean monotonic) throws Exception {
        try (Backend backend = blt4j.TestBackends.create(backendName)) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(run, backend);
            PatchingConfig patching = monotonic ? new PatchingConfig("entropy", 0.4, null, true, null, 4.5) : null;
            Generator gen = generator(patching, backend);
            int n = 60;
            for (String p : PROMPTS) {
                byte[] prompt = p.getBytes(StandardCharsets.UTF_8);
                byte[] full = gen.generateFullRecompute(prompt, n);
                Generator.Result plain = gen.generate(prompt, n, Sampler.greedy(), b -> { });
                assertArrayEquals(full, plain.bytes(), "plain cached vs full recomputation after '" + p + "'");
                for (int k : new int[] {2, 4, 8}) {
                    Generator.Result spec = gen.generateSpeculative(prompt, n, k, null, b -> { });
                    assertArrayEquals(plain.bytes(), spec.bytes(), "speculative k=" + k + " after '" + p + "'");
                    assertTrue(spec.acceptanceRate() > 0.5, "a trained model's drafts should mostly hold: " + spec.acceptanceRate());
                }
            }
            assertTrue(blt.config().patchingThreshold != null);
        }
    }

    @ParameterizedTest
    @CsvSource({"cpu, 0", "cpu, 0.8", "reference, 0"})
    void batchedEqualsOneAtATime(String backendName, double temperature) throws Exception {
        try (Backend backend = Backends.create(backendName, 2, null)) {
            Generator gen = generator(null, backend);
            List<byte[]> prompts = new ArrayList<>();
            List<IntConsumer> sinks = new ArrayList<>();
            for (String p : PROMPTS) {
                prompts.add(p.getBytes(StandardCharsets.UTF_8));
                sinks.add(b -> { });
            }
            Sampler sampler = new Sampler(temperature, 0.9, 3);
            List<Generator.Result> batched = gen.generateBatch(prompts, 50, sampler, null, sinks);
            for (int i = 0; i < PROMPTS.length; i++) {
                assertArrayEquals(gen.generate(prompts.get(i), 50, sampler.fresh(), b -> { }).bytes(), batched.get(i).bytes(),
                        "prompt " + i);
            }
        }
    }
}
