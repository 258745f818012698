package dev.jumbo.serve;

import dev.jumbo.models.CausalLm;
import dev.jumbo.models.Sampler;
import dev.jumbo.models.TextStream;
import dev.jumbo.text.Tokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Generates the sequences of one model with continuous batching, on one platform thread. A
 * submitted sequence waits in a bounded queue; between two steps, waiting sequences join the
 * active set (up to {@code maxActive}) once their prompt is fed (prefill), and each step picks the
 * next token of every active sequence (its own {@link Sampler}) and feeds them all at once through
 * {@link CausalLm#step}. A sequence leaves between steps when it ends (its end token, a stop
 * string, its token budget, the context), when its future is cancelled (the client left), or when
 * its {@link TokenSink} refuses text (the client is too slow): the loop never waits for a client.
 *
 * <pre>{@code
 * try (DecodeLoop loop = DecodeLoop.start("stories260K", lm.model(), lm.tokenizer(), 8, 32)) {
 *     CompletableFuture<Completion> c = loop.submit(List.of(new SequenceRequest(ids, config, null))).getFirst();
 *     System.out.println(c.join().text());
 * }
 * }</pre>
 */
public final class DecodeLoop implements AutoCloseable {
    private final CausalLm model;
    private final Tokenizer tokenizer;
    private final int maxActive, maxWaiting;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>(); // guarded by lock
    private int running; // sequences taken from the queue and not yet gone; guarded by lock
    private boolean closed; // guarded by lock
    private final List<Sequence> active = new ArrayList<>(); // the loop thread's own
    // the loop thread's own too, reused from step to step: a server steps thousands of times a second
    private final List<Sequence> joining = new ArrayList<>(), stepping = new ArrayList<>();
    private final List<CausalLm.Session> sessions = new ArrayList<>();
    private int[] tokens = new int[0];
    private final int[][] stepTokens; // by count: a step's exact-length array
    // the server's metrics, written by the loop thread only and read by scrapes: cheap per token, no allocation
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final Histogram timeToFirstToken = new Histogram(Histogram.FIRST_TOKEN_SECONDS);
    private Thread thread;

    private DecodeLoop(CausalLm model, Tokenizer tokenizer, int maxActive, int maxWaiting) {
        if (maxActive < 1) throw new IllegalArgumentException("max concurrency must be at least 1, got " + maxActive);
        if (maxWaiting < 0) throw new IllegalArgumentException("max queue must be at least 0, got " + maxWaiting);
        this.model = model;
        this.tokenizer = tokenizer;
        this.maxActive = maxActive;
        this.maxWaiting = maxWaiting;
        this.stepTokens = new int[maxActive + 1][];
    }

    /** A loop for {@code model}, running on a thread named after {@code name} until closed. */
    public static DecodeLoop start(String name, CausalLm model, Tokenizer tokenizer, int maxActive, int maxWaiting) {
        DecodeLoop loop = new DecodeLoop(model, tokenizer, maxActive, maxWaiting);
        // a platform thread: it runs the model's kernels flat out, which a virtual thread's carrier should not
        loop.thread = Thread.ofPlatform().name("jumbo-decode-" + name).daemon(true).start(loop::run);
        return loop;
    }

