package dev.calicopolicy.dsl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.dsl.bench.PolicyGenerator;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundle;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundleReader;
import dev.calicopolicy.dsl.model.Policy;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Property: for generated policies of random size and content, the bundle says everything the model
 * says. Compile, write the bundle, read it back into the model, and compare.
 */
class BundleRoundTripTest {
    @TempDir Path tmp;

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 25);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aCompiledBundleReadsBackIntoTheSamePolicy(long seed) throws Exception {
        Random random = new Random(seed);
        int hosts = 1 + random.nextInt(30);
        PolicyGenerator.Size size =
                new PolicyGenerator.Size(
                        hosts,
                        hosts + random.nextInt(400),
                        1 + random.nextInt(150),
                        random.nextInt(14));
        Path src = tmp.resolve("src");
        PolicyGenerator.write(size, seed, src);

        Compilation c = new PolicyCompiler(src).compile(List.of(src));
        assertThat(c.hasErrors()).as("%s", c.diagnostics()).isFalse();
        Policy compiled = c.policy().orElseThrow();
        OutputWriter.write(c, CompileOptions.DEFAULTS, tmp.resolve("out"));

        Policy readBack =
                EtcdBundleReader.read(
                        EtcdBundle.read(tmp.resolve("out").resolve(OutputWriter.BUNDLE)));

        assertThat(readBack.endpoints()).hasSize(size.endpoints());
        assertThat(readBack.profiles()).hasSize(size.profiles());
        assertThat(readBack).isEqualTo(compiled.withoutLocations());
        for (String tag : compiled.tags()) {
            assertThat(readBack.tagMembers(tag)).isEqualTo(compiled.tagMembers(tag));
        }
    }
}
