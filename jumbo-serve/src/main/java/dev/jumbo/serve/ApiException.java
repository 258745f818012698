package dev.jumbo.serve;

/**
 * A request the server answers with an HTTP error and OpenAI's error body
 * {@code {"error":{"message","type","param","code"}}}: thrown anywhere while handling a request,
 * turned into the response in one place ({@link OpenAiApi}).
 *
 * @see <a href="https://platform.openai.com/docs/guides/error-codes">OpenAI's error codes</a>
 */
final class ApiException extends RuntimeException {
    private final int status;
    private final String type, param, code;
    private final Integer retryAfterSeconds;

    ApiException(int status, String type, String message, String param, String code, Integer retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400: the request is malformed; {@code param} names the field at fault (or is null). */
    static ApiException invalid(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null, null);
    }

    int status() {
        return status;
    }

    String type() {
        return type;
    }

    String param() {
        return param;
    }

    String code() {
        return code;
    }

    /** Seconds for a {@code Retry-After} header, or null for none. */
    Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
