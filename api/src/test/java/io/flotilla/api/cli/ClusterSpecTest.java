package io.flotilla.api.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.configuration.YamlConfigurationFactory;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.logging.common.LoggingFactory;
import io.dropwizard.jersey.validation.Validators;
import io.flotilla.api.config.FlotillaConfiguration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class ClusterSpecTest {
  @Test
  void nodeIGetsItsOwnLoopbackAddressWithTheSamePorts() {
    ClusterSpec spec = ClusterSpec.defaults(3, Path.of("data"), "127.0.0.11", 7001, 7101);
    assertEquals("http://127.0.0.13:7001", spec.httpUrl(3));
    assertEquals("127.0.0.12:7101", spec.raftAddress(2));
    assertEquals("n2", spec.nodeId(2));
    assertTrue(spec.nodeDir(1).isAbsolute());
    @SuppressWarnings("unchecked")
    Map<String, Object> flotilla = (Map<String, Object>) spec.nodeConfig(2).get("flotilla");
    assertEquals("n2", flotilla.get("id"));
    assertEquals(3, ((List<?>) flotilla.get("peers")).size());
  }

  @Test
  void onlyLoopbackAddressesAreAccepted() {
    ClusterSpec spec = ClusterSpec.defaults(3, Path.of("data"), "10.0.0.1", 7001, 7101);
    assertThrows(IllegalArgumentException.class, () -> spec.ip(1));
  }

  @Test
  void evenSplitsAreSortedDistinctAndCountRangesMinusOne() {
    List<String> splits = ClusterSpec.evenSplits(100);
    assertEquals(99, splits.size());
    for (int i = 1; i < splits.size(); i++) {
      assertTrue(splits.get(i - 1).compareTo(splits.get(i)) < 0);
    }
    assertEquals(List.of(), ClusterSpec.evenSplits(1));
  }

  /**
   * With JSON logs, the node's own configuration (read as the node reads it) makes Dropwizard
   * write node.log as one JSON object per event, carrying the node's id.
   */
  @Test
  void jsonLogsWriteOneObjectPerEventWithTheNode(@TempDir Path dir) throws Exception {
    ClusterSpec spec = new ClusterSpec(1, dir, "127.0.0.11", 7001, 7101, List.of(), Map.of(), true);
    Path yml = dir.resolve("node.yml");
    Files.createDirectories(spec.nodeDir(1));
    ClusterSpec.writeConfig(yml, spec.nodeConfig(1));
    ObjectMapper json = Jackson.newObjectMapper();
    FlotillaConfiguration config = new YamlConfigurationFactory<>(FlotillaConfiguration.class,
        Validators.newValidator(), json, "dw").build(yml.toFile());
    LoggingFactory logging = config.getLoggingFactory();
    logging.configure(new MetricRegistry(), "flotilla-test");
    try {
      LoggerFactory.getLogger("io.flotilla.test").warn("range {} split at \"{}\"", 7, "m");
    } finally {
      logging.stop();
      logging.reset();
    }
    List<JsonNode> events = new ArrayList<>();
    for (String line : Files.readAllLines(spec.nodeDir(1).resolve("node.log"))) {
      events.add(json.readTree(line)); // every line is one JSON object
    }
    JsonNode event = events.stream().filter(e -> "io.flotilla.test".equals(e.path("logger").asText()))
        .findFirst().orElseThrow(() -> new AssertionError("no event of the test's logger in " + events));
    assertEquals("WARN", event.get("level").asText());
    assertEquals("range 7 split at \"m\"", event.get("message").asText());
    assertEquals("n1", event.get("node").asText());
    assertTrue(event.has("timestamp"), event::toString);
  }

  /** A node joining with --join logs as the cluster's nodes set up beside it do, unless told otherwise. */
  @Test
  void aJoiningNodeFollowsItsClusterLogFormat(@TempDir Path dir) throws Exception {
    assertEquals(false, JoinerSetup.membersLogJson(dir.resolve("absent")));
    assertEquals(false, JoinerSetup.membersLogJson(dir));
    for (boolean jsonLogs : new boolean[] {true, false}) {
      Path data = dir.resolve("cluster-" + jsonLogs);
      ClusterSpec spec = new ClusterSpec(2, data, "127.0.0.11", 7001, 7101, List.of(), Map.of(), jsonLogs);
      for (int i = 1; i <= 2; i++) {
        Files.createDirectories(spec.nodeDir(i));
        ClusterSpec.writeConfig(spec.nodeDir(i).resolve("node.yml"), spec.nodeConfig(i));
      }
      assertEquals(jsonLogs, ClusterSpec.logsJson(spec.nodeDir(1).resolve("node.yml")));
      assertEquals(jsonLogs, JoinerSetup.membersLogJson(data));
    }
  }

  /** Node settings given as overrides ({@code --set perRangeMetrics=counts}) reach the node's configuration. */
  @Test
  void perRangeMetricsIsANodeSetting(@TempDir Path dir) throws Exception {
    ClusterSpec spec = new ClusterSpec(1, dir, "127.0.0.11", 7001, 7101, List.of(),
        ClusterCommand.nested(Map.of("perRangeMetrics", "counts")), false);
    Path yml = dir.resolve("node.yml");
    ClusterSpec.writeConfig(yml, spec.nodeConfig(1));
    FlotillaConfiguration config = new YamlConfigurationFactory<>(FlotillaConfiguration.class,
        Validators.newValidator(), Jackson.newObjectMapper(), "dw").build(yml.toFile());
    assertEquals(io.flotilla.api.service.RangeMetrics.Detail.COUNTS, config.flotilla.perRangeMetrics);
    FlotillaConfiguration defaults = new YamlConfigurationFactory<>(FlotillaConfiguration.class,
        Validators.newValidator(), Jackson.newObjectMapper(), "dw").build(writeDefault(dir));
    assertEquals(io.flotilla.api.service.RangeMetrics.Detail.ALL, defaults.flotilla.perRangeMetrics);
  }

  private static java.io.File writeDefault(Path dir) throws Exception {
    Path yml = dir.resolve("default.yml");
    ClusterSpec.writeConfig(yml, ClusterSpec.defaults(1, dir, "127.0.0.11", 7001, 7101).nodeConfig(1));
    return yml.toFile();
  }
}
