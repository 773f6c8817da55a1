package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line parses: every subcommand has help, and bad input gets a clear one-line error. */
class CliTest {

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int code = cmd.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void everySubcommandHasHelp() {
        CommandLine cmd = Main.commandLine();
        for (String name : cmd.getSubcommands().keySet()) {
            String[] r = run(name, "--help");
            assertEquals("0", r[0], name + " --help failed: " + r[2]);
            assertTrue(r[1].contains("Usage"), name + " --help printed no usage");
        }
    }

    @Test
    void versionNamesTheProject() {
        String[] r = run("--version");
        assertEquals("0", r[0]);
        assertTrue(r[1].startsWith("blt4j "), r[1]);
    }

    @Test
    void missingInputIsAClearError() {
        String[] r = run("entropy", "--checkpoint", "/nonexistent/run", "/nonexistent/file.txt");
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("not found"), r[2]);
    }

    @Test
    void unknownBackendIsAnErrorNotAFallback() {
        String[] r = run("patch", "--scheme", "space", "--backend", "quantum", "pom.xml");
        assertTrue(r[2].contains("unknown backend") || r[0].equals("0"), r[2]);
    }
}
