package io.flotilla.bench.ycsb;

import io.flotilla.bench.load.KeyDistribution;
import io.flotilla.bench.load.Workloads;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/flotilla bench ycsb}: runs YCSB's own client ({@code site.ycsb.Client}) with the
 * Flotilla binding against a running cluster. Load the records first ({@code --phase load}),
 * then run a workload ({@code --phase run}); YCSB prints its own report.
 *
 * <pre>bin/flotilla bench ycsb --phase load --workload ycsb-a --nodes http://127.0.0.11:7001,...
 * bin/flotilla bench ycsb --phase run --workload ycsb-a --nodes http://127.0.0.11:7001,... --threads 16</pre>
 */
@Command(name = "ycsb", mixinStandardHelpOptions = true,
    description = "Run YCSB's client with the Flotilla binding (load the records, or run a core workload).")
public final class YcsbMain implements Callable<Integer> {
  @Option(names = "--nodes", split = ",", required = true, description = "base URLs of the nodes")
  List<String> nodes;

  @Option(names = "--phase", defaultValue = "run", description = "load (insert the records) or run (default: ${DEFAULT-VALUE})")
  String phase;

  @Option(names = "--workload", defaultValue = "ycsb-a", description = "ycsb-a ... ycsb-f (default: ${DEFAULT-VALUE})")
  String workload;

  @Option(names = "--threads", defaultValue = "16", description = "(default: ${DEFAULT-VALUE})")
  int threads;

  @Option(names = "--records", defaultValue = "10000", description = "YCSB recordcount (default: ${DEFAULT-VALUE})")
  long records;

  @Option(names = "--operations", defaultValue = "100000", description = "YCSB operationcount (default: ${DEFAULT-VALUE})")
  long operations;

  @Option(names = "--target", description = "offered operations per second (YCSB -target); unthrottled if absent")
  Integer target;

  @Option(names = "--consistency", defaultValue = "strong", description = "strong, follower or stale (default: ${DEFAULT-VALUE})")
  String consistency;

  @Option(names = "-p", paramLabel = "KEY=VALUE", description = "any other YCSB property; repeatable")
  Map<String, String> extra = new LinkedHashMap<>();

  public static void main(String[] args) {
    int code = new CommandLine(new YcsbMain()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public Integer call() {
    List<String> args = arguments();
    System.err.println("site.ycsb.Client " + String.join(" ", args));
    site.ycsb.Client.main(args.toArray(new String[0])); // exits the JVM when done
    return 0;
  }

  /** site.ycsb.Client's command line for these options. */
  List<String> arguments() {
    if (!workload.startsWith("ycsb-")) {
      throw new IllegalArgumentException("--workload must be one of ycsb-a ... ycsb-f, got " + workload);
    }
    if (!phase.equals("load") && !phase.equals("run")) {
      throw new IllegalArgumentException("--phase must be load or run, got " + phase);
    }
    Map<String, String> properties = new LinkedHashMap<>(
        YcsbWorkloadProperties.of(Workloads.parse(workload, KeyDistribution.ZIPFIAN)));
    properties.put("recordcount", Long.toString(records));
    properties.put("operationcount", Long.toString(operations));
    properties.put("flotilla.nodes", String.join(",", nodes));
    properties.put("flotilla.consistency", consistency);
    properties.putAll(extra);
    List<String> args = new ArrayList<>(List.of(phase.equals("load") ? "-load" : "-t", "-db",
        FlotillaYcsbClient.class.getName(), "-threads", Integer.toString(threads), "-s"));
    if (target != null) {
      args.addAll(List.of("-target", Integer.toString(target)));
    }
    properties.forEach((k, v) -> args.addAll(List.of("-p", k + "=" + v)));
    return args;
  }
}
