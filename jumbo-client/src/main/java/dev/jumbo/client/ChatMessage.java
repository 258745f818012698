package dev.jumbo.client;

/**
 * One turn of a conversation.
 *
 * @param role {@code system} (or {@code developer}), {@code user} or {@code assistant}
 */
public record ChatMessage(String role, String content) {
    /** @throws NullPointerException when a component is null */
    public ChatMessage {
        if (role == null || content == null) throw new NullPointerException("a message needs a role and content");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
