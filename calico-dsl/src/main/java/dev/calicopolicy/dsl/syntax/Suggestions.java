package dev.calicopolicy.dsl.syntax;

import java.util.Collection;

/** "Did you mean" for misspelled names: the closest known name within a small edit distance. */
public final class Suggestions {
    private Suggestions() {}

    /**
     * The candidate closest to {@code name} by edit distance, if it is close enough to be a
     * plausible typo (at most a third of the name's length, and at most 3 edits); otherwise null.
     * Ties go to the alphabetically first candidate, so the suggestion is stable.
     */
    public static String closest(String name, Collection<String> candidates) {
        int limit = Math.min(3, Math.max(1, name.length() / 3));
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            if (Math.abs(candidate.length() - name.length()) > limit) {
                continue;
            }
            int d = distance(name, candidate);
            if (d <= limit
                    && (d < bestDistance || (d == bestDistance && candidate.compareTo(best) < 0))) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions, swaps. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] =
                        Math.min(
                                Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1
                        && j > 1
                        && a.charAt(i - 1) == b.charAt(j - 2)
                        && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
