package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
        // space patching needs no backend at all: the flag must still be refused, before the command runs
        String[] r = run("patch", "--scheme", "space", "--backend", "quantum", "pom.xml");
        assertNotEquals("0", r[0], "an unknown backend was accepted");
        assertTrue(r[2].contains("unknown backend 'quantum'"), r[2]);
        String[] t = run("patch", "--scheme", "space", "--threads", "-3", "pom.xml");
        assertNotEquals("0", t[0]);
        assertTrue(t[2].contains("--threads"), t[2]);
    }
}
