package blt4j.cli;

import blt4j.experiment.ExperimentReport;
import blt4j.experiment.ExperimentResults;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blt experiment-report}: tables, CSVs and figures of an experiment folder. */
@Command(name = "experiment-report", mixinStandardHelpOptions = true,
        description = {"Tables (markdown), CSVs and PNG figures of a folder written by scripts/experiments.sh: bits/byte "
                + "against training FLOPs for BLT, the BPE model and the byte model; against inference FLOPs per byte for "
                + "the patch sizes; degradation under noise; bits/byte per script family.",
            "A partial experiment gives partial tables."})
final class ExperimentReportCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Experiment folder (holds runs/ and evals/).")
    Path dir;

    @Option(names = {"-o", "--out"}, description = "Output folder (default: DIR/report).")
    Path out;

    @Override
    public Integer call() throws Exception {
        ExperimentResults results = ExperimentResults.read(dir);
        Path target = out != null ? out : dir.resolve("report");
        System.out.print(ExperimentReport.write(results, target));
        System.out.printf("%d runs, %d evaluations; tables, CSVs and figures in %s%n", results.runs().size(),
                results.evals().size(), target);
        return 0;
    }
}
