package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link EnergyMeter} on a RAPL zone written here (these machines expose none) and without one. */
class EnergyMeterTest {
    @TempDir
    Path zone;

    @Test
    void aReadableCounterIsMeasuredAcrossItsWrap() throws Exception {
        Files.writeString(zone.resolve("max_energy_range_uj"), "1000000000\n");
        Files.writeString(zone.resolve("energy_uj"), "999000000\n");
        EnergyMeter meter = new EnergyMeter(3.75, zone);
        EnergyMeter.Reading start = meter.read();
        Files.writeString(zone.resolve("energy_uj"), "2500000\n"); // wrapped: 1 J to the top (999 of 1,000 J), then 2.5 J
        EnergyMeter.Energy e = meter.since(start);
        assertThat(e.measured()).isTrue();
        assertThat(e.joules()).isCloseTo(1 + 2.5, Offset.offset(1e-9));
        assertThat(e.label()).isEqualTo("measured (RAPL)");
    }

    @Test
    void withoutACounterTheCpuTimeIsPricedAtTheStatedPower() {
        EnergyMeter meter = new EnergyMeter(2.0, zone.resolve("absent"));
        EnergyMeter.Reading start = meter.read();
        double x = 0;
        for (int i = 0; i < 20_000_000; i++) x += Math.sqrt(i); // some CPU time to price
        EnergyMeter.Energy e = meter.since(start);
        assertThat(x).isPositive();
        assertThat(e.measured()).isFalse();
        assertThat(e.cpuSeconds()).isPositive();
        assertThat(e.joules()).isCloseTo(2.0 * e.cpuSeconds(), Offset.offset(1e-12));
        assertThat(e.label()).contains("estimated");
    }
}
