package dev.jumbo.privacy;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs a secure aggregation round in one process: the server and every client exchange the same
 * bytes a network transport would carry, phase by phase, and clients can be made to drop out
 * before any phase. For experiments and tests; a real deployment carries
 * {@link SecureAggregationClient#respond} and {@link SecureAggregationServer#accept}/{@link
 * SecureAggregationServer#messageFor} over its own transport.
 *
 * <pre>{@code
 * var result = SecureAggregationSimulation.run(
 *         new SecureAggregationConfig(1, 6, dim), quantizedUpdates,
 *         Map.of(3, SecureAggregationPhase.MASKED_INPUT),   // client 3 drops after sharing its keys
 *         new SecureRandom());
 * float[] mean = quantizer.decodeMean(result.sum(), result.survivors().length);
 * }</pre>
 */
public final class SecureAggregationSimulation {
    private SecureAggregationSimulation() {}

    /**
     * What a simulated round produced.
     *
     * @param sum the server's unmasked sum mod 2^32
     * @param survivors the clients whose updates are in it
     * @param server the server, to inspect what it received
     */
    public record Result(int[] sum, int[] survivors, SecureAggregationServer server) {}

    /**
     * One round over {@code inputs} (client id to quantised update).
     *
     * @param dropBefore for a client that drops out, the first phase whose message it never sends
     * @throws SecureAggregationException if too few clients remain at some phase
     */
    public static Result run(
            SecureAggregationConfig config,
            Map<Integer, int[]> inputs,
            Map<Integer, SecureAggregationPhase> dropBefore,
            SecureRandom random) {
        Map<Integer, SecureAggregationClient> clients = new TreeMap<>();
        for (var e : inputs.entrySet()) {
            clients.put(e.getKey(), new SecureAggregationClient(e.getKey(), config, e.getValue(), random));
        }
        SecureAggregationServer server = new SecureAggregationServer(config);
        List<Integer> active = new ArrayList<>(clients.keySet());
        for (SecureAggregationPhase phase : SecureAggregationPhase.values()) {
            List<Integer> answered = new ArrayList<>();
            for (int id : active) {
                SecureAggregationPhase drop = dropBefore.get(id);
                if (drop != null && drop.ordinal() <= phase.ordinal()) {
                    continue;
                }
                byte[] opening = phase == SecureAggregationPhase.ADVERTISE_KEYS ? new byte[0] : server.messageFor(id);
                server.accept(id, clients.get(id).respond(phase, opening));
                answered.add(id);
            }
            server.closePhase();
            active = answered;
        }
        return new Result(server.sum(), server.survivors(), server);
    }
}
