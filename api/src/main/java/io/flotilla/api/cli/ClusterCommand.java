package io.flotilla.api.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flotilla cluster}: starts a local cluster of node processes in the foreground, writes
 * {@code DIR/cluster.json} once every node is ready, and stops them all on Ctrl-C.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    description = "Start a local cluster of separate node processes, each on its own loopback address.")
final class ClusterCommand implements Callable<Integer> {
  @Option(names = "--nodes", defaultValue = "3", description = "number of nodes (default: ${DEFAULT-VALUE})")
  int nodes;

  @Option(names = "--data", defaultValue = "./flotilla-data", description = "data directory (default: ${DEFAULT-VALUE})")
  Path data;

  @Option(names = "--first-ip", defaultValue = "127.0.0.11",
      description = "loopback address of node 1; node i gets this plus i-1 (default: ${DEFAULT-VALUE})")
  String firstIp;

  @Option(names = "--http-port", defaultValue = "7001", description = "HTTP port on every node's address (default: ${DEFAULT-VALUE})")
  int httpPort;

  @Option(names = "--raft-port", defaultValue = "7101", description = "Raft port on every node's address (default: ${DEFAULT-VALUE})")
  int raftPort;

  @Option(names = "--ranges", description = "ranges of a new cluster, cut evenly over the key space "
      + "(default: 4, cut at g, n, t)")
  Integer ranges;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "a node setting of the flotilla: section, dotted for nested ones "
          + "(e.g. --set raft.leaderLease=false --set requestTimeout=5s); repeatable")
  Map<String, String> settings = new java.util.LinkedHashMap<>();

  @Option(names = "--log-format", defaultValue = "text", paramLabel = "text|json",
      description = "how each node writes DATA/n<i>/node.log: text, or JSON lines (one object per event, with "
          + "timestamp, level, logger, thread, message, exception and the node's id) for a log shipper "
          + "(default: ${DEFAULT-VALUE})")
  String logFormat;

  @Option(names = "--auth", description = "turn auth on: every request needs a token (made once, kept in "
      + "DATA/auth.yml: one per role, admin, write and read; a cluster started so keeps auth on)")
  boolean auth;

  @Option(names = "--tls", description = "turn TLS on: HTTPS for the API, mutual TLS between nodes (a CA and node "
      + "certificates made once in DATA/certs; a cluster started so keeps TLS on)")
  boolean tls;

  /** {@code a.b=v} becomes {@code {a: {b: v}}}. */
  static Map<String, Object> nested(Map<String, String> dotted) {
    Map<String, Object> root = new java.util.LinkedHashMap<>();
    dotted.forEach((key, value) -> {
      String[] parts = key.split("\\.");
      Map<String, Object> at = root;
      for (int i = 0; i < parts.length - 1; i++) {
        @SuppressWarnings("unchecked")
        Map<String, Object> next = (Map<String, Object>) at.computeIfAbsent(parts[i], k -> new java.util.LinkedHashMap<>());
        at = next;
      }
      at.put(parts[parts.length - 1], value);
    });
    return root;
  }

  @Override
  public Integer call() throws Exception {
    if (!logFormat.equals("text") && !logFormat.equals("json")) {
      System.err.println("--log-format must be text or json, not '" + logFormat + "'");
      return 2;
    }
    Path home = Path.of(System.getProperty("flotilla.home", ".")).toAbsolutePath().normalize();
    ClusterSpec base = ClusterSpec.defaults(nodes, data, firstIp, httpPort, raftPort);
    Map<String, Object> overrides = nested(settings);
    Map<String, Object> authSection = auth ? LocalAuth.loadOrCreate(base.dataDir())
        : LocalAuth.load(base.dataDir()).orElse(null);
    if (authSection != null) {
      overrides.put("auth", authSection);
    }
    if (tls || LocalTls.present(base.dataDir())) {
      for (int i = 1; i <= nodes; i++) {
        LocalTls.ensureNode(base.dataDir(), base.nodeId(i), base.ip(i));
      }
      overrides.put("tls", LocalTls.section(base.dataDir()));
    }
    ClusterSpec spec = new ClusterSpec(nodes, data, firstIp, httpPort, raftPort,
        ranges == null ? base.initialSplits() : ClusterSpec.evenSplits(ranges), overrides, logFormat.equals("json"));
    checkSameShape(spec);
    Path launcher = home.resolve("bin/flotilla");
    try (LocalCluster cluster = new LocalCluster(spec,
        config -> List.of("bin/flotilla", "node", config.toString()), home, Map.of())) {
      if (!Files.isExecutable(launcher)) {
        System.err.println("cannot find " + launcher + "; run this from a Flotilla checkout");
        return 2;
      }
      cluster.startAll();
      System.out.println("starting " + nodes + " nodes in " + spec.dataDir() + " ...");
      cluster.awaitReady(Duration.ofSeconds(120));
      Path json = cluster.writeClusterJson();
      for (LocalCluster.Member m : cluster.members()) {
        System.out.printf("  %s  %s  (raft %s, pid %d, log %s)%n", m.id, m.http, m.raft, m.process().pid(),
            m.data.resolve("node.log"));
      }
      System.out.println("cluster ready; wrote " + json + ". Try:");
      String with = spec.tlsCaFile().map(ca -> "--cacert " + ca + " ").orElse("");
      if (authSection != null) {
        System.out.println("  (auth is on: tokens in " + spec.dataDir().resolve(LocalAuth.FILE) + ")");
        with += "-H 'Authorization: Bearer " + LocalAuth.tokenOf(authSection, "app") + "' ";
      }
      System.out.println("  curl " + with + "-X PUT --data-binary hello " + cluster.members().get(0).http
          + "/v1/kv/greeting");
      System.out.println("  curl " + with + cluster.members().get(cluster.members().size() - 1).http
          + "/v1/kv/greeting");
      System.out.println("Press Ctrl-C to stop every node.");
      // Stay in the foreground; nodes killed by a harness may be restarted with their command.
      while (true) {
        Thread.sleep(1000);
      }
    }
  }

  /** Refuses to restart an existing data directory with a different number of nodes. */
  private void checkSameShape(ClusterSpec spec) throws java.io.IOException {
    Path json = spec.dataDir().resolve("cluster.json");
    if (Files.exists(json)) {
      JsonNode existing = new ObjectMapper().readTree(json.toFile());
      int before = existing.path("nodes").size();
      if (before != spec.nodes()) {
        throw new IllegalArgumentException(spec.dataDir() + " holds a " + before + "-node cluster; start it with --nodes "
            + before + " or use another --data directory");
      }
    }
  }
}
