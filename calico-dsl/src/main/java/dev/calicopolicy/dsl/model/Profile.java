package dev.calicopolicy.dsl.model;

import java.util.List;
import java.util.Objects;

/**
 * A security profile: the tags it gives its endpoints and its inbound and outbound rules, in order.
 */
public record Profile(
        String id,
        List<String> tags,
        List<Rule> inboundRules,
        List<Rule> outboundRules,
        SourceLocation location) {

    public Profile {
        Objects.requireNonNull(id, "id should not be null");
        tags = List.copyOf(tags);
        inboundRules = List.copyOf(inboundRules);
        outboundRules = List.copyOf(outboundRules);
        Objects.requireNonNull(location, "location should not be null");
    }

    public List<Rule> rules(Direction direction) {
        return direction == Direction.INBOUND ? inboundRules : outboundRules;
    }

    /** The same profile without source positions, for comparing models by meaning. */
    public Profile withoutLocations() {
        return new Profile(
                id,
                tags,
                inboundRules.stream().map(Rule::withoutLocation).toList(),
                outboundRules.stream().map(Rule::withoutLocation).toList(),
                SourceLocation.NONE);
    }
}
