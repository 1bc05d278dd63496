package dev.pyrt;

/** A failed pyrt call: the core's status code and its message. */
public class PyrtException extends RuntimeException {
    /** Statuses of pyrt.h (PYRT_*): 1xx bad arguments, 5xx the ring, 9xx internal errors. */
    public static final int INVALID_ARGUMENT = 100;
    public static final int NULL_POINTER = 101;
    public static final int BUFFER_TOO_SMALL = 102;
    public static final int INVALID_STATE = 103;
    public static final int CLOSED = 104;
    public static final int NOT_FOUND = 105;
    public static final int INSUFFICIENT_HISTORY = 106;
    public static final int FULL = 500;
    public static final int EMPTY = 501;
    public static final int BAD_LAYOUT = 502;
    public static final int IO_ERROR = 503;

    private static final long serialVersionUID = 1L;
    private final int status;

    public PyrtException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The core's PyrtStatus (one of the constants above, or a 6xx/9xx code). */
    public int status() {
        return status;
    }
}
