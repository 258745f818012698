/**
 * Tokenizers: text to token ids and back. {@link dev.jumbo.text.Tokenizer} is the one interface;
 * {@link dev.jumbo.text.ByteLevelBpe} (GPT-2), {@link dev.jumbo.text.SentencePieceBpe} (Llama, llama2.c,
 * GGUF's SPM vocabularies), {@link dev.jumbo.text.WordPiece} (BERT) and {@link dev.jumbo.text.CharTokenizer} implement it;
 * {@link dev.jumbo.text.Gpt2Vocabulary} finds (or downloads) GPT-2's files; {@link dev.jumbo.text.Tokenizers}
 * builds the right one from a model folder or from a GGUF file's vocabulary.
 * Depends on {@code dev.jumbo.io} (JSON, GGUF, format errors, atomic files) and the JDK only.
 */
package dev.jumbo.text;
