package dev.jumbo.cli;

import dev.jumbo.privacy.RdpAccountant;
import dev.jumbo.privacy.RdpAccountant.Conversion;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo privacy}: the RDP accountant of DP-SGD from the command line. Steps are
 * {@code ceil(epochs * n / batch)} and the rate {@code batch / n}, as TensorFlow Privacy's
 * {@code compute_dp_sgd_privacy} counts them.
 */
@Command(name = "privacy", mixinStandardHelpOptions = true,
        description = "DP-SGD privacy accounting (RDP of the sampled Gaussian mechanism): epsilon spent, or the noise for a target epsilon.",
        subcommands = {PrivacyCommand.Epsilon.class, PrivacyCommand.Noise.class})
final class PrivacyCommand {
    private PrivacyCommand() {}

    /** The run being accounted for. */
    abstract static class Run {
        @Spec
        CommandSpec spec;

        @Option(names = "--n", required = true, description = "Training examples.")
        long n;

        @Option(names = "--batch-size", required = true, description = "Expected batch size (Poisson sampling at rate batch / n).")
        int batchSize;

        @Option(names = "--epochs", required = true, description = "Epochs (may be fractional).")
        double epochs;

        @Option(names = "--delta", defaultValue = "1e-5", description = "delta (default: ${DEFAULT-VALUE}).")
        double delta;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        double rate() {
            return (double) batchSize / n;
        }

        long steps() {
            return RdpAccountant.steps(n, batchSize, epochs);
        }

        void print(String line, Map<String, Object> result) {
            PrintWriter o = spec.commandLine().getOut();
            o.println(json ? JsonOutput.line(result) : line);
            o.flush();
        }
    }

    @Command(name = "epsilon", mixinStandardHelpOptions = true,
            description = {"Epsilon spent by DP-SGD with noise multiplier --noise, minimised over the RDP orders.",
                    "improved: Balle et al. 2020 over Opacus's orders (Opacus's get_privacy_spent); classic: rdp - log(delta)/(order-1) over TF Privacy's orders (its tutorial's figures).",
                    "Example: jumbo privacy epsilon --n 60000 --batch-size 256 --noise 1.1 --epochs 60 --delta 1e-5 --json"})
    static final class Epsilon extends Run implements Callable<Integer> {
        @Option(names = "--noise", required = true, description = "Noise multiplier sigma.")
        double noise;

        @Option(names = "--conversion", defaultValue = "improved", description = "improved or classic (default: ${DEFAULT-VALUE}).")
        String conversion;

        @Override
        public Integer call() {
            Conversion c = switch (conversion) {
                case "improved" -> Conversion.IMPROVED;
                case "classic" -> Conversion.CLASSIC;
                default -> throw new IllegalArgumentException("--conversion must be improved or classic, got '" + conversion + "'");
            };
            long steps = steps();
            var spent = RdpAccountant.epsilon(rate(), noise, steps, delta, c,
                    c == Conversion.CLASSIC ? RdpAccountant.TF_PRIVACY_ORDERS : RdpAccountant.DEFAULT_ORDERS);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("epsilon", spent.epsilon());
            result.put("order", spent.order());
            result.put("steps", steps);
            result.put("delta", delta);
            result.put("sample_rate", rate());
            result.put("conversion", conversion);
            print(String.format("epsilon %.4f at order %s after %d steps (q %.6g, sigma %s, delta %s, %s conversion)",
                    spent.epsilon(), spent.order(), steps, rate(), noise, delta, conversion), result);
            return 0;
        }
    }

    @Command(name = "noise", mixinStandardHelpOptions = true,
            description = {"The smallest noise multiplier whose epsilon (improved conversion) is at most --target-epsilon.",
                    "Example: jumbo privacy noise --target-epsilon 3 --n 60000 --batch-size 256 --epochs 20 --delta 1e-5 --json"})
    static final class Noise extends Run implements Callable<Integer> {
        @Option(names = "--target-epsilon", required = true, description = "Target epsilon.")
        double targetEpsilon;

        @Override
        public Integer call() {
            long steps = steps();
            double sigma = RdpAccountant.noiseFor(targetEpsilon, delta, rate(), steps);
            var spent = RdpAccountant.epsilon(rate(), sigma, steps, delta);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("noise_multiplier", sigma);
            result.put("epsilon", spent.epsilon());
            result.put("order", spent.order());
            result.put("steps", steps);
            result.put("delta", delta);
            result.put("sample_rate", rate());
            print(String.format("noise multiplier %.4f gives epsilon %.4f (order %s) after %d steps (q %.6g, delta %s)",
                    sigma, spent.epsilon(), spent.order(), steps, rate(), delta), result);
            return 0;
        }
    }
}
