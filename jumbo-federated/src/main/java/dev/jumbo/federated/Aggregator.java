package dev.jumbo.federated;

/**
 * How the server moves the global weights once a round's clients have been combined into one
 * mean delta (their weights minus the global ones, weighted by examples). FedAvg adds it;
 * FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization") treats it as a pseudo-gradient
 * for Adam on the server. FedProx is FedAvg here: its proximal term lives in the clients' local
 * training ({@link LocalTraining}).
 */
public interface Aggregator {
    /** The name clients are told ({@code fedavg}, {@code fedprox}, {@code fedadam}). */
    String name();

    /** Updates {@code global} in place from the round's weighted mean delta. */
    void apply(float[] global, float[] meanDelta);

    /**
     * By name: {@code fedavg}, {@code fedprox} (FedAvg on the server) or {@code fedadam} with
     * server learning rate {@code serverLr}.
     */
    static Aggregator of(String name, double serverLr) {
        return switch (name) {
            case "fedavg" -> new FedAvg("fedavg");
            case "fedprox" -> new FedAvg("fedprox");
            case "fedadam" -> new FedAdam(serverLr, 0.9, 0.99, 1e-3);
            case "fedavgm" -> new FedAvgM(serverLr, 0.9);
            default -> throw new IllegalArgumentException("unknown aggregator '" + name + "': use fedavg, fedprox, fedavgm or fedadam");
        };
    }

    /** McMahan et al.'s Federated Averaging: w += sum_k n_k delta_k / sum_k n_k. */
    record FedAvg(String name) implements Aggregator {
        @Override
        public void apply(float[] global, float[] meanDelta) {
            for (int i = 0; i < global.length; i++) global[i] += meanDelta[i];
        }
    }

    /**
     * Server-side Adam on the mean delta as in Reddi et al.'s Algorithm 2: m = b1 m + (1 - b1) d,
     * v = b2 v + (1 - b2) d^2, w += lr m / (sqrt(v) + tau), without bias correction; tau (the
     * paper's adaptivity, 1e-3 by default) keeps early steps bounded.
     */
    final class FedAdam implements Aggregator {
        private final double lr, beta1, beta2, tau;
        private float[] m, v;

        public FedAdam(double lr, double beta1, double beta2, double tau) {
            if (!(lr > 0)) throw new IllegalArgumentException("FedAdam's server learning rate must be positive, got " + lr);
            this.lr = lr;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.tau = tau;
        }

        @Override
        public String name() {
            return "fedadam";
        }

        @Override
        public void apply(float[] global, float[] meanDelta) {
            if (m == null) {
                m = new float[global.length];
                v = new float[global.length];
            }
            for (int i = 0; i < global.length; i++) {
                double d = meanDelta[i];
                m[i] = (float) (beta1 * m[i] + (1 - beta1) * d);
                v[i] = (float) (beta2 * v[i] + (1 - beta2) * d * d);
                global[i] += (float) (lr * m[i] / (Math.sqrt(v[i]) + tau));
            }
        }
    }

    /**
     * FedAvg with server momentum (Hsu, Qi and Brown 2019, "FedAvgM"): v = beta v + meanDelta,
     * w += lr v. Under label skew each round's mean delta swings with the clients' classes; the
     * momentum averages those swings over rounds, as SGD's does over minibatches. With lr 1 and
     * beta 0 it is FedAvg.
     */
    final class FedAvgM implements Aggregator {
        private final double lr, beta;
        private float[] v;

        public FedAvgM(double lr, double beta) {
            if (!(lr > 0)) throw new IllegalArgumentException("FedAvgM's server learning rate must be positive, got " + lr);
            if (!(beta >= 0 && beta < 1)) throw new IllegalArgumentException("FedAvgM's momentum must be in [0, 1), got " + beta);
            this.lr = lr;
            this.beta = beta;
        }

        @Override
        public String name() {
            return "fedavgm";
        }

        @Override
        public void apply(float[] global, float[] meanDelta) {
            if (v == null) v = new float[global.length];
            for (int i = 0; i < global.length; i++) {
                v[i] = (float) (beta * v[i] + meanDelta[i]);
                global[i] += (float) (lr * v[i]);
            }
        }
    }
}
