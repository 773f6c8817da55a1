package blt4j.cli;

/**
 * A command-line value out of range, thrown by an option setter while the command line is parsed (before any
 * command runs); {@link Main} prints its message as one line and exits with the usage-error code.
 */
final class FlagException extends IllegalArgumentException {
    FlagException(String message) {
        super(message);
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new FlagException(message);
        }
    }

    static int atLeast(String flag, int value, int min) {
        require(value >= min, flag + " must be ≥ " + min + ", got " + value);
        return value;
    }

    static long atLeast(String flag, long value, long min) {
        require(value >= min, flag + " must be ≥ " + min + ", got " + value);
        return value;
    }

    static int inRange(String flag, int value, int min, int max) {
        require(value >= min && value <= max, flag + " must be in [" + min + ", " + max + "], got " + value);
        return value;
    }

    static double finiteAtLeast(String flag, double value, double min) {
        require(Double.isFinite(value) && value >= min, flag + " must be a finite number ≥ " + min + ", got " + value);
        return value;
    }

    static double finitePositive(String flag, double value) {
        require(Double.isFinite(value) && value > 0, flag + " must be a finite number > 0, got " + value);
        return value;
    }

    static Float finite(String flag, Float value) {
        require(value == null || Float.isFinite(value), flag + " must be a finite number, got " + value);
        return value;
    }
}
