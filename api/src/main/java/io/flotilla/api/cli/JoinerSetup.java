package io.flotilla.api.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Writes the configuration of a node about to join a running local cluster: by default the next
 * id (n<k>) on the next loopback address, with the ports the members use, its data beside theirs.
 */
final class JoinerSetup {
  private JoinerSetup() {}

  /**
   * @param jsonLogs whether the node logs JSON lines; null: as the cluster's nodes already in
   *     {@code data} do (text when none is there)
   */
  static Path write(String joinUrl, String id, String ip, Path data, Map<String, Object> overrides, Boolean jsonLogs)
      throws IOException, InterruptedException {
    // A cluster started with --auth keeps its tokens beside its data: the joiner uses them too.
    Map<String, Object> auth = LocalAuth.load(data.toAbsolutePath().normalize()).orElse(null);
    if (auth != null) {
      overrides = new java.util.LinkedHashMap<>(overrides);
      overrides.put("auth", auth);
    }
    Path cluster = data.toAbsolutePath().normalize();
    boolean tls = LocalTls.present(cluster);
    JsonNode members = members(joinUrl, auth == null ? null : LocalAuth.clusterToken(auth),
        tls ? LocalTls.caFile(cluster) : null);
    int k = members.size() + 1;
    int maxLast = 0;
    URI first = null;
    String firstRaft = null;
    for (JsonNode m : members) {
      URI http = URI.create(m.path("http").asText());
      if (first == null) {
        first = http;
        firstRaft = m.path("raft").asText();
      }
      String[] octets = http.getHost().split("\\.");
      maxLast = Math.max(maxLast, Integer.parseInt(octets[octets.length - 1]));
      String mid = m.path("id").asText();
      if (mid.matches("n[0-9]+")) {
        k = Math.max(k, Integer.parseInt(mid.substring(1)) + 1);
      }
    }
    if (first == null) {
      throw new IOException(joinUrl + " lists no members");
    }
    String[] o = first.getHost().split("\\.");
    String address = ip != null ? ip : o[0] + "." + o[1] + "." + o[2] + "." + (maxLast + 1);
    int raftPort = Integer.parseInt(firstRaft.substring(firstRaft.lastIndexOf(':') + 1));
    // A one-node spec whose node k sits on the chosen address: firstIp = address - (k - 1).
    String[] a = address.split("\\.");
    int firstLast = Integer.parseInt(a[3]) - (k - 1);
    if (firstLast < 1) {
      throw new IllegalArgumentException("pick --ip with a last octet of at least " + k + " for node n" + k);
    }
    if (tls) {
      // A cluster started with --tls: the joiner gets a certificate of the cluster's CA for its address.
      LocalTls.ensureNode(cluster, id != null ? id : "n" + k, address);
      overrides = new java.util.LinkedHashMap<>(overrides);
      overrides.put("tls", LocalTls.section(cluster));
    }
    ClusterSpec spec = new ClusterSpec(1, data, a[0] + "." + a[1] + "." + a[2] + "." + firstLast, first.getPort(),
        raftPort, List.of(), overrides, jsonLogs != null ? jsonLogs : membersLogJson(cluster));
    Map<String, Object> config = spec.joinerConfig(k, joinUrl);
    if (id != null) {
      @SuppressWarnings("unchecked")
      Map<String, Object> flotilla = (Map<String, Object>) config.get("flotilla");
      flotilla.put("id", id);
      flotilla.put("peers", List.of(Map.of("id", id, "http", spec.httpUrl(k), "raft", spec.raftAddress(k))));
    }
    Path dir = spec.nodeDir(k);
    Files.createDirectories(dir);
    Path file = dir.resolve("node.yml");
    ClusterSpec.writeConfig(file, config);
    System.out.println("joining the cluster at " + joinUrl + " as " + (id != null ? id : spec.nodeId(k)) + " on "
        + spec.httpUrl(k) + " (config " + file + ")");
    return file;
  }

  /** Whether the nodes already set up in {@code cluster} log JSON lines (false when there are none). */
  static boolean membersLogJson(Path cluster) throws IOException {
    if (!Files.isDirectory(cluster)) {
      return false;
    }
    try (java.util.stream.Stream<Path> dirs = Files.list(cluster)) {
      Path config = dirs.map(d -> d.resolve("node.yml")).filter(Files::isRegularFile).sorted().findFirst().orElse(null);
      return config != null && ClusterSpec.logsJson(config);
    }
  }

  private static JsonNode members(String joinUrl, String clusterToken, Path caFile)
      throws IOException, InterruptedException {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    if (caFile != null) {
      b.sslContext(io.flotilla.common.NodeTls.clientContext(caFile));
    }
    HttpClient http = io.flotilla.api.auth.ClusterHttp.of(b.build(), clusterToken);
    HttpRequest req = HttpRequest.newBuilder(URI.create(joinUrl.replaceAll("/+$", "") + "/v1/admin/cluster"))
        .timeout(Duration.ofSeconds(20)).GET().build();
    HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (resp.statusCode() != 200) {
      throw new IOException(joinUrl + " answered " + resp.statusCode() + ": " + resp.body());
    }
    return new ObjectMapper().readTree(resp.body()).path("nodes");
  }
}
