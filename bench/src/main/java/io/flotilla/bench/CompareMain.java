package io.flotilla.bench;

import io.flotilla.bench.compare.BenchmarksDoc;
import io.flotilla.bench.compare.ComparisonTable;
import io.flotilla.bench.compare.EtcdBinary;
import io.flotilla.bench.compare.EtcdCluster;
import io.flotilla.bench.compare.FlotillaNodeOptions;
import io.flotilla.bench.compare.MachineInfo;
import io.flotilla.bench.compare.StoreCluster;
import io.flotilla.bench.load.ResultTable;
import io.flotilla.bench.load.RunResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bin/flotilla bench compare}: Flotilla against etcd 3.4 on this machine, on the same work.
 * Starts a fresh 3-node Flotilla cluster, preloads it, runs every workload at every client count,
 * stops it; then does the same with a fresh 3-member etcd cluster (fsync on), with the same
 * generator, keys, values and seed. Prints one table and writes it into docs/BENCHMARKS.md with
 * the machine's description and the date.
 *
 * <p>The stores run one after the other, never side by side: on a small machine an idle cluster
 * still takes CPU (heartbeats, timers) from the one being measured.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Start fresh 3-node Flotilla and 3-member etcd clusters on loopback, run the same workloads "
        + "against each in turn, print one table and write it into docs/BENCHMARKS.md.")
public final class CompareMain implements Callable<Integer> {
  @Mixin
  LoadOptions options;

  @Option(names = "--only", description = "run one store only: flotilla or etcd")
  String only;

  @Mixin
  FlotillaNodeOptions flotillaNodes;

  @Option(names = "--ranges", defaultValue = "1", description = "initial Flotilla ranges, cut evenly over the key "
      + "space; each range is its own Raft log on every node. The default, one, holds the key space in one log as "
      + "etcd does, and leaves the rest to the placement driver, which splits a range written over 2,000 times a "
      + "second or grown past 96 MiB, as it would in service (bin/flotilla cluster starts with 4, cut at g, n and "
      + "t) (default: ${DEFAULT-VALUE})")
  int ranges;

  @Option(names = "--etcd-first-ip", defaultValue = "127.0.91.11",
      description = "loopback address of etcd member 1; member i gets this plus i-1 (default: ${DEFAULT-VALUE})")
  String etcdFirstIp;

  @Option(names = "--etcd-client-port", defaultValue = "2379", description = "(default: ${DEFAULT-VALUE})")
  int etcdClientPort;

  @Option(names = "--etcd-peer-port", defaultValue = "2380", description = "(default: ${DEFAULT-VALUE})")
  int etcdPeerPort;

  @Option(names = "--etcd", paramLabel = "PATH",
      description = "the etcd binary (default: etcd on the PATH, installed with apt-get if missing)")
  Path etcdBinary;

  @Option(names = "--data", description = "where the clusters keep their data and logs (default: a new temporary directory)")
  Path dataDir;

  @Option(names = "--keep-data", description = "keep the data and logs after a successful run (a failed run always keeps them)")
  boolean keepData;

  @Option(names = "--doc", description = "the file the table goes into (default: docs/BENCHMARKS.md of this checkout; "
      + "a run with --only writes none unless --doc is given)")
  Path doc;

  @Option(names = "--no-doc", description = "print the table only")
  boolean noDoc;

  @Spec
  CommandSpec spec;

  /** Starts one store's cluster. */
  private interface Starter {
    StoreCluster start(Path dir) throws IOException, InterruptedException;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new CompareMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    options.workloads(); // a misspelt workload fails here, before anything starts
    if (only != null && !only.equals("flotilla") && !only.equals("etcd")) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--only must be flotilla or etcd");
    }
    boolean runFlotilla = only == null || only.equals("flotilla");
    Path etcd = only == null || only.equals("etcd") ? EtcdBinary.locate(etcdBinary) : null;
    Duration startTimeout = Duration.ofSeconds(120);
    List<String> stores = new ArrayList<>();
    List<RunResult> flotilla = List.of();
    List<RunResult> etcdResults = List.of();
    try (ScratchDir data = dataDir != null ? ScratchDir.at(dataDir) : ScratchDir.create("flotilla-bench-")) {
      data.keep(); // until the runs finished: a failed run leaves its logs to look at
      System.err.println("data and logs in " + data.path() + (keepData ? "" : " (deleted after a successful run)"));
      if (runFlotilla) {
        flotilla = measure(dir -> flotillaNodes.start(dir, ranges, startTimeout), data.path().resolve("flotilla"),
            stores);
      }
      if (etcd != null) {
        etcdResults = measure(dir -> EtcdCluster.start(etcd, dir, etcdFirstIp, etcdClientPort, etcdPeerPort,
            startTimeout), data.path().resolve("etcd"), stores);
      }
      if (!keepData) {
        data.discardOnClose();
      }
    }
    List<RunResult> all = new ArrayList<>(flotilla);
    all.addAll(etcdResults);
    String section = report(MachineInfo.detect(), stores, ComparisonTable.format(flotilla, etcdResults),
        ResultTable.failures(all));
    System.out.println();
    System.out.println(section);
    // A one-store run (--only) is no comparison: it replaces the doc's table only when asked to.
    if (!noDoc && (only == null || doc != null)) {
      Path file = doc != null ? doc
          : Path.of(System.getProperty("flotilla.home", ".")).resolve("docs").resolve("BENCHMARKS.md");
      BenchmarksDoc.write(file, section);
      System.err.println("wrote the table into " + file.toAbsolutePath().normalize());
    }
    return 0;
  }

  /** Starts a store, preloads it, runs every workload, stops it; notes its description. */
  private List<RunResult> measure(Starter starter, Path dir, List<String> stores)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    try (StoreCluster cluster = starter.start(dir)) {
      System.err.println(cluster.api().name() + ": cluster ready at " + cluster.endpoints());
      StoreRuns.Runs runs = StoreRuns.run(cluster.api(), cluster.endpoints(), options, true, System.err);
      stores.add(cluster.describe() + (runs.warmUp().isEmpty() ? "" : "; " + runs.warmUp()));
      return runs.results();
    }
  }

  private String report(MachineInfo machine, List<String> stores, String table, String failures) {
    StringBuilder out = new StringBuilder();
    out.append("## Flotilla and etcd side by side (latest `bench compare`)\n\n");
    out.append("Run ").append(machine.date()).append(": `bin/flotilla bench compare ")
        .append(String.join(" ", spec.commandLine().getParseResult().originalArgs())).append("`\n\n");
    out.append("- Machine: ").append(machine.describe()).append('\n');
    for (String store : stores) {
      out.append("- ").append(store).append('\n');
    }
    out.append("- Load: ").append(options.describe())
        .append("; each store fresh, preloaded, then driven alone by the same generator (HTTP/1.1, "
            + "one connection per client and node, requests spread evenly over the nodes)\n\n");
    out.append(table).append('\n');
    out.append(failures.isEmpty() ? "Errors: none.\n" : "Errors:\n\n" + failures);
    return out.toString();
  }
}
