package dev.jumbo.cli;

import dev.jumbo.data.SyntheticCensus;
import dev.jumbo.io.AtomicFiles;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo census}: writes the synthetic census-like table ({@link SyntheticCensus}) as CSV. */
@Command(name = "census", mixinStandardHelpOptions = true,
        description = {"Write a synthetic census-like CSV (age,education_years,hours_per_week,capital_gain_k,sex,group,income_over_50k) drawn from a seed; "
                + "the label depends on sex and group on purpose, so that jumbo fairness has something to show. jumbo train csv:FILE trains on it.",
                "Example: jumbo census --rows 5000 --seed 1 --out census.csv"})
final class CensusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--rows", defaultValue = "5000", description = "How many people (default: ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "FILE.csv", description = "The CSV to write (replaced atomically).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object describing the file as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (Files.isDirectory(out)) throw new IllegalArgumentException(out + " is a folder; give the CSV file to write");
        List<SyntheticCensus.Person> people = SyntheticCensus.generate(rows, seed);
        AtomicFiles.writeString(out, SyntheticCensus.csv(people));
        long positives = people.stream().filter(p -> p.incomeOver50k() == 1).count();
        PrintWriter o = spec.commandLine().getOut();
        o.printf("%d rows written to %s (%.1f%% with %s = 1); sensitive columns: %s, group%n",
                rows, out, 100.0 * positives / rows, SyntheticCensus.LABEL, SyntheticCensus.SENSITIVE);
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("rows", rows);
            r.put("positives", positives);
            r.put("columns", SyntheticCensus.COLUMNS);
            r.put("sensitive", SyntheticCensus.SENSITIVE);
            r.put("out", out.toString());
            o.println(JsonOutput.line(r));
        }
        o.flush();
        return 0;
    }
}
