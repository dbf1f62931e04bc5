package io.flotilla.testcluster.chaos;

import io.flotilla.testcluster.ClusterBackend;
import io.flotilla.testcluster.DockerCluster;
import io.flotilla.testcluster.ProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/flotilla chaos}: starts a fresh local cluster, runs a workload under a nemesis,
 * checks the history, prints the verdict and the run directory, and exits 1 on any anomaly
 * (2 when the checker could not decide).
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = "Run a Jepsen-style test: a workload under faults, then check every history.")
public final class ChaosMain implements Callable<Integer> {
  @Option(names = "--workload", defaultValue = "register",
      description = "register, set, counter, bank or stale (default: ${DEFAULT-VALUE})")
  String workload;

  @Option(names = "--nemesis", split = ",", defaultValue = "kill-leader",
      description = "faults, comma separated: kill-leader, kill-pd-leader, kill-random, kill-majority, kill-all, "
          + "restart-leader (SIGTERM), pause, partition-leader, partition-halves, partition-bridge, admin (split/merge/move/transfer-leader), "
          + "clock (default: ${DEFAULT-VALUE})")
  List<String> nemesis;

  @Option(names = "--time", defaultValue = "60", description = "seconds of workload (default: ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--seed", defaultValue = "42", description = "seed of the clients' and the faults' choices")
  long seed;

  @Option(names = "--clients", defaultValue = "5")
  int clients;

  @Option(names = "--fault-every", defaultValue = "8", description = "seconds between faults, and each fault's length")
  int faultEvery;

  @Option(names = "--nodes", defaultValue = "3")
  int nodes;

  @Option(names = "--subnet", defaultValue = "50", description = "the cluster binds 127.0.<subnet>.11 and up")
  int subnet;

  @Option(names = "--out", description = "run directory (default: ./chaos-runs/<workload>-<seed>-<time>)")
  Path out;

  @Option(names = "--backend", defaultValue = "process",
      description = "process (node processes on loopback) or docker (containers on the host network)")
  String backend;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ChaosMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path dir = out != null ? out : Path.of("chaos-runs", workload + "-" + seed + "-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    ChaosRun.Options options = new ChaosRun.Options(workload, nemesis, Duration.ofSeconds(seconds), seed, clients,
        Duration.ofSeconds(faultEvery), dir.toAbsolutePath());
    boolean partitions = nemesis.stream().anyMatch(n -> n.startsWith("partition"));
    Map<String, Object> settings = Map.of("placement", Map.of("enabled", true), "clockSkewForTests", true);
    Path home = Path.of(System.getProperty("flotilla.home", ".")).toAbsolutePath().normalize();
    try (ClusterBackend cluster = "docker".equals(backend)
        ? DockerCluster.start(home, "chaos", subnet, nodes, settings)
        : partitions
            ? ProcessCluster.startIsolatable("chaos", subnet, nodes, settings)
            : ProcessCluster.start("chaos", subnet, nodes, settings)) {
      ChaosRun.Result result = ChaosRun.run(options, cluster);
      System.out.print(ChaosRun.describe(options, result));
      return result.valid() ? 0 : result.verdict().unknown() ? 2 : 1;
    }
  }
}
