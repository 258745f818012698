package dev.jumbo.federated;

/**
 * How the server moves the global weights once a round's clients have been combined into one
 * mean delta (their weights minus the global ones, weighted by examples). FedAvg adds it;
 * FedAdam, FedYogi and FedAdagrad (Reddi et al. 2021, "Adaptive Federated Optimization") treat it
 * as a pseudo-gradient for an adaptive optimiser on the server. FedProx is FedAvg here: its proximal term lives in the clients' local
 * training ({@link LocalTraining}).
 */
public interface Aggregator {
    /** The name clients are told ({@code fedavg}, {@code fedprox}, {@code fedadam}, ...). */
    String name();

    /** Updates {@code global} in place from the round's weighted mean delta. */
    void apply(float[] global, float[] meanDelta);

    /**
     * By name: {@code fedavg}, {@code fedprox} (FedAvg on the server), {@code fedavgm}, or
     * {@code fedadam}, {@code fedyogi}, {@code fedadagrad} with server learning rate {@code serverLr}.
     */
    static Aggregator of(String name, double serverLr) {
        return switch (name) {
            case "fedavg" -> new FedAvg("fedavg");
            case "fedprox" -> new FedAvg("fedprox");
            case "fedadam" -> new FedOpt(FedOpt.Variant.ADAM, serverLr, 0.9, 0.99, 1e-3);
            case "fedyogi" -> new FedOpt(FedOpt.Variant.YOGI, serverLr, 0.9, 0.99, 1e-3);
            case "fedadagrad" -> new FedOpt(FedOpt.Variant.ADAGRAD, serverLr, 0.9, 0.99, 1e-3);
            case "fedavgm" -> new FedAvgM(serverLr, 0.9);
            default -> throw new IllegalArgumentException("unknown aggregator '" + name + "': use fedavg, fedprox, fedavgm, fedadam, fedyogi or fedadagrad");
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
     * Reddi et al.'s adaptive server optimisers (Algorithm 2) on the mean delta d:
     * m = b1 m + (1 - b1) d; v by the variant: Adagrad v + d^2, Adam b2 v + (1 - b2) d^2, Yogi
     * v - (1 - b2) d^2 sign(v - d^2); then w += lr m / (sqrt(v) + tau), without bias correction;
     * tau (the paper's adaptivity, 1e-3 by default) keeps early steps bounded. Yogi's v grows
     * only additively, so a few large deltas early on do not shrink every later step as Adam's
     * can; Adagrad's keeps growing, so the steps shrink over rounds.
     */
    final class FedOpt implements Aggregator {
        /** How v follows the squared deltas. */
        public enum Variant { ADAGRAD, ADAM, YOGI }

        private final Variant variant;
        private final double lr, beta1, beta2, tau;
        private float[] m, v;

        public FedOpt(Variant variant, double lr, double beta1, double beta2, double tau) {
            if (!(lr > 0)) throw new IllegalArgumentException("the server learning rate must be positive, got " + lr);
            this.variant = variant;
            this.lr = lr;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.tau = tau;
        }

        @Override
        public String name() {
            return "fed" + variant.name().toLowerCase(java.util.Locale.ROOT);
        }

        @Override
        public void apply(float[] global, float[] meanDelta) {
            if (m == null) {
                m = new float[global.length];
                v = new float[global.length];
            }
            for (int i = 0; i < global.length; i++) {
                double d = meanDelta[i], d2 = d * d;
                m[i] = (float) (beta1 * m[i] + (1 - beta1) * d);
                v[i] = (float) switch (variant) {
                    case ADAGRAD -> v[i] + d2;
                    case ADAM -> beta2 * v[i] + (1 - beta2) * d2;
                    case YOGI -> v[i] - (1 - beta2) * d2 * Math.signum(v[i] - d2);
                };
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
