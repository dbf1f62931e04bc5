package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.testcluster.chaos.ChaosRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The chaos harness on the Docker backend: the same register workload, with leaders killed and
 * nodes paused through the container runtime. Skipped, with the reason, where no Docker daemon
 * answers (.ci/run installs and starts one).
 */
class DockerChaosIT {
  @Test
  void registerOnContainersUnderKillsAndPausesIsLinearizable() throws Exception {
    String why = DockerCluster.unavailableReason();
    Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
    Path home = Path.of("..").toAbsolutePath().normalize();
    try (DockerCluster cluster = DockerCluster.start(home, "chaos", 52, 3,
        Map.of("placement", Map.of("enabled", true)))) {
      // Faults every 4 s: with both kinds drawn from the seed, kills and pauses both happen.
      ChaosRun.Options options = new ChaosRun.Options("register", List.of("kill-leader", "pause"),
          Duration.ofSeconds(30), 7, 5, Duration.ofSeconds(4),
          Path.of("target", "chaos-runs", "docker-register-7").toAbsolutePath());
      ChaosRun.Result result = ChaosRun.run(options, cluster);
      String report = ChaosRun.describe(options, result);
      System.out.print("DockerChaosIT: " + report);
      assertTrue(result.valid(), report);
      assertTrue(result.faults().stream().anyMatch(f -> f.startsWith("killed")), "a container was killed: " + report);
      assertTrue(result.ok() > 50, report);
    }
  }
}
