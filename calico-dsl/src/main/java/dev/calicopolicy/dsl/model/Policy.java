package dev.calicopolicy.dsl.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A whole checked policy: every profile (sorted by id) and every endpoint (sorted by key). It is
 * immutable and canonical, so two policies with the same meaning are equal whatever order their
 * sources were read in. Emitters see only this model.
 */
public final class Policy {
    private final List<Profile> profiles;
    private final List<Endpoint> endpoints;
    private final Map<String, Profile> profilesById;
    private final Map<String, List<Cidr>> tagMembers;
    private final Map<String, List<Endpoint>> endpointsByHost;

    public Policy(List<Profile> profiles, List<Endpoint> endpoints) {
        List<Profile> sortedProfiles = new ArrayList<>(profiles);
        sortedProfiles.sort(Comparator.comparing(Profile::id));
        List<Endpoint> sortedEndpoints = new ArrayList<>(endpoints);
        sortedEndpoints.sort(Comparator.comparing(Endpoint::key));
        this.profiles = List.copyOf(sortedProfiles);
        this.endpoints = List.copyOf(sortedEndpoints);

        Map<String, Profile> byId = new LinkedHashMap<>();
        for (Profile p : this.profiles) {
            if (byId.put(p.id(), p) != null) {
                throw new IllegalArgumentException("profile " + p.id() + " defined twice");
            }
        }
        this.profilesById = Collections.unmodifiableMap(byId);
        this.tagMembers = Collections.unmodifiableMap(computeTagMembers());
        Map<String, List<Endpoint>> byHost = new TreeMap<>();
        for (Endpoint e : this.endpoints) {
            byHost.computeIfAbsent(e.host(), h -> new ArrayList<>()).add(e);
        }
        byHost.replaceAll((host, list) -> List.copyOf(list));
        this.endpointsByHost = Collections.unmodifiableMap(byHost);
    }

    public List<Profile> profiles() {
        return profiles;
    }

    public List<Endpoint> endpoints() {
        return endpoints;
    }

    public Profile profile(String id) {
        return profilesById.get(id);
    }

    /** The names of all hosts that have at least one endpoint, sorted. */
    public SortedSet<String> hosts() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(endpointsByHost.keySet()));
    }

    /** The endpoints on one host, in key order. */
    public List<Endpoint> endpointsOn(String host) {
        return endpointsByHost.getOrDefault(host, List.of());
    }

    /** Every tag some profile gives, sorted. */
    public SortedSet<String> tags() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(tagMembers.keySet()));
    }

    /**
     * The nets of every endpoint in the policy whose profiles carry {@code tag}, sorted (IPv4
     * first, then by address) and distinct; empty for a tag no profile gives. Inactive endpoints
     * are members too, as in Calico.
     */
    public List<Cidr> tagMembers(String tag) {
        return tagMembers.getOrDefault(tag, List.of());
    }

    private Map<String, List<Cidr>> computeTagMembers() {
        // Gather each profile's endpoint nets once, then give every tag the union of its
        // profiles' lists, sorted once: far cheaper than inserting into sorted sets one by one.
        Map<String, List<Cidr>> netsByProfile = new HashMap<>();
        for (Endpoint e : endpoints) {
            for (String profileId : e.profileIds()) {
                if (profilesById.containsKey(profileId)) {
                    List<Cidr> nets =
                            netsByProfile.computeIfAbsent(profileId, id -> new ArrayList<>());
                    nets.addAll(e.ipv4Nets());
                    nets.addAll(e.ipv6Nets());
                }
            }
        }
        Map<String, List<Cidr>> byTag = new TreeMap<>();
        for (Profile p : profiles) {
            List<Cidr> nets = netsByProfile.getOrDefault(p.id(), List.of());
            for (String tag : p.tags()) {
                byTag.computeIfAbsent(tag, t -> new ArrayList<>()).addAll(nets);
            }
        }
        Map<String, List<Cidr>> members = new TreeMap<>();
        for (Map.Entry<String, List<Cidr>> tag : byTag.entrySet()) {
            Cidr[] sorted = tag.getValue().toArray(new Cidr[0]);
            Arrays.sort(sorted);
            List<Cidr> distinct = new ArrayList<>(sorted.length);
            for (Cidr c : sorted) {
                if (distinct.isEmpty() || !distinct.get(distinct.size() - 1).equals(c)) {
                    distinct.add(c);
                }
            }
            members.put(tag.getKey(), Collections.unmodifiableList(distinct));
        }
        return members;
    }

    /** This policy without source positions, for comparing models by meaning. */
    public Policy withoutLocations() {
        return new Policy(
                profiles.stream().map(Profile::withoutLocations).toList(),
                endpoints.stream().map(Endpoint::withoutLocation).toList());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Policy other
                && profiles.equals(other.profiles)
                && endpoints.equals(other.endpoints);
    }

    @Override
    public int hashCode() {
        return Objects.hash(profiles, endpoints);
    }

    @Override
    public String toString() {
        return "Policy[" + profiles.size() + " profiles, " + endpoints.size() + " endpoints]";
    }
}
