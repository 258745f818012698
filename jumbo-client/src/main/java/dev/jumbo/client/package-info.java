/**
 * {@link dev.jumbo.client.JumboClient}: a Java client for {@code jumbo serve} (and any server that
 * speaks OpenAI's completions, chat and embeddings API), on {@code java.net.http}, with records for
 * requests and results. Depends on the JDK and Jackson only, not on the rest of Jumbo.
 */
package dev.jumbo.client;
