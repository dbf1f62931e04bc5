package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.api.service.KeyService;
import io.flotilla.testcluster.chaos.ChaosRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The checkers must be able to fail: with a deliberate bug switched on in every node (a test-only
 * failpoint), the same runs that pass on a correct cluster report the anomaly the bug causes.
 */
class ChaosCheckersCatchBugsIT {
  private final Path runs = Path.of("target", "chaos-runs").toAbsolutePath();

  private ChaosRun.Result run(ProcessCluster cluster, String workload, String nemesis, int seconds, long seed)
      throws Exception {
    ChaosRun.Options options = new ChaosRun.Options(workload, List.of(nemesis), Duration.ofSeconds(seconds), seed, 5,
        Duration.ofSeconds(5), runs.resolve("bug-" + workload + "-" + nemesis + "-" + seed));
    ChaosRun.Result result = ChaosRun.run(options, cluster);
    System.out.print("ChaosCheckersCatchBugsIT: " + ChaosRun.describe(options, result));
    return result;
  }

  @Test
  void strongReadsServedFromALocalReplicaAreCaughtAsNonLinearizable() throws Exception {
    Assumptions.assumeTrue(Network.available(), () -> "skipped: " + Network.unavailableReason());
    try (ProcessCluster cluster = ProcessCluster.startIsolatable("bug-reads", 48, 3,
        Map.of("failpoints", List.of(KeyService.FAIL_STRONG_READS_LOCAL)))) {
      ChaosRun.Result r = run(cluster, "register", "partition-leader", 25, 11);
      assertFalse(r.valid(), "the register checker missed stale strong reads");
      assertTrue(r.verdict().anomalies().stream().anyMatch(a -> a.contains("not linearizable")), r.verdict()::toString);
    }
  }

  @Test
  void writesAcknowledgedBeforeTheyCommitAreCaughtAsLost() throws Exception {
    try (ProcessCluster cluster = ProcessCluster.start("bug-acks", 49, 3,
        Map.of("failpoints", List.of(KeyService.FAIL_ACK_BEFORE_COMMIT)))) {
      ChaosRun.Result r = run(cluster, "set", "kill-random", 25, 12);
      assertFalse(r.valid(), "the set checker missed acknowledged writes that were never committed");
      assertTrue(r.verdict().anomalies().stream().anyMatch(a -> a.contains("lost")), r.verdict()::toString);
    }
  }
}
