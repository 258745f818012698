package dev.jumbo.models;

import java.util.List;
import java.util.Objects;

/**
 * How a chat model expects a conversation written out. A model file carries its template as a
 * Jinja text ({@code tokenizer.chat_template} in GGUF, {@code chat_template} in HuggingFace's
 * {@code tokenizer_config.json}); like llama.cpp, Jumbo does not run Jinja but recognises the
 * common formats by their markers and writes them itself. A model without one gets {@link #PLAIN}.
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.detect(gguf.string("tokenizer.chat_template", null));
 * String prompt = t.format(List.of(new ChatTemplate.Message("user", "Hi!")));   // ends where the assistant speaks
 * }</pre>
 */
public enum ChatTemplate {
    /** {@code <|im_start|>role\ncontent<|im_end|>\n} (Qwen, many fine-tunes). */
    CHATML,
    /** {@code [INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] assistant </s><s>[INST] ...} (Llama 2 chat, Mistral). */
    LLAMA2,
    /** {@code <|user|>\ncontent</s>\n<|assistant|>\n} (Zephyr, TinyLlama chat). */
    ZEPHYR,
    /** {@code User: ...\nAssistant: ...}, for models trained without a chat format. */
    PLAIN;

    /** One turn: {@code role} is system, user or assistant. */
    public record Message(String role, String content) {
        public Message {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(content, "content");
        }
    }

    /** The format a Jinja template writes, by its markers; {@link #PLAIN} for null or an unknown one. */
    public static ChatTemplate detect(String jinja) {
        if (jinja == null) return PLAIN;
        if (jinja.contains("<|im_start|>")) return CHATML;
        if (jinja.contains("<|user|>") && jinja.contains("<|assistant|>")) return ZEPHYR;
        if (jinja.contains("[INST]")) return LLAMA2;
        return PLAIN;
    }

    /**
     * The conversation as the model's prompt, ending where the assistant's next turn begins. The
     * BOS token is not written: the tokenizer or generator puts it before the text.
     */
    public String format(List<Message> messages) {
        StringBuilder s = new StringBuilder();
        switch (this) {
            case CHATML -> {
                for (Message m : messages) s.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
                s.append("<|im_start|>assistant\n");
            }
            case ZEPHYR -> {
                for (Message m : messages) s.append("<|").append(m.role()).append("|>\n").append(m.content()).append("</s>\n");
                s.append("<|assistant|>\n");
            }
            case LLAMA2 -> {
                String system = null;
                boolean open = false;
                for (Message m : messages) {
                    switch (m.role()) {
                        case "system" -> system = m.content();
                        case "user" -> {
                            if (s.length() > 0) s.append("<s>");
                            s.append("[INST] ");
                            if (system != null) s.append("<<SYS>>\n").append(system).append("\n<</SYS>>\n\n");
                            system = null;
                            s.append(m.content().strip()).append(" [/INST]");
                            open = true;
                        }
                        default -> {
                            s.append(' ').append(m.content().strip()).append(" </s>");
                            open = false;
                        }
                    }
                }
                if (!open && s.length() > 0) s.append("<s>[INST]  [/INST]");
            }
            case PLAIN -> {
                for (Message m : messages) {
                    String who = switch (m.role()) {
                        case "system" -> "System";
                        case "assistant" -> "Assistant";
                        default -> "User";
                    };
                    s.append(who).append(": ").append(m.content()).append('\n');
                }
                s.append("Assistant:");
            }
        }
        return s.toString();
    }

    /** Text that ends the assistant's turn when the model writes it (beside its end-of-sequence token). */
    public List<String> stops() {
        return switch (this) {
            case CHATML -> List.of("<|im_end|>", "<|im_start|>");
            case ZEPHYR -> List.of("</s>", "<|user|>");
            case LLAMA2 -> List.of("</s>", "[INST]");
            case PLAIN -> List.of("\nUser:");
        };
    }
}
