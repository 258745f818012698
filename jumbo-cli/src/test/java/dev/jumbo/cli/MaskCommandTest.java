package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaskCommandTest {
    @TempDir
    Path tmp;

    @Test
    void masksByColumnNameIntoANewFile() throws Exception {
        Path in = tmp.resolve("people.csv"), out = tmp.resolve("masked.csv"), key = tmp.resolve("mask.key");
        Files.writeString(in, "id,name,zip,age\n17,\"Lovelace, Ada\",10115,37\n42,Alan Turing,80331,41\n");
        byte[] k = new byte[32];
        Arrays.fill(k, (byte) 3);
        Files.write(key, k);
        CliTest.Result r = CliTest.run("mask", "--data", in.toString(), "--drop", "name", "--hash", "id", "--key-file", key.toString(),
                "--replace", "zip=*****", "--bin", "age=10", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(k, "HmacSHA256"));
        String id17 = HexFormat.of().formatHex(mac.doFinal("17".getBytes()));
        assertThat(Files.readAllLines(out)).containsExactly("id,zip,age", id17 + ",*****,30", HexFormat.of().formatHex(mac.doFinal("42".getBytes())) + ",*****,40");
        assertThat(Files.readString(in)).contains("Lovelace, Ada");
    }

    @Test
    void refusesToWriteOverTheInputOrToHashWithoutAKey() throws Exception {
        Path in = tmp.resolve("people.csv");
        Files.writeString(in, "id,age\n1,30\n");
        CliTest.Result r = CliTest.run("mask", "--data", in.toString(), "--drop", "age", "--out", in.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("is the input file");
        assertThat(Files.readString(in)).isEqualTo("id,age\n1,30\n");
        r = CliTest.run("mask", "--data", in.toString(), "--hash", "id", "--out", tmp.resolve("o.csv").toString());
        assertThat(r.err()).contains("--hash needs --key-file");
        Path shortKey = tmp.resolve("short.key");
        Files.write(shortKey, new byte[5]);
        r = CliTest.run("mask", "--data", in.toString(), "--hash", "id", "--key-file", shortKey.toString(), "--out", tmp.resolve("o.csv").toString());
        assertThat(r.err()).contains("short.key: a key needs at least 16 bytes, the file has 5");
        r = CliTest.run("mask", "--data", in.toString(), "--bin", "age", "--out", tmp.resolve("o.csv").toString());
        assertThat(r.err()).contains("--bin age: expected COLUMN=VALUE");
        assertThat(List.of(tmp.resolve("o.csv").toFile().exists())).containsExactly(false);
    }
}
