package io.flotilla.bench.compare;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options of a program that starts its own Flotilla cluster ({@code bench compare},
 * {@code bench idle-ranges}): where the nodes listen, their JVM options and node settings.
 */
public final class FlotillaNodeOptions {
  @Option(names = "--flotilla-first-ip", defaultValue = "127.0.90.11",
      description = "loopback address of Flotilla node 1; node i gets this plus i-1 (default: ${DEFAULT-VALUE})")
  String firstIp;

  @Option(names = "--flotilla-http-port", defaultValue = "7001", description = "(default: ${DEFAULT-VALUE})")
  int httpPort;

  @Option(names = "--flotilla-raft-port", defaultValue = "7101", description = "(default: ${DEFAULT-VALUE})")
  int raftPort;

  @Option(names = "--node-java-opts", defaultValue = FlotillaCluster.NODE_JAVA_OPTS,
      description = "JVM options of each Flotilla node (default: bin/flotilla node's, ${DEFAULT-VALUE})")
  String nodeJavaOpts;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "a Flotilla node setting of the flotilla: section, dotted for nested ones "
          + "(e.g. --set raft.leaderLease=false); repeatable")
  Map<String, String> settings = new LinkedHashMap<>();

  public String nodeJavaOpts() {
    return nodeJavaOpts;
  }

  /**
   * Starts a fresh 3-node cluster with these options.
   *
   * @param ranges initial ranges, cut evenly over the key space
   */
  public FlotillaCluster start(Path dataDir, int ranges, Duration timeout) throws IOException, InterruptedException {
    return FlotillaCluster.start(dataDir, firstIp, httpPort, raftPort, ranges, nodeJavaOpts, nested(settings), timeout);
  }

  /**
   * {@code a.b=v} becomes {@code {a: {b: v}}}, the shape of a node's {@code flotilla:} section
   * (what {@code bin/flotilla cluster --set} does in the api module, whose helper is not public).
   */
  static Map<String, Object> nested(Map<String, String> dotted) {
    Map<String, Object> root = new LinkedHashMap<>();
    dotted.forEach((key, value) -> putPath(root, key.split("\\."), 0, value));
    return root;
  }

  @SuppressWarnings("unchecked")
  private static void putPath(Map<String, Object> at, String[] path, int depth, String value) {
    if (depth == path.length - 1) {
      at.put(path[depth], value);
    } else {
      putPath((Map<String, Object>) at.computeIfAbsent(path[depth], k -> new LinkedHashMap<String, Object>()), path,
          depth + 1, value);
    }
  }
}
