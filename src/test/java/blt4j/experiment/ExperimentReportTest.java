package blt4j.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiment report joins runs and evaluations into the tables the issue asks for. */
class ExperimentReportTest {

    @Test
    void scriptFamiliesComeFromTheLetters() {
        assertEquals("Latin", ScriptFamily.of("Hello, world 123".getBytes(StandardCharsets.UTF_8)));
        assertEquals("Cyrillic", ScriptFamily.of("Всеобщая декларация (UDHR)".getBytes(StandardCharsets.UTF_8)));
        assertEquals("Han", ScriptFamily.of("世界人权宣言".getBytes(StandardCharsets.UTF_8)));
        assertEquals("Japanese (kana + Han)", ScriptFamily.of("世界人権宣言のテキストです".getBytes(StandardCharsets.UTF_8)));
        assertEquals("Devanagari", ScriptFamily.of("मानव अधिकारों की सार्वभौम घोषणा".getBytes(StandardCharsets.UTF_8)));
        assertEquals("none", ScriptFamily.of("1234 !?".getBytes(StandardCharsets.UTF_8)));
    }

    private static void run(Path dir, String name, String labels, int step, double flops, String log) throws IOException {
        Path run = dir.resolve("runs").resolve(name);
        Path ckpt = run.resolve(String.format("step-%07d", step));
        Files.createDirectories(ckpt);
        Files.writeString(run.resolve("experiment.json"), labels);
        Files.writeString(ckpt.resolve("state.json"), "{\"step\": " + step + ", \"train_flops\": " + flops + "}");
        Files.writeString(ckpt.resolve("model.safetensors"), "x");
        Files.writeString(run.resolve("latest"), ckpt.getFileName() + "\n");
        Files.writeString(run.resolve(".done"), "");
        Files.createDirectories(dir.resolve("logs"));
        Files.writeString(dir.resolve("logs").resolve(name + ".log"), log);
    }

    private static void eval(Path dir, String run, String tag, double bpb, Path data) throws IOException {
        Files.createDirectories(dir.resolve("evals"));
        Files.writeString(dir.resolve("evals").resolve(run + "@" + tag + ".json"), "{\"kind\": \"x\", \"data\": \""
                + data.toString().replace("\\", "\\\\") + "\", \"bits_per_byte\": " + bpb + ", \"predicted_bytes\": 100, "
                + "\"mean_patch_size\": 4.4, \"forward_flops_per_byte_analytic\": 2.0e6, "
                + "\"forward_flops_per_byte_counted\": 2.1e6, \"parameters\": 1000}");
    }

    @Test
    void tablesJoinRunsAndEvaluations(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("en.txt");
        Files.writeString(text, "plain English text");
        Path ru = dir.resolve("ru.txt");
        Files.writeString(ru, "русский текст", StandardCharsets.UTF_8);
        run(dir, "blt-b1", "{\"group\": \"matched\", \"model\": \"blt\", \"budget\": 1e12, \"train\": \"en\", "
                + "\"target_patch_size\": 4.5, \"global_dim\": 256, \"train_bytes\": 3000}", 40, 1.01e12,
                "trained 30 steps in 10.5 s: 1,000 bytes\ntrained 10 steps in 2.5 s: 500 bytes\n");
        run(dir, "bpe-b1", "{\"group\": \"matched\", \"model\": \"bpe-transformer\", \"budget\": 1e12, \"train\": \"en\", "
                + "\"bpe_vocab\": 4096}", 50, 0.99e12, "");
        run(dir, "blt-p8", "{\"group\": \"patches\", \"model\": \"blt\", \"budget\": 1e12, \"train\": \"en\", "
                + "\"target_patch_size\": 8, \"global_dim\": 384, \"family\": \"wide\"}", 45, 1.0e12, "");
        run(dir, "blt-b1-s2", "{\"group\": \"seeds\", \"model\": \"blt\", \"budget\": 1e12, \"train\": \"en\", "
                + "\"seed\": 2}", 40, 1.0e12, "");
        eval(dir, "blt-b1-s2", "test", 2.625, text);
        eval(dir, "blt-b1", "test", 2.5, text);
        eval(dir, "bpe-b1", "test", 2.25, text);
        eval(dir, "blt-p8", "test", 2.75, text);
        eval(dir, "blt-b1", "noise-0", 2.0, text);
        eval(dir, "blt-b1", "noise-0.1", 2.5, text);
        eval(dir, "blt-b1", "xquad-en", 3.0, text);
        eval(dir, "blt-b1", "xquad-ru", 6.0, ru);
        eval(dir, "bpe-b1", "xquad-ru", 9.0, ru);

        ExperimentResults results = ExperimentResults.read(dir);
        assertEquals(4, results.runs().size());
        assertEquals(13.0, results.runs().get("blt-b1").trainSeconds(), 1e-9, "wall time summed over resumed segments");
        assertEquals(1500, results.runs().get("blt-b1").trainedPositions());
        Path out = dir.resolve("report");
        String md = ExperimentReport.write(results, out);

        List<String> matched = Files.readAllLines(out.resolve("matched.csv"));
        assertEquals(3, matched.size(), String.join("\n", matched));
        assertTrue(matched.get(1).startsWith("blt-b1,blt,1.00e+12,1.01e+12,40,\"1,500\",0.50,13,2.10e+06,2.5000,yes"), matched.get(1));
        assertTrue(matched.get(2).startsWith("bpe-b1,bpe-4096,"), matched.get(2));

        assertEquals(List.of("model,budget,run,seed,test bits/byte,run,seed,test bits/byte,difference",
                "blt,1.00e+12,blt-b1,,2.5000,blt-b1-s2,2,2.6250,+0.1250"), Files.readAllLines(out.resolve("seeds.csv")));

        List<String> patches = Files.readAllLines(out.resolve("patches.csv"));
        assertEquals(3, patches.size(), "the matched BLT at the patch runs' budget joins the family");
        assertTrue(patches.get(1).startsWith("main (every family),blt-b1,4.5,256,"), patches.get(1));
        assertTrue(patches.get(2).startsWith("wide,blt-p8,8.0,384,"), patches.get(2));

        List<String> noise = Files.readAllLines(out.resolve("noise.csv"));
        assertEquals("blt-b1,blt,0.10,2.5000,+0.5000,+25.0%", noise.get(2));

        List<String> xquad = Files.readAllLines(out.resolve("languages-xquad.csv"));
        assertEquals("Cyrillic,ru,6.000,9.000", xquad.get(1));
        assertEquals("Latin,en,3.000,", xquad.get(2));
        assertTrue(md.contains("### Matched training FLOPs") && md.contains("### Noise"), md);
        for (String png : List.of("matched.png", "patches.png", "noise.png", "languages-xquad.png")) {
            assertTrue(Files.size(out.resolve(png)) > 1000, png);
        }
    }

    @Test
    void aFolderWithoutRunsIsRefused(@TempDir Path dir) {
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> ExperimentResults.read(dir))
                .getMessage().contains("not an experiment folder"));
    }
}
