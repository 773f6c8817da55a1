package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.model.BltConfig;
import blt4j.model.BpeTransformer;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.model.FlopModel;
import blt4j.model.Batch;
import blt4j.patch.CorpusPatching;
import blt4j.patch.PatchingScheme;
import blt4j.train.Batcher;
import blt4j.train.Corpus;
import blt4j.train.ModelFiles;
import blt4j.model.TrainableModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import java.io.IOException;
import blt4j.io.AtomicFiles;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;

/** {@code blt eval}: held-out bits per byte, mean patch size and FLOPs per byte (analytic and counted). */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a BLT, byte-transformer, bpe-transformer or entropy-model checkpoint: bits/byte = Σ "
                + "next-token loss (nats) / (ln 2 · predicted bytes), where a BPE token counts the bytes it stands for; for BLT also mean patch size and forward FLOPs per byte, from the analytic "
                + "formulas and from the backend's FLOP counter.")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    BackendOptions backendOptions = new BackendOptions();

    @Option(names = {"-c", "--checkpoint"}, required = true, description = "Run or checkpoint folder.")
    Path checkpoint;

    @Option(names = "--data", description = "Text to evaluate on (default: the embedded corpus).")
    Path data;

    @Option(names = "--held-out", defaultValue = "0.1", description = "Evaluate on this last fraction of --data (1 = all of it; default: ${DEFAULT-VALUE}, the training split).")
    void setHeldOut(double v) {
        FlagException.require(v > 0 && v <= 1, "--held-out must be in (0, 1] (1 = all of --data), got " + v);
        heldOut = v;
    }

    double heldOut;

    @Option(names = "--seq-len", defaultValue = "1024", description = "Bytes per evaluated row; tokens for a bpe-transformer (default: ${DEFAULT-VALUE}).")
    void setSeqLen(int v) {
        seqLen = FlagException.inRange("--seq-len", v, 1, BltConfig.MAX_SEQ);
    }

    int seqLen;

    @Option(names = "--max-rows", defaultValue = "0", description = "Evaluate at most this many rows (0 = all).")
    void setMaxRows(int v) {
        maxRows = FlagException.atLeast("--max-rows", v, 0);
    }

    int maxRows;

    @Option(names = "--json", description = "Also write the numbers to this JSON file (for experiment scripts).")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (data != null && !Files.exists(data)) {
            throw new java.io.IOException("--data " + data + " not found");
        }
        ModelFiles.resolve(checkpoint);
        Corpus all = data == null ? Corpus.embedded() : Corpus.load(data);
        Corpus corpus = heldOut >= 1 ? all : all.split(heldOut)[1];
        String kind = ModelFiles.kindOf(checkpoint);
        try (Backend backend = backendOptions.create()) {
            TrainableModel model;
            Batch[] rows;
            double analytic = 0;
            long streamTokens = 0;
            if ("blt".equals(kind)) {
                ByteLatentTransformer blt = ModelFiles.loadBlt(checkpoint, backend);
                PatchingScheme scheme = ModelFiles.patchingScheme(checkpoint, blt.config().patching(), backend);
                System.out.println("patching: " + scheme.config().describe());
                CorpusPatching patching = CorpusPatching.score(corpus.ids(), corpus.source(), scheme.entropyModel(), System.out);
                rows = Batcher.evaluationBatches(corpus, 1, seqLen, maxRows, patching.patches(scheme));
                model = blt;
                for (Batch b : rows) {
                    analytic += FlopModel.bltForward(blt.config(), seqLen, b.patchLengths()[0].length);
                }
            } else if (BpeTransformer.KIND.equals(kind)) {
                BpeTransformer bpe = ModelFiles.loadBpeTransformer(checkpoint, backend);
                Corpus tokens = corpus.retokenized(bpe.tokenizer());
                streamTokens = tokens.length();
                int n = Math.min(seqLen, bpe.lm().config().maxSeqlen);
                rows = Batcher.evaluationBatches(tokens, 1, n, maxRows, null);
                System.out.printf("bpe: %,d ids; %,d byte-stream positions in %,d tokens (%.3f per token); rows of %d tokens%n",
                        bpe.tokenizer().vocabSize(), corpus.positions(), tokens.length(),
                        (double) corpus.positions() / tokens.length(), n);
                model = bpe;
                for (Batch b : rows) {
                    analytic += FlopModel.lmForward(bpe.lm().config(), b.seqLen());
                }
            } else {
                EntropyModel lm = ModelFiles.loadEntropyModel(checkpoint, backend);
                rows = Batcher.evaluationBatches(corpus, 1, Math.min(seqLen, lm.config().maxSeqlen), maxRows, null);
                model = lm;
                for (Batch b : rows) {
                    analytic += FlopModel.lmForward(lm.config(), b.seqLen());
                }
            }
            double nats = 0;
            long predicted = 0;
            long patches = 0;
            long bytes = 0;
            backend.resetFlops();
            long start = System.nanoTime();
            for (Batch b : rows) {
                int n = b.counted();
                nats += model.evaluateLoss(b) * n;
                predicted += b.predictedBytes();
                // a BPE row stands for the bytes of its tokens; a byte row is its length
                bytes += b.positions() < 0 ? b.seqLen() : b.predictedBytes();
                if (b.patchLengths() != null) {
                    patches += b.patchLengths()[0].length;
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            double counted = backend.flops();
            System.out.printf("%s on %s (%,d rows of %d %s): %.4f bits/byte over %,d predicted bytes, %,.0f bytes/s%n",
                    kind, corpus.source(), rows.length, rows.length == 0 ? 0 : rows[0].seqLen(),
                    BpeTransformer.KIND.equals(kind) ? "tokens" : "bytes", nats / predicted / Math.log(2), predicted, bytes / secs);
            if (patches > 0) {
                // patch counts include the BOS patch and the next-byte slot of every row
                System.out.printf("mean patch size: %.3f bytes (%,d patches over %,d bytes, BOS and next-slot patches included)%n",
                        (double) bytes / patches, patches, bytes);
            }
            System.out.printf("forward FLOPs per byte: analytic %.4g, counted by the backend %.4g (counted/analytic %.4f)%n",
                    analytic / bytes, counted / bytes, counted / analytic);
            if (json != null) {
                JsonObject o = new JsonObject();
                o.addProperty("kind", kind);
                o.addProperty("checkpoint", checkpoint.toString());
                o.addProperty("data", corpus.source());
                o.addProperty("bits_per_byte", nats / predicted / Math.log(2));
                o.addProperty("predicted_bytes", predicted);
                o.addProperty("rows", rows.length);
                o.addProperty("mean_patch_size", patches > 0 ? (double) bytes / patches : null);
                o.addProperty("forward_flops_per_byte_analytic", analytic / bytes);
                o.addProperty("forward_flops_per_byte_counted", counted / bytes);
                o.addProperty("parameters", model.parameters().size());
                if (streamTokens > 0) {
                    // how well the tokenizer compresses this text: byte-stream positions per BPE token
                    o.addProperty("tokens", streamTokens);
                    o.addProperty("bytes_per_token", (double) corpus.positions() / streamTokens);
                }
                o.addProperty("seconds", secs);
                AtomicFiles.writeString(json, new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n");
            }
        }
        return 0;
    }
}
