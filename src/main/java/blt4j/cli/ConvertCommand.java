package blt4j.cli;

import blt4j.train.ModelExport;
import blt4j.train.ModelFolder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code blt convert SRC -o OUT}: any layout blt4j reads, written as the reference or Hugging Face layout. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Write the BLT and entropy model of a folder (any layout 'blt inspect' names) in the released "
                + "reference layout or the Hugging Face port's (reference names <-> HF names with the hash tables fused), "
                + "as f32, bf16 or f16, in one file or in shards. Tensors stream through; nothing is loaded whole.")
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Source model folder.")
    Path source;

    @Mixin
    ExportOptions export = new ExportOptions();

    @Override
    public Integer call() throws Exception {
        ModelExport.Options o = export.options();
        ModelFolder from = ModelFolder.open(source);
        long start = System.nanoTime();
        ModelExport.convert(from, export.out, o);
        System.out.printf("blt convert: %s (%s) -> %s (%s, %s%s) in %.1f s%n", source, from.layout().description(),
                export.out, o.target() == ModelExport.Target.HF ? "Hugging Face layout" : "reference layout", o.dtype(),
                o.shardBytes() > 0 ? ", shards of " + o.shardBytes() + " bytes" : "", (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
