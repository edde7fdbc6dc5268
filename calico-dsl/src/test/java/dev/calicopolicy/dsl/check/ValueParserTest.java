package dev.calicopolicy.dsl.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.dsl.model.Cidr;
import dev.calicopolicy.dsl.model.SourceLocation;
import dev.calicopolicy.dsl.syntax.Located;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast paths for plain IPv4 and IPv6 CIDRs give exactly what the general IPAddress parser
 * gives: the same canonical network, prefix and host-bits warning, on many random addresses.
 */
class ValueParserTest {
    @Test
    void fastAddressParsingAgreesWithTheGeneralParser() {
        Random random = new Random(11);
        for (int i = 0; i < 20_000; i++) {
            String text = i % 2 == 0 ? randomIpv4(random) : randomIpv6(random);
            DiagnosticSink sink = new DiagnosticSink();
            Cidr fast =
                    new ValueParser(sink).cidr(new Located<>(text, new SourceLocation("t", 1, 1)));

            IPAddress general = new IPAddressString(text).getAddress();
            IPAddress network = general.toPrefixBlock();
            String expected =
                    network.getLower().withoutPrefixLength().toCompressedString()
                            + "/"
                            + (general.getNetworkPrefixLength() == null
                                    ? general.getBitCount()
                                    : general.getNetworkPrefixLength());
            assertThat(fast).as(text).hasToString(expected);
            boolean hostBits = general.getNetworkPrefixLength() != null && !general.isPrefixBlock();
            assertThat(sink.all()).as(text).hasSize(hostBits ? 1 : 0);
        }
    }

    private static String randomIpv4(Random r) {
        String address =
                r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256);
        return r.nextBoolean() ? address : address + "/" + r.nextInt(33);
    }

    private static String randomIpv6(Random r) {
        int[] groups = new int[8];
        for (int g = 0; g < 8; g++) {
            groups[g] = r.nextInt(3) == 0 ? 0 : r.nextInt(r.nextBoolean() ? 16 : 65536);
        }
        StringBuilder full = new StringBuilder();
        for (int g = 0; g < 8; g++) {
            full.append(g == 0 ? "" : ":")
                    .append(
                            r.nextBoolean()
                                    ? Integer.toHexString(groups[g])
                                    : Integer.toHexString(groups[g]).toUpperCase());
        }
        String address = full.toString();
        if (r.nextBoolean()) {
            // Compress some run of zero groups by hand, as a person might write it.
            address = new IPAddressString(address).getAddress().toCompressedString();
        }
        return r.nextBoolean() ? address : address + "/" + r.nextInt(129);
    }
}
