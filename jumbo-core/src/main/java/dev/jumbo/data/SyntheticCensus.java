package dev.jumbo.data;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A census-like table made up from a seed, for fairness and privacy examples (no public census
 * data is reachable here). Each row is a {@link Person}; the CSV has a header, numeric columns
 * and the label last, so {@code jumbo train csv:FILE} trains on it as it is:
 * <pre>
 * age,education_years,hours_per_week,capital_gain_k,sex,group,income_over_50k
 * </pre>
 * The sensitive columns are {@code sex} (0 or 1) and {@code group} (0 to 3, a generic stand-in for
 * race; 0 is the majority at 60%, then 20%, 12%, 8%).
 *
 * <p><b>The bias is deliberate.</b> The label is drawn with log-odds
 * {@code -8.6 + 0.045 (min(age, 60) - 17) + 0.3 education_years + 0.06 hours_per_week
 * + 0.25 min(capital_gain_k, 20) + 1.1 sex - 0.6 [group > 0]}, and people with {@code sex = 0}
 * also work 8 hours a week fewer on average: the label depends on the sensitive attributes
 * directly and through a proxy. A model trained on these columns selects {@code sex = 1} markedly
 * more often, and one trained without {@code sex} still does, less so, through the hours (fairness
 * through unawareness is not enough); the fairness metrics show both. The Bayes classifier
 * (log-odds above 0) selects about 3% of {@code sex = 0} and 23% of {@code sex = 1}. About a
 * quarter of the rows are positive, as in the UCI Adult data the columns imitate (the figures are
 * invented, not fitted to it). The columns are on their natural scales (years, hours), so train
 * with a few dozen epochs or a larger learning rate.
 *
 * <pre>{@code
 * SyntheticCensus.write(Path.of("census.csv"), 5000, 1);   // then: jumbo train csv:census.csv --arch mlp
 * }</pre>
 */
public final class SyntheticCensus {
    /** The CSV's columns, label last. */
    public static final List<String> COLUMNS =
            List.of("age", "education_years", "hours_per_week", "capital_gain_k", "sex", "group", "income_over_50k");
    /** The sensitive column the bias is built on. */
    public static final String SENSITIVE = "sex";
    /** The label column. */
    public static final String LABEL = "income_over_50k";

    private static final double[] GROUP_SHARES = {0.6, 0.2, 0.12, 0.08};

    private SyntheticCensus() {}

    /**
     * One row.
     *
     * @param capitalGainK capital gains in thousands (0 for most people)
     */
    public record Person(int age, int educationYears, int hoursPerWeek, double capitalGainK, int sex, int group, int incomeOver50k) {
        /** The log-odds of {@code incomeOver50k = 1} the label was drawn with. */
        public double logOdds() {
            return -8.6 + 0.045 * (Math.min(age, 60) - 17) + 0.3 * educationYears + 0.06 * hoursPerWeek
                    + 0.25 * Math.min(capitalGainK, 20) + 1.1 * sex - 0.6 * (group > 0 ? 1 : 0);
        }

        double[] values() {
            return new double[] {age, educationYears, hoursPerWeek, capitalGainK, sex, group, incomeOver50k};
        }
    }

    /** {@code rows} people drawn from {@code seed}; the same seed always gives the same rows. */
    public static List<Person> generate(int rows, long seed) {
        if (rows < 1) throw new IllegalArgumentException("rows must be at least 1, got " + rows);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Person> people = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            int sex = rnd.nextDouble() < 0.5 ? 1 : 0;
            int group = pick(rnd.nextDouble());
            int age = (int) clamp(Math.round(38 + 13 * rnd.nextGaussian()), 17, 90);
            int education = (int) clamp(Math.round(10.5 + 2.6 * rnd.nextGaussian()), 1, 16);
            // the proxy: hours worked differ by sex, and hours raise the odds of the label
            int hours = (int) clamp(Math.round(36 + 8 * sex + 10 * rnd.nextGaussian()), 1, 99);
            double gain = rnd.nextDouble() < 0.9 ? 0 : Math.min(99.9, Math.round(-6 * Math.log(1 - rnd.nextDouble()) * 10) / 10.0);
            Person draft = new Person(age, education, hours, gain, sex, group, 0);
            int label = rnd.nextDouble() < 1 / (1 + Math.exp(-draft.logOdds())) ? 1 : 0;
            people.add(new Person(age, education, hours, gain, sex, group, label));
        }
        return people;
    }

    /** The rows as CSV text with the header line. */
    public static String csv(List<Person> people) {
        StringBuilder s = new StringBuilder(String.join(",", COLUMNS)).append('\n');
        for (Person p : people)
            s.append(String.format(Locale.ROOT, "%d,%d,%d,%.1f,%d,%d,%d%n",
                    p.age(), p.educationYears(), p.hoursPerWeek(), p.capitalGainK(), p.sex(), p.group(), p.incomeOver50k()));
        return s.toString();
    }

    /** Writes {@code rows} people drawn from {@code seed} to {@code file} as CSV, atomically. */
    public static void write(Path file, int rows, long seed) throws IOException {
        AtomicFiles.writeString(file, csv(generate(rows, seed)));
    }

    /** The rows as a dataset: x is {@code [n, 6]} (every column but the label), y the label. */
    public static TensorDataset dataset(List<Person> people) {
        int features = COLUMNS.size() - 1;
        float[] x = new float[people.size() * features], y = new float[people.size()];
        for (int i = 0; i < people.size(); i++) {
            double[] v = people.get(i).values();
            for (int j = 0; j < features; j++) x[i * features + j] = (float) v[j];
            y[i] = (float) v[features];
        }
        return new TensorDataset(Tensor.of(x, people.size(), features), Tensor.of(y, people.size()));
    }

    private static int pick(double u) {
        double cumulative = 0;
        for (int g = 0; g < GROUP_SHARES.length; g++) {
            cumulative += GROUP_SHARES[g];
            if (u < cumulative) return g;
        }
        return GROUP_SHARES.length - 1;
    }


    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
