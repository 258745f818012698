package dev.jumbo.serve;

import dev.jumbo.models.ChatTemplate;
import dev.jumbo.models.LanguageModel;

/**
 * A model the server answers for: its name in requests ({@code "model"}), the loaded model, how
 * its chat prompts are written, its decode loop, and when it was loaded (OpenAI's {@code created},
 * seconds since the epoch).
 */
record ServedModel(String name, LanguageModel model, ChatTemplate chatTemplate, DecodeLoop loop, long created) {}
