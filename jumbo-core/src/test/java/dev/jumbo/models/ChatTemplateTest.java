package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The chat formats Jumbo writes, recognised from the Jinja templates models ship. */
class ChatTemplateTest {
    private static final List<ChatTemplate.Message> TALK = List.of(new ChatTemplate.Message("system", "Be brief."),
            new ChatTemplate.Message("user", "Hi"), new ChatTemplate.Message("assistant", "Hello!"), new ChatTemplate.Message("user", "Who are you?"));

    @Test
    void templatesAreRecognisedByTheirMarkers() {
        assertThat(ChatTemplate.detect("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"))
                .isEqualTo(ChatTemplate.CHATML);
        assertThat(ChatTemplate.detect("{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + eos_token }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' }}"))
                .isEqualTo(ChatTemplate.ZEPHYR);
        assertThat(ChatTemplate.detect("{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}")).isEqualTo(ChatTemplate.LLAMA2);
        assertThat(ChatTemplate.detect(null)).isEqualTo(ChatTemplate.PLAIN);
        assertThat(ChatTemplate.detect("{{ messages }}")).isEqualTo(ChatTemplate.PLAIN);
    }

    @Test
    void eachFormatWritesTheConversationUpToTheAssistantsTurn() {
        assertThat(ChatTemplate.CHATML.format(TALK)).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(ChatTemplate.ZEPHYR.format(TALK)).isEqualTo("<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n"
                + "<|user|>\nWho are you?</s>\n<|assistant|>\n");
        assertThat(ChatTemplate.LLAMA2.format(TALK)).isEqualTo("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Who are you? [/INST]");
        assertThat(ChatTemplate.PLAIN.format(TALK)).isEqualTo("System: Be brief.\nUser: Hi\nAssistant: Hello!\nUser: Who are you?\nAssistant:");
        assertThat(ChatTemplate.CHATML.stops()).contains("<|im_end|>");
    }
}
