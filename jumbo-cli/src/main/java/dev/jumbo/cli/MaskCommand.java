package dev.jumbo.cli;

import dev.jumbo.privacy.Masking;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo mask}: drops, replaces, pseudonymises or bins columns of a CSV ({@link Masking}). */
@Command(name = "mask", mixinStandardHelpOptions = true,
        description = {"Mask identifying columns of a CSV with a header, by column name: drop them, replace their values with a constant, "
                + "pseudonymise them with HMAC-SHA256 under a secret key (equal values keep equal pseudonyms), or generalise numbers to the lower edge of bins.",
                "The output is written whole and atomically, never over the input; empty fields stay empty.",
                "Example: head -c 32 /dev/urandom > mask.key; jumbo mask --data people.csv --drop name --hash id --key-file mask.key --bin age=10 --out masked.csv"})
final class MaskCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "FILE.csv", description = "The CSV to mask (header line first).")
    Path data;

    @Option(names = "--drop", split = ",", paramLabel = "COLUMN", description = "Columns to remove.")
    List<String> drop = new ArrayList<>();

    @Option(names = "--hash", split = ",", paramLabel = "COLUMN", description = "Columns to pseudonymise with HMAC-SHA256 under --key-file.")
    List<String> hash = new ArrayList<>();

    @Option(names = "--key-file", paramLabel = "FILE", description = "The secret key for --hash: its bytes, at least 16 (32 random bytes recommended).")
    Path keyFile;

    @Option(names = "--replace", paramLabel = "COLUMN=VALUE", description = "Replace every value of COLUMN with VALUE.")
    List<String> replace = new ArrayList<>();

    @Option(names = "--bin", paramLabel = "COLUMN=WIDTH", description = "Replace each number of COLUMN with the lower edge of its bin of WIDTH.")
    List<String> bin = new ArrayList<>();

    @Option(names = "--out", required = true, paramLabel = "FILE.csv", description = "The masked CSV to write (not the input).")
    Path out;

    @Override
    public Integer call() throws Exception {
        List<Masking.Rule> rules = new ArrayList<>();
        for (String c : drop) rules.add(new Masking.Drop(c));
        if (!hash.isEmpty()) {
            if (keyFile == null) throw new IllegalArgumentException("--hash needs --key-file FILE holding the secret key (e.g. head -c 32 /dev/urandom > FILE)");
            byte[] key = Files.readAllBytes(keyFile);
            if (key.length < Masking.MIN_KEY_BYTES)
                throw new IllegalArgumentException(keyFile + ": a key needs at least " + Masking.MIN_KEY_BYTES + " bytes, the file has " + key.length);
            for (String c : hash) rules.add(new Masking.Pseudonymise(c, key));
        } else if (keyFile != null) {
            throw new IllegalArgumentException("--key-file is for --hash, and no --hash column was given");
        }
        for (String r : replace) {
            String[] kv = pair("--replace", r);
            rules.add(new Masking.Replace(kv[0], kv[1]));
        }
        for (String b : bin) {
            String[] kv = pair("--bin", b);
            double width;
            try {
                width = Double.parseDouble(kv[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--bin " + b + ": the width \"" + kv[1] + "\" is not a number");
            }
            rules.add(new Masking.Generalise(kv[0], width));
        }
        if (rules.isEmpty()) throw new IllegalArgumentException("nothing to mask: give --drop, --hash, --replace or --bin");
        new Masking(rules).maskFile(data, out);
        PrintWriter o = spec.commandLine().getOut();
        o.printf("%s masked into %s (%d rules)%n", data, out, rules.size());
        o.flush();
        return 0;
    }

    private static String[] pair(String option, String value) {
        int eq = value.indexOf('=');
        if (eq <= 0) throw new IllegalArgumentException(option + " " + value + ": expected COLUMN=VALUE");
        return new String[] {value.substring(0, eq), value.substring(eq + 1)};
    }
}
