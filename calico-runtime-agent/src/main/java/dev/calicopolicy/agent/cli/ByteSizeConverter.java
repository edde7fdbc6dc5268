package dev.calicopolicy.agent.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Reads sizes such as {@code 1572864}, {@code 512KiB} or {@code 1.5MiB} (K and M are 1024-based).
 */
final class ByteSizeConverter implements CommandLine.ITypeConverter<Long> {
    private static final Pattern FORM =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");

    @Override
    public Long convert(String text) {
        Matcher m = FORM.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException(
                    "'" + text + "' is not a size (expected bytes, or e.g. 512KiB, 1.5MiB)");
        }
        double amount = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        double factor =
                switch (unit.charAt(0)) {
                    case 'k' -> 1024;
                    case 'm' -> 1024 * 1024;
                    case 'g' -> 1024 * 1024 * 1024;
                    default -> 1;
                };
        return Math.round(amount * factor);
    }
}
