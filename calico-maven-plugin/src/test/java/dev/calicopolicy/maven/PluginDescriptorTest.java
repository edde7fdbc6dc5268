package dev.calicopolicy.maven;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The plugin descriptor that the build generated from the mojos' annotations: what {@code mvn
 * calico:help -Ddetail} shows and what Maven reads to find goals, phases and parameters. The
 * integration tests under {@code src/it} run the goals; this checks the names and defaults users
 * type.
 */
class PluginDescriptorTest {
    private static Element plugin;

    @BeforeAll
    static void readDescriptor() throws Exception {
        File file = new File("target/classes/META-INF/maven/plugin.xml");
        assertThat(file).as("the descriptor the build generates before the tests").isFile();
        plugin =
                DocumentBuilderFactory.newInstance()
                        .newDocumentBuilder()
                        .parse(file)
                        .getDocumentElement();
    }

    @Test
    void answersToThePrefixCalico() {
        assertThat(text(plugin, "goalPrefix")).isEqualTo("calico");
    }

    @Test
    void bindsCheckToValidateAndCompileToGenerateResources() {
        assertThat(text(mojo("check"), "phase")).isEqualTo("validate");
        assertThat(text(mojo("compile"), "phase")).isEqualTo("generate-resources");
    }

    @Test
    void marksEveryGoalThreadSafe() {
        NodeList mojos = plugin.getElementsByTagName("mojo");
        assertThat(mojos.getLength()).isGreaterThanOrEqualTo(2);
        for (int i = 0; i < mojos.getLength(); i++) {
            assertThat(text((Element) mojos.item(i), "threadSafe"))
                    .as(text((Element) mojos.item(i), "goal"))
                    .isEqualTo("true");
        }
    }

    @Test
    void takesEachSettingOfCompileFromAUserPropertyWithItsDefault() {
        assertThat(settings(mojo("compile")))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of(
                                "calico.sourceDirectory", "${project.basedir}/src/main/calico",
                                "calico.outputDirectory", "${project.build.directory}/calico",
                                "calico.skip", "false",
                                "calico.failOnWarning", "false",
                                "calico.chainPrefix", "cali-",
                                "calico.workloadToHost", "drop",
                                "calico.hostRules", "all"));
    }

    @Test
    void takesEachSettingOfCheckFromAUserPropertyWithItsDefault() {
        assertThat(settings(mojo("check")))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of(
                                "calico.sourceDirectory", "${project.basedir}/src/main/calico",
                                "calico.skip", "false",
                                "calico.failOnWarning", "false"));
    }

    private static Element mojo(String goal) {
        NodeList mojos = plugin.getElementsByTagName("mojo");
        for (int i = 0; i < mojos.getLength(); i++) {
            Element mojo = (Element) mojos.item(i);
            if (goal.equals(text(mojo, "goal"))) {
                return mojo;
            }
        }
        throw new AssertionError("no goal " + goal + " in the descriptor");
    }

    /** Each user-settable parameter: its property, mapped to its default. */
    private static Map<String, String> settings(Element mojo) {
        Element configuration = (Element) mojo.getElementsByTagName("configuration").item(0);
        Map<String, String> settings = new LinkedHashMap<>();
        NodeList params = configuration.getChildNodes();
        for (int i = 0; i < params.getLength(); i++) {
            if (params.item(i) instanceof Element param && !param.getTextContent().isEmpty()) {
                String property = param.getTextContent().replaceAll("^\\$\\{(.*)}$", "$1");
                settings.put(property, param.getAttribute("default-value"));
            }
        }
        return settings;
    }

    private static String text(Element parent, String child) {
        NodeList nodes = parent.getElementsByTagName(child);
        return nodes.getLength() == 0 ? null : nodes.item(0).getTextContent().trim();
    }
}
