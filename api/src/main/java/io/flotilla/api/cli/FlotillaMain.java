package io.flotilla.api.cli;

import io.flotilla.api.FlotillaApplication;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** The {@code flotilla} command line: {@code node} runs one node, {@code cluster} a local cluster. */
@Command(name = "flotilla", mixinStandardHelpOptions = true, version = "flotilla 0.1.0",
    description = "A range-sharded, Raft-replicated key-value store.",
    subcommands = {FlotillaMain.Node.class, ClusterCommand.class})
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

  /** Runs one node from its configuration file (as {@code bin/flotilla cluster} writes them). */
  @Command(name = "node", mixinStandardHelpOptions = true,
      description = "Run one Flotilla node from its YAML configuration (see DIR/n1/node.yml of a local cluster).")
  static final class Node implements Callable<Integer> {
    @Parameters(paramLabel = "CONFIG", description = "the node's YAML configuration file")
    Path config;

    @Override
    public Integer call() throws Exception {
      new FlotillaApplication().run("server", config.toString());
      return 0;
    }
  }
}
