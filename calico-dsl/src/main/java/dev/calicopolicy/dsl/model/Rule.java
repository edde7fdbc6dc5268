package dev.calicopolicy.dsl.model;

import java.util.List;
import java.util.Objects;

/**
 * One rule of the Calico v1 data model: every match field is optional ({@code null} or an empty
 * port list when absent). A source rule that lists several tags or nets has already been expanded
 * into several of these, in order.
 *
 * @param location where the source rule was written
 */
public record Rule(
        Action action,
        Protocol protocol,
        String srcTag,
        Cidr srcNet,
        List<PortRange> srcPorts,
        String dstTag,
        Cidr dstNet,
        List<PortRange> dstPorts,
        Integer icmpType,
        Integer icmpCode,
        SourceLocation location) {

    public Rule {
        Objects.requireNonNull(action, "action should not be null");
        srcPorts = List.copyOf(srcPorts);
        dstPorts = List.copyOf(dstPorts);
        Objects.requireNonNull(location, "location should not be null");
    }

    /**
     * The IP version this rule is restricted to by its nets or protocol, or {@code null} when it
     * applies to both.
     */
    public IpVersion ipVersion() {
        if (srcNet != null) {
            return srcNet.version();
        }
        if (dstNet != null) {
            return dstNet.version();
        }
        if (protocol != null && protocol.number() == 1) {
            return IpVersion.V4;
        }
        if (protocol != null && protocol.number() == 58) {
            return IpVersion.V6;
        }
        return null;
    }

    /** True when the rule applies to packets of this IP version. */
    public boolean appliesTo(IpVersion version) {
        IpVersion own = ipVersion();
        return own == null || own == version;
    }

    /** The same rule without its source position, for comparing models by meaning. */
    public Rule withoutLocation() {
        return new Rule(
                action,
                protocol,
                srcTag,
                srcNet,
                srcPorts,
                dstTag,
                dstNet,
                dstPorts,
                icmpType,
                icmpCode,
                SourceLocation.NONE);
    }
}
