package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.testcluster.chaos.ChaosRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The chaos harness's CI smoke: short runs of each workload under a fault, on one cluster
 * (with the placement driver on), each judged by its checker. Run directories stay under
 * target/chaos-runs for inspection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChaosSmokeIT {
  private ProcessCluster cluster;
  private final Path runs = Path.of("target", "chaos-runs").toAbsolutePath();

  @BeforeAll
  void startCluster() throws Exception {
    Map<String, Object> settings = Map.of("placement", Map.of("enabled", true), "clockSkewForTests", true);
    cluster = Network.available() ? ProcessCluster.startIsolatable("chaos", 47, 3, settings)
        : ProcessCluster.start("chaos", 47, 3, settings);
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private ChaosRun.Result run(String workload, String nemesis, int seconds, long seed) throws Exception {
    ChaosRun.Options options = new ChaosRun.Options(workload, List.of(nemesis.split(",")), Duration.ofSeconds(seconds),
        seed, 5, Duration.ofSeconds(5), runs.resolve(workload + "-" + nemesis.replace(',', '+') + "-" + seed));
    ChaosRun.Result result = ChaosRun.run(options, cluster);
    String report = ChaosRun.describe(options, result);
    System.out.print("ChaosSmokeIT: " + report);
    assertTrue(result.valid(), report);
    assertFalse(result.faults().isEmpty(), "the nemesis struck: " + report);
    assertTrue(result.ok() > 50, "the clients made progress: " + report);
    assertTrue(Files.size(result.runDir().resolve("history.jsonl")) > 0);
    assertTrue(Files.readString(result.runDir().resolve("latency.svg")).contains("<rect"), "fault windows drawn");
    return result;
  }

  @Test
  void registerUnderRangeAndPlacementDriverLeaderKillsIsLinearizable() throws Exception {
    run("register", "kill-leader,kill-pd-leader", 30, 1);
  }

  /** Graceful stops hand leaderships over while clients write: no history may tell. */
  @Test
  void registerUnderRollingRestartsOfRangeLeadersIsLinearizable() throws Exception {
    run("register", "restart-leader", 25, 7);
  }

  @Test
  void setUnderPausesLosesNoAcknowledgedAdd() throws Exception {
    run("set", "pause", 20, 2);
  }

  @Test
  void counterUnderKillingEveryNodeKeepsEveryAcknowledgedIncrement() throws Exception {
    run("counter", "kill-all", 25, 4);
  }

  @Test
  void bankTransfersUnderRandomKillsAndClockSkewConserveTheTotal() throws Exception {
    run("bank", "kill-random,clock", 25, 5);
  }

  @Test
  void staleReadsWithMinRevisionSeeTheirOwnWritesWhileRangesSplitMergeAndMove() throws Exception {
    run("stale", "admin", 25, 6);
  }

  @Test
  void registerUnderAnIsolatedLeaderAndBridgedHalvesIsLinearizable() throws Exception {
    Assumptions.assumeTrue(Network.available(), () -> "skipped: " + Network.unavailableReason());
    run("register", "partition-leader,partition-bridge", 25, 3);
  }
}
