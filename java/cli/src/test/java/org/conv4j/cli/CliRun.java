package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

/** The result of running the CLI in-process: exit status and what it printed. */
record CliRun(int exit, String out, String err) {
    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new CliRun(exit, out.toString(), err.toString());
    }

    /** Exit 2 with exactly one "conv4j: error: " line on stderr and no stack trace; returns that line. */
    String assertOneLineError() {
        assertEquals(Main.EXIT_USAGE, exit, "exit status; stderr: " + err + " stdout: " + out);
        String[] lines = err.strip().split("\\R");
        assertEquals(1, lines.length, "stderr lines: " + err);
        assertTrue(lines[0].startsWith("conv4j: error: "), lines[0]);
        assertFalse(err.contains("\tat ") || err.contains("Exception in thread"), err);
        return lines[0];
    }
}
