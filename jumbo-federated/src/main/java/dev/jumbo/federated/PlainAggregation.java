package dev.jumbo.federated;

import java.util.List;

/**
 * No protection: each client sends its delta in the clear and the server averages them weighted
 * by examples (sum n_k delta_k / sum n_k). Both halves of the scheme in one class.
 */
public final class PlainAggregation implements ServerAggregationScheme, ClientAggregationScheme {
    public static final String NAME = "plain";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte[] onPhase(int round, String phase, String clientId, byte[] payload) {
        throw new UnsupportedOperationException("the plain aggregation scheme has no phases (got phase '" + phase + "')");
    }

    @Override
    public float[] combine(int round, List<String> sampled, List<Contribution> contributions, int length) {
        if (contributions.isEmpty()) throw new IllegalArgumentException("no contributions to combine in round " + round);
        double[] sum = new double[length];
        double examples = 0;
        for (Contribution c : contributions) {
            for (int i = 0; i < length; i++) sum[i] += c.examples() * (double) c.vector()[i];
            examples += c.examples();
        }
        float[] mean = new float[length];
        for (int i = 0; i < length; i++) mean[i] = (float) (sum[i] / examples);
        return mean;
    }

    @Override
    public float[] encode(int round, float[] delta, long examples, PhaseChannel channel) {
        return delta;
    }
}
