package io.flotilla.api.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a local cluster: node i (1-based) is {@code n<i>}, binds its HTTP and Raft ports
 * on its own loopback address {@code firstIp + i - 1}, and keeps its data in {@code dataDir/n<i>}.
 *
 * @param flotillaOverrides extra keys merged into each node's {@code flotilla:} section
 *     (for example {@code raft: {snapshotThreshold: 50}} in tests)
 * @param jsonLogs whether each node writes its log file ({@code node.log}) as JSON lines, one
 *     object per event with the node's id (structured logs for a log shipper), or as text
 */
public record ClusterSpec(int nodes, Path dataDir, String firstIp, int httpPort, int raftPort, List<String> initialSplits,
    Map<String, Object> flotillaOverrides, boolean jsonLogs) {

  /** A cluster whose nodes log text. */
  public ClusterSpec(int nodes, Path dataDir, String firstIp, int httpPort, int raftPort, List<String> initialSplits,
      Map<String, Object> flotillaOverrides) {
    this(nodes, dataDir, firstIp, httpPort, raftPort, initialSplits, flotillaOverrides, false);
  }

  public ClusterSpec {
    if (nodes < 1 || nodes > 200) {
      throw new IllegalArgumentException("--nodes must be between 1 and 200");
    }
    dataDir = dataDir.toAbsolutePath().normalize();
    flotillaOverrides = Map.copyOf(flotillaOverrides);
  }

  public static ClusterSpec defaults(int nodes, Path dataDir, String firstIp, int httpPort, int raftPort) {
    return new ClusterSpec(nodes, dataDir, firstIp, httpPort, raftPort, List.of("g", "n", "t"), Map.of());
  }

  /**
   * Split keys that cut the key space into {@code ranges} ranges: evenly spaced three-character
   * keys over '0'..'z', so keys of every common shape spread over many ranges.
   */
  public static List<String> evenSplits(int ranges) {
    if (ranges < 1 || ranges > 100_000) {
      throw new IllegalArgumentException("--ranges must be between 1 and 100000");
    }
    String alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    int base = alphabet.length();
    long space = (long) base * base * base;
    List<String> splits = new java.util.ArrayList<>();
    for (int i = 1; i < ranges; i++) {
      long p = space * i / ranges;
      String key = "" + alphabet.charAt((int) (p / (base * base))) + alphabet.charAt((int) (p / base % base))
          + alphabet.charAt((int) (p % base));
      if (splits.isEmpty() || !splits.get(splits.size() - 1).equals(key)) {
        splits.add(key);
      }
    }
    return splits;
  }

  public String nodeId(int i) {
    return "n" + i;
  }

  /** The loopback address of node i: firstIp plus i - 1 in the last octet. */
  public String ip(int i) {
    String[] octets = firstIp.split("\\.");
    if (octets.length != 4 || !octets[0].equals("127")) {
      throw new IllegalArgumentException("--first-ip must be a loopback address such as 127.0.0.11");
    }
    int last = Integer.parseInt(octets[3]) + i - 1;
    if (last > 254) {
      throw new IllegalArgumentException("too many nodes for --first-ip " + firstIp);
    }
    return octets[0] + "." + octets[1] + "." + octets[2] + "." + last;
  }

  public String httpUrl(int i) {
    return (tls() ? "https://" : "http://") + ip(i) + ":" + httpPort;
  }

  /** Whether the nodes serve TLS ({@code tls.enabled} among the overrides). */
  public boolean tls() {
    return flotillaOverrides.get("tls") instanceof Map<?, ?> tls && "true".equals(String.valueOf(tls.get("enabled")));
  }

  /** The CA file the nodes' certificates chain to, when they serve TLS ({@code tls.caFile}, or {@code ca.crt} in {@code tls.dir}). */
  public java.util.Optional<Path> tlsCaFile() {
    if (!tls()) {
      return java.util.Optional.empty();
    }
    Map<?, ?> tls = (Map<?, ?>) flotillaOverrides.get("tls");
    return java.util.Optional.of(tls.get("caFile") != null ? Path.of(String.valueOf(tls.get("caFile")))
        : Path.of(String.valueOf(tls.get("dir"))).resolve(Certs.CA_CERT));
  }

  public String raftAddress(int i) {
    return ip(i) + ":" + raftPort;
  }

  public Path nodeDir(int i) {
    return dataDir.resolve(nodeId(i));
  }

  /** Writes a node's configuration, readable by its owner only: it may hold the cluster's tokens. */
  public static void writeConfig(Path file, Map<String, Object> config) throws java.io.IOException {
    PrivateFiles.write(file, new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().writeValueAsString(config),
        PrivateFiles.OWNER_ONLY);
  }

  /**
   * Whether a node configuration written by {@link #writeConfig} logs JSON lines: true when an
   * appender of its {@code logging:} section has a {@code json} layout.
   */
  public static boolean logsJson(Path file) throws java.io.IOException {
    com.fasterxml.jackson.databind.JsonNode appenders = new com.fasterxml.jackson.dataformat.yaml.YAMLMapper()
        .readTree(file.toFile()).path("logging").path("appenders");
    for (com.fasterxml.jackson.databind.JsonNode appender : appenders) {
      if ("json".equals(appender.path("layout").path("type").asText())) {
        return true;
      }
    }
    return false;
  }

  /** The node's whole configuration (Dropwizard server and logging, plus flotilla) as a tree. */
  public Map<String, Object> nodeConfig(int i) {
    List<Map<String, Object>> peers = new java.util.ArrayList<>();
    for (int j = 1; j <= nodes; j++) {
      peers.add(peer(j));
    }
    return nodeConfig(i, peers, null);
  }

  /**
   * The configuration of node i (beyond {@link #nodes}) that joins the running cluster through
   * the member at {@code joinUrl}: it lists only itself and learns the others when it joins.
   */
  public Map<String, Object> joinerConfig(int i, String joinUrl) {
    return nodeConfig(i, List.of(peer(i)), joinUrl);
  }

  private Map<String, Object> peer(int j) {
    return Map.of("id", nodeId(j), "http", httpUrl(j), "raft", raftAddress(j));
  }

  private Map<String, Object> nodeConfig(int i, List<Map<String, Object>> peers, String joinUrl) {
    Map<String, Object> connector = new LinkedHashMap<>();
    connector.put("type", "http");
    connector.put("bindHost", ip(i));
    connector.put("port", httpPort);
    Map<String, Object> server = new LinkedHashMap<>();
    server.put("type", "simple");
    server.put("applicationContextPath", "/");
    server.put("adminContextPath", "/admin");
    server.put("connector", connector);
    server.put("requestLog", Map.of("appenders", List.of()));

    Map<String, Object> logging = new LinkedHashMap<>();
    logging.put("level", "INFO");
    logging.put("loggers", Map.of("org.apache.ratis", "WARN", "io.netty", "WARN", "org.eclipse.jetty", "WARN",
        "org.glassfish.jersey", "WARN"));
    Map<String, Object> file = new LinkedHashMap<>();
    file.put("type", "file");
    file.put("currentLogFilename", nodeDir(i).resolve("node.log").toString());
    file.put("archivedLogFilenamePattern", nodeDir(i).resolve("node-%i.log.gz").toString());
    file.put("archivedFileCount", 3);
    file.put("maxFileSize", "50MiB");
    if (jsonLogs) {
      // Dropwizard's JSON layout: timestamp, level, logger, thread, message, exception, and the node.
      file.put("layout", Map.of("type", "json", "additionalFields", Map.of("node", nodeId(i))));
    }
    logging.put("appenders", List.of(file, Map.of("type", "console", "threshold", "WARN", "target", "stderr")));

    Map<String, Object> flotilla = new LinkedHashMap<>();
    flotilla.put("id", nodeId(i));
    flotilla.put("dataDir", nodeDir(i).toString());
    flotilla.put("peers", peers);
    if (joinUrl != null) {
      flotilla.put("join", joinUrl);
    }
    flotilla.put("initialSplits", initialSplits);
    flotilla.putAll(flotillaOverrides);

    Map<String, Object> root = new LinkedHashMap<>();
    root.put("server", server);
    root.put("logging", logging);
    root.put("flotilla", flotilla);
    return root;
  }
}
