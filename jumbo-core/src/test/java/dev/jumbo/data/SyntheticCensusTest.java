package dev.jumbo.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.data.SyntheticCensus.Person;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticCensusTest {
    @TempDir
    Path tmp;

    @Test
    void theSameSeedGivesTheSameRowsAndAnotherSeedOthers() {
        assertThat(SyntheticCensus.generate(200, 3)).isEqualTo(SyntheticCensus.generate(200, 3));
        assertThat(SyntheticCensus.generate(200, 3)).isNotEqualTo(SyntheticCensus.generate(200, 4));
    }

    @Test
    void columnsStayInTheirRangesAndAboutAQuarterArePositive() {
        List<Person> people = SyntheticCensus.generate(20_000, 11);
        int positives = 0;
        for (Person p : people) {
            assertThat(p.age()).isBetween(17, 90);
            assertThat(p.educationYears()).isBetween(1, 16);
            assertThat(p.hoursPerWeek()).isBetween(1, 99);
            assertThat(p.capitalGainK()).isBetween(0.0, 99.9);
            assertThat(p.sex()).isBetween(0, 1);
            assertThat(p.group()).isBetween(0, 3);
            positives += p.incomeOver50k();
        }
        assertThat(positives / 20_000.0).isBetween(0.18, 0.32);
        long majority = people.stream().filter(p -> p.group() == 0).count();
        assertThat(majority / 20_000.0).isBetween(0.57, 0.63);
    }

    @Test
    void theLabelDependsOnTheSensitiveColumnAsDocumented() {
        List<Person> people = SyntheticCensus.generate(20_000, 12);
        double[] rate = new double[2], count = new double[2];
        for (Person p : people) {
            rate[p.sex()] += p.incomeOver50k();
            count[p.sex()]++;
        }
        double women = rate[0] / count[0], men = rate[1] / count[1];
        assertThat(men - women).as("P(label | sex=1) - P(label | sex=0)").isGreaterThan(0.15);
        // the labels follow the documented log-odds: mean predicted probability matches the positive share
        double expected = people.stream().mapToDouble(p -> 1 / (1 + Math.exp(-p.logOdds()))).average().orElseThrow();
        double observed = people.stream().mapToDouble(Person::incomeOver50k).average().orElseThrow();
        assertThat(observed).isCloseTo(expected, org.assertj.core.api.Assertions.within(0.015));
        // the Bayes classifier selects about 3% of sex = 0 and 23% of sex = 1; sex = 0 works about 8 hours less
        double[] selected = new double[2], hours = new double[2];
        for (Person p : people) {
            if (p.logOdds() > 0) selected[p.sex()]++;
            hours[p.sex()] += p.hoursPerWeek();
        }
        assertThat(selected[0] / count[0]).isBetween(0.01, 0.06);
        assertThat(selected[1] / count[1]).isBetween(0.18, 0.28);
        assertThat(hours[1] / count[1] - hours[0] / count[0]).isBetween(7.0, 9.0);
    }

    @Test
    void theCsvReadsBackAsTheSameDatasetWithTheLabelLast() throws Exception {
        List<Person> people = SyntheticCensus.generate(300, 5);
        Path file = tmp.resolve("census.csv");
        SyntheticCensus.write(file, 300, 5);
        assertThat(Files.readAllLines(file).getFirst()).isEqualTo("age,education_years,hours_per_week,capital_gain_k,sex,group,income_over_50k");
        TensorDataset read = Csv.read(file, true, -1), made = SyntheticCensus.dataset(people);
        assertThat(read.x().shape()).isEqualTo(made.x().shape());
        assertThat(read.x().toFloatArray()).containsExactly(made.x().toFloatArray());
        assertThat(read.y().toFloatArray()).containsExactly(made.y().toFloatArray());
    }

    @Test
    void refusesFewerThanOneRow() {
        assertThatThrownBy(() -> SyntheticCensus.generate(0, 1)).hasMessageContaining("rows must be at least 1, got 0");
    }
}
