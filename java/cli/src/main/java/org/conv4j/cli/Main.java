package org.conv4j.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.conv4j.Activation;
import org.conv4j.Algorithm;
import org.conv4j.Backend;
import org.conv4j.Conv4j;
import org.conv4j.DataFormat;
import org.conv4j.Padding;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * Entry point of the conv4j command-line tool. Every failure ends as exit status {@link #EXIT_USAGE}
 * with a single {@code conv4j: error: ...} line on stderr, never a stack trace.
 */
@Command(name = "conv4j",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        subcommands = {DemoCommand.class, InfoCommand.class, ConvCommand.class, GradCommand.class, PredictCommand.class,
            SummaryCommand.class, BenchCommand.class},
        description = "Float32 Conv1D/Conv2D with Keras semantics (native C core or pure-Java backend).")
public final class Main implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    /** The command ran but its result is wrong (e.g. demo backends disagree). */
    public static final int EXIT_FAILURE = 1;
    /** Bad arguments, unreadable input or any other error. */
    public static final int EXIT_USAGE = 2;

    static final String ERROR_PREFIX = "conv4j: error: ";

    /*
     * The library logs a multi-line java.util.logging warning when it falls back to Java; every command
     * already reports the backend it used, and conv's error contract is a single stderr line.
     * Held in a field because java.util.logging forgets the settings of collected loggers.
     */
    private static final Logger LIBRARY_LOGGER = Logger.getLogger("org.conv4j");

    static {
        LIBRARY_LOGGER.setLevel(Level.OFF);
        // jHDF (predict, summary) logs through SLF4J, which without a provider prints three warning
        // lines on stderr; the error contract is one line.
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
    }

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: use demo, info, conv, grad, predict, summary or bench");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs with the process' stdout and stderr; returns the exit status instead of exiting. */
    public static int run(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the tool in-process; {@code out} and {@code err} receive what it prints. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        try {
            return newCommandLine(out, err).execute(args);
        } catch (Throwable t) { // Errors (e.g. LinkageError, OutOfMemoryError) bypass picocli's handlers
            err.println(errorLine(t));
            return EXIT_USAGE;
        } finally {
            out.flush();
            err.flush();
        }
    }

    static CommandLine newCommandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.registerConverter(Padding.class, text -> convert(() -> Padding.parse(text)));
        cl.registerConverter(Activation.class, text -> convert(() -> Activation.parse(text)));
        cl.registerConverter(DataFormat.class, text -> convert(() -> DataFormat.parse(text)));
        cl.registerConverter(Backend.class, text -> convert(() -> Backend.parse(text)));
        cl.registerConverter(Algorithm.class, text -> convert(() -> Algorithm.parse(text)));
        cl.setParameterExceptionHandler((ex, args) -> {
            String hint = ex.getCommandLine().getCommandSpec().qualifiedName();
            ex.getCommandLine().getErr().println(ERROR_PREFIX + oneLine(ex.getMessage())
                    + " (see '" + hint + " --help')");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println(errorLine(ex));
            return EXIT_USAGE;
        });
        return cl;
    }

    /** Turns the library's IllegalArgumentException into picocli's "Invalid value for option" error. */
    private static <T> T convert(Callable<T> parse) throws Exception {
        try {
            return parse.call();
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /** The single stderr line for a failure. */
    static String errorLine(Throwable t) {
        return ERROR_PREFIX + oneLine(ErrorMessages.describe(t));
    }

    static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }

    /** Answers --version. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"conv4j " + Conv4j.version()};
        }
    }
}
