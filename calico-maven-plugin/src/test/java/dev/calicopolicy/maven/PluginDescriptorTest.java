package dev.calicopolicy.maven;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
    void leavesPublishUnboundForADeployStepToRun() {
        assertThat(text(mojo("publish"), "phase")).isNull();
    }

    @Test
    void marksEveryGoalThreadSafe() {
        NodeList mojos = plugin.getElementsByTagName("mojo");
        assertThat(mojos.getLength()).isGreaterThanOrEqualTo(3);
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

    @Test
    void takesEachSettingOfPublishFromAUserPropertyWithItsDefault() {
        assertThat(settings(mojo("publish")))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.ofEntries(
                                Map.entry(
                                        "calico.outputDirectory",
                                        "${project.build.directory}/calico"),
                                Map.entry("calico.skip", "false"),
                                Map.entry("calico.dryRun", "false"),
                                Map.entry("calico.etcd", "http://127.0.0.1:2379"),
                                Map.entry("calico.etcd.caFile", ""),
                                Map.entry("calico.etcd.certFile", ""),
                                Map.entry("calico.etcd.keyFile", ""),
                                Map.entry("calico.etcd.user", ""),
                                Map.entry("calico.etcd.password", ""),
                                Map.entry("calico.etcd.passwordFile", ""),
                                Map.entry("calico.etcd.connectTimeout", "5s"),
                                Map.entry("calico.etcd.requestTimeout", "10s"),
                                Map.entry("calico.verify", "false"),
                                Map.entry("calico.maxTxnOps", "128"),
                                Map.entry("calico.maxTxnBytes", "1572864"),
                                Map.entry("calico.lockTtl", "15s"),
                                Map.entry("calico.retryFor", "30s")));
    }

    @Test
    void bringsNoLoggingBindingOfItsOwnIntoMaven() {
        // Maven gives plugins its SLF4J API and binding: the publisher's log lines then show in the
        // build's log. A binding of the plugin's own would be ignored at best.
        Element dependencies = (Element) plugin.getElementsByTagName("dependencies").item(0);
        NodeList ids = dependencies.getElementsByTagName("artifactId");
        List<String> artifacts = new ArrayList<>();
        for (int i = 0; i < ids.getLength(); i++) {
            artifacts.add(ids.item(i).getTextContent().trim());
        }
        assertThat(artifacts).contains("calico-runtime-agent", "jetcd-core");
        assertThat(artifacts)
                .noneMatch(a -> a.startsWith("slf4j-") || a.startsWith("logback"))
                .noneMatch(a -> a.startsWith("log4j"));
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
