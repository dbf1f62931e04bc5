package io.flotilla.api.cli;

import io.flotilla.api.FlotillaApplication;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code flotilla} command line: {@code node} runs one node, {@code cluster} a local cluster. */
@Command(name = "flotilla", mixinStandardHelpOptions = true, version = "flotilla 0.1.0",
    description = "A range-sharded, Raft-replicated key-value store.",
    subcommands = {FlotillaMain.Node.class, ClusterCommand.class, CertsCommand.class})
public final class FlotillaMain implements Runnable {
  static {
    // With fewer than 2 cores' worth of common-pool parallelism, CompletableFuture's *Async
    // methods start a new thread per task (Ratis's log path uses them on every append): on a
    // 2-core machine that was one thread per write. Must run before CompletableFuture loads.
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
          String.valueOf(Math.max(4, Runtime.getRuntime().availableProcessors())));
    }
  }

  public static void main(String[] args) {
    int code = new CommandLine(new FlotillaMain()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /**
   * Runs one node from its configuration file (as {@code bin/flotilla cluster} writes them), or
   * with {@code --join}, a new node that joins a running cluster: its configuration is written
   * next to the others (DATA/n<k>/node.yml) and reused when it restarts.
   */
  @Command(name = "node", mixinStandardHelpOptions = true,
      description = "Run one Flotilla node from its YAML configuration (see DIR/n1/node.yml of a local cluster), "
          + "or add a new node to a running cluster with --join.")
  static final class Node implements Callable<Integer> {
    @Parameters(paramLabel = "CONFIG", arity = "0..1", description = "the node's YAML configuration file")
    Path config;

    @Option(names = "--join", paramLabel = "URL",
        description = "base URL of any member of a running cluster for this new node to join")
    String join;

    @Option(names = "--id", description = "the new node's id (default: n<k>, k = members + 1)")
    String id;

    @Option(names = "--ip", description = "the new node's loopback address (default: the one after the last member's)")
    String ip;

    @Option(names = "--data", defaultValue = "./flotilla-data",
        description = "data directory of the local cluster (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "a node setting of the flotilla: section; repeatable")
    java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();

    @Option(names = "--log-format", paramLabel = "text|json",
        description = "with --join: how the new node writes its node.log (default: as the cluster's other nodes in DATA)")
    String logFormat;

    @Override
    public Integer call() throws Exception {
      if ((config == null) == (join == null)) {
        System.err.println("give either a node's CONFIG file or --join URL");
        return 2;
      }
      if (logFormat != null && !logFormat.equals("text") && !logFormat.equals("json")) {
        System.err.println("--log-format must be text or json, not '" + logFormat + "'");
        return 2;
      }
      if (logFormat != null && config != null) {
        System.err.println("--log-format goes with --join; a CONFIG file sets its own logging");
        return 2;
      }
      Path file = config != null ? config : JoinerSetup.write(join, id, ip, data, ClusterCommand.nested(settings),
          logFormat == null ? null : logFormat.equals("json"));
      new FlotillaApplication().run("server", file.toString());
      return 0;
    }
  }
}