    /**
     * Queues the sequences, all or none, and returns their futures in order; cancelling one stops
     * its sequence between two steps.
     *
     * @throws ServerBusyException when the active set and the queue cannot take them all
     * @throws IllegalStateException after {@link #close()}
     */
    public List<CompletableFuture<Completion>> submit(List<SequenceRequest> requests) throws ServerBusyException {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("the decode loop is closed");
            if (running + waiting.size() + requests.size() > maxActive + maxWaiting)
                throw new ServerBusyException(running + " sequences are generating and " + waiting.size() + " waiting, the most this model takes ("
                        + maxActive + " at once, " + maxWaiting + " queued); try again shortly");
            List<CompletableFuture<Completion>> futures = new ArrayList<>();
            for (SequenceRequest r : requests) {
                Sequence s = new Sequence(r);
                waiting.add(s);
                futures.add(s.future);
            }
            work.signal();
            return futures;
        } finally {
            lock.unlock();
        }
    }

    /** Sequences being generated now (prefilling or decoding). */
    public int active() {
        return locked(() -> running);
    }

    /** Sequences waiting to join. */
    public int waiting() {
        return locked(waiting::size);
    }

    private int locked(java.util.function.IntSupplier read) {
        lock.lock();
        try {
            return read.getAsInt();
        } finally {
            lock.unlock();
        }
    }

    /** Tokens generated since the loop started, over all sequences. */
    public long generatedTokens() {
        return generatedTokens.get();
    }

    /** Prompt tokens fed since the loop started (each sequence's: n choices of one prompt count it n times). */
    public long promptTokens() {
        return promptTokens.get();
    }

    /** Seconds from each sequence's {@link #submit} to its first generated token. */
    Histogram timeToFirstToken() {
        return timeToFirstToken;
    }

    /** The most sequences generated at once. */
    public int maxActive() {
        return maxActive;
    }

    /** Stops after the current step; sequences still active or waiting are cancelled. */
    @Override
    public void close() throws InterruptedException {
        lock.lock();
        try {
            closed = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        thread.join();
    }

    private void run() {
        try {
            for (List<Sequence> joining; (joining = takeWork()) != null; ) {
                for (Sequence s : joining) join(s);
                if (!active.isEmpty()) step();
            }
        } finally {
            lock.lock();
            try {
                closed = true;
                active.addAll(waiting);
                waiting.clear();
            } finally {
                lock.unlock();
            }
            for (Sequence s : active) s.future.cancel(false);
            active.clear();
        }
    }

    /** Blocks while there is nothing to do; the sequences that may join now, or null once closed. */
    private List<Sequence> takeWork() {
        lock.lock();
        try {
            while (!closed && active.isEmpty() && waiting.isEmpty()) work.awaitUninterruptibly();
            if (closed) return null;
            joining.clear();
            while (running < maxActive && !waiting.isEmpty()) {
                joining.add(waiting.poll());
                running++;
            }
            return joining;
        } finally {
            lock.unlock();
        }
    }

    private void leave(Sequence s) {
        lock.lock();
        try {
            running--;
        } finally {
            lock.unlock();
        }
    }

    /** Feeds a joining sequence's prompt; it then takes part in the steps. */
    private void join(Sequence s) {
        if (s.future.isDone()) { // cancelled while it waited
            leave(s);
            return;
        }
        try {
            s.prefill(model, tokenizer);
        } catch (RuntimeException e) {
            leave(s);
            s.future.completeExceptionally(e);
            return;
        }
        promptTokens.addAndGet(s.request.promptIds().length);
        if (s.request.config().maxNewTokens() == 0) {
            leave(s);
            finish(s, Completion.FinishReason.LENGTH);
        } else active.add(s);
    }

    /** One token for every active sequence, then one batched feed of those that go on. */
    private void step() {
        sessions.clear();
        stepping.clear();
        if (tokens.length < active.size()) tokens = new int[Math.max(active.size(), 2 * tokens.length)];
        for (Iterator<Sequence> it = active.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            RuntimeException failure = null;
            try {
                int id = s.future.isDone() || s.refused ? -1 : s.sampler.next(s.logits);
                if (id >= 0 && s.advance(id, model.contextLength(), generatedTokens, timeToFirstToken)) {
                    tokens[stepping.size()] = id;
                    stepping.add(s);
                    sessions.add(s.session);
                    continue;
                }
            } catch (RuntimeException e) {
                failure = e; // this sequence's failure, not the others'
            }
            // its place is free before its client hears it ended: a client that sends its next request
            // at once, into a full loop, must find that place, not a 429
            it.remove();
            leave(s);
            if (failure != null) s.future.completeExceptionally(failure);
            else if (s.refused) s.future.cancel(false);
            else if (!s.future.isDone()) finish(s, s.end);
        }
        if (stepping.isEmpty()) return;
        try {
            int n = stepping.size();
            int[] feed = stepTokens[n] != null ? stepTokens[n] : (stepTokens[n] = new int[n]);
            System.arraycopy(tokens, 0, feed, 0, feed.length);
            float[][] logits = model.step(sessions, feed);
            for (int i = 0; i < logits.length; i++) stepping.get(i).logits = logits[i];
        } catch (RuntimeException e) {
            // the model failed (a bug, not a client's doing): every sequence in the step fails with it
            for (Sequence s : stepping) {
                active.remove(s);
                leave(s);
                s.future.completeExceptionally(e);
            }
        }
    }

    /** Hands out what the text held back, then completes the future (or cancels it if the sink refuses); the sequence has left. */
    private static void finish(Sequence s, Completion.FinishReason reason) {
        if (!s.deliver(s.text.rest())) {
            s.future.cancel(false);
            return;
        }
        s.future.complete(new Completion(s.text.text(), reason, s.request.promptIds().length, s.text.size(),
                s.request.topLogprobs() < 0 ? null : s.logprobs == null ? List.of() : s.logprobs));
    }

    /** One sequence's state in the loop. */
    private static final class Sequence {
        final SequenceRequest request;
        final CompletableFuture<Completion> future = new CompletableFuture<>();
        final long submitted = System.nanoTime();
        CausalLm.Session session;
        float[] logits;
        Sampler sampler;
        TextStream text;
        Completion.FinishReason end;
        boolean refused; // the sink refused text: the sequence is dropped, its future cancelled once it has left
        List<TokenLogprob> logprobs; // when asked for

        Sequence(SequenceRequest request) {
            this.request = request;
        }

        void prefill(CausalLm model, Tokenizer tokenizer) {
            int[] prompt = request.promptIds();
            session = model.start();
            logits = session.feed(prompt);
            sampler = new Sampler(request.config(), new Random(request.config().seed()), prompt);
            text = new TextStream(tokenizer, prompt, request.config().stopStrings());
        }

        /**
         * Takes the token just picked: true if the sequence goes on (feed it the token), false if
         * it ends ({@link #end} says why) or its sink refused text ({@link #refused}).
         */
        boolean advance(int id, int context, AtomicLong generated, Histogram firstToken) {
            if (id == request.config().eosTokenId()) {
                end = Completion.FinishReason.STOP;
                return false;
            }
            generated.incrementAndGet();
            if (text.size() == 0) firstToken.observeNanos(System.nanoTime() - submitted);
            if (request.topLogprobs() >= 0) {
                if (logprobs == null) logprobs = new ArrayList<>();
                logprobs.add(TokenLogprob.of(logits, id, request.topLogprobs()));
            }
            if (!deliver(text.add(id))) return false;
            if (text.stopped()) end = Completion.FinishReason.STOP;
            else if (text.size() >= request.config().maxNewTokens() || request.promptIds().length + text.size() >= context)
                end = Completion.FinishReason.LENGTH;
            return end == null;
        }

        /** Gives {@code piece} to the sink; false, marking the sequence {@link #refused}, if the sink refused it. */
        boolean deliver(String piece) {
            if (piece.isEmpty() || request.sink() == null || request.sink().offer(piece)) return true;
            refused = true;
            return false;
        }
    }
}
