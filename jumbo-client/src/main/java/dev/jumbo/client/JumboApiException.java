package dev.jumbo.client;

/**
 * The server refused or failed a request: its HTTP status and the fields of OpenAI's error body
 * {@code {"error":{"message","type","param","code"}}}. A stream that fails after its headers
 * were sent carries the response's status (200) and the error the server wrote into the stream.
 *
 * <pre>{@code
 * try {
 *     client.complete(CompletionRequest.of("no-such-model", "Hi"));
 * } catch (JumboApiException e) {
 *     if (e.status() == 404 && "model_not_found".equals(e.code())) ...
 * }
 * }</pre>
 */
public final class JumboApiException extends RuntimeException {
    private final int status;
    private final String type, code, param, serverMessage;
    private final Integer retryAfterSeconds;

    /**
     * @param type              OpenAI's error type, such as {@code invalid_request_error}, or null
     * @param code              the error code, such as {@code model_not_found}, or null
     * @param param             the request field at fault, or null
     * @param retryAfterSeconds the {@code Retry-After} header's seconds (a 429 or 503 has one), or null
     */
    public JumboApiException(int status, String type, String code, String param, String message, Integer retryAfterSeconds) {
        super("HTTP " + status + (type != null ? " " + type : "") + (code != null ? " (" + code + ")" : "") + ": " + message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.serverMessage = message;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** The HTTP status, such as 400, 401, 404, 413, 429 or 503. */
    public int status() {
        return status;
    }

    /** OpenAI's error type ({@code invalid_request_error}, {@code server_error}, ...), or null. */
    public String type() {
        return type;
    }

    /** The error code ({@code invalid_api_key}, {@code model_not_found}, ...), or null. */
    public String code() {
        return code;
    }

    /** The request field at fault ({@code "temperature"}, {@code "messages[0].role"}), or null. */
    public String param() {
        return param;
    }

    /** The server's own message, without the status and type this exception's message adds. */
    public String serverMessage() {
        return serverMessage;
    }

    /** Seconds the server asked to wait before retrying ({@code Retry-After}), or null. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
