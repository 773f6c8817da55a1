package blt4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code blt} command line. */
@Command(name = "blt", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Byte Latent Transformer in Java: tokenizer-free byte LMs on reference, cpu and opencl backends.",
        subcommands = {
            DemoCommand.class,
            DevicesCommand.class,
            TrainEntropyCommand.class,
            EntropyCommand.class,
            PatchCommand.class,
            TrainCommand.class,
            EvalCommand.class,
            NoiseCommand.class,
            ExperimentReportCommand.class,
            GenerateCommand.class,
            ForwardCommand.class,
            BenchCommand.class,
            InspectCommand.class,
            ConvertCommand.class,
            InitCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (also used by tests). */
    static CommandLine commandLine() {
        return new CommandLine(new Main()).setExecutionExceptionHandler(Main::reportError)
                .setParameterExceptionHandler(Main::reportParseError);
    }

    /**
     * A bad command line prints one line naming the command and the problem (for a value an option setter refused,
     * the setter's own message), then where to find the usage; exit code 2.
     */
    private static int reportParseError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        Throwable cause = e.getCause();
        String message = cause instanceof FlagException ? cause.getMessage() : e.getMessage();
        String name = cmd.getCommandSpec().qualifiedName();
        err.println(name + ": " + message);
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
            err.println("Try '" + name + " --help' for usage.");
        }
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** Errors a user can act on print one clear line, not a stack trace (set BLT_DEBUG=1 for the trace). */
    private static int reportError(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        cmd.getErr().println("blt " + cmd.getCommandName() + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        if (System.getenv("BLT_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
        }
        return 1;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"blt4j " + (v == null ? "dev" : v) + " (Java " + System.getProperty("java.version") + ")"};
        }
    }
}
