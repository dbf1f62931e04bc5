package io.flotilla.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.api.cli.ClusterSpec;
import io.flotilla.api.cli.LocalCluster;
import io.flotilla.bench.load.Endpoint;
import io.flotilla.bench.load.FlotillaApi;
import io.flotilla.bench.load.HttpConnection;
import io.flotilla.bench.load.HttpResponse;
import io.flotilla.bench.load.StoreApi;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A fresh 3-node Flotilla cluster of separate node JVMs, laid out as {@code bin/flotilla cluster}
 * lays one out ({@link ClusterSpec}: node i on {@code firstIp + i - 1}, initial ranges cut evenly
 * as {@code --ranges} cuts them) and started by the same {@link LocalCluster}. Nodes run from this JVM's class
 * path, which holds every node class, so no other build output is needed.
 */
public final class FlotillaCluster implements StoreCluster {
  /** bin/flotilla node's JVM options: a small heap (RocksDB keeps its data off-heap), short GC pauses. */
  public static final String NODE_JAVA_OPTS = "-Xmx384m -XX:MaxDirectMemorySize=1g -XX:+UseG1GC -XX:MaxGCPauseMillis=50";

  private final LocalCluster cluster;
  private final List<Endpoint> endpoints;
  private final int initialRanges;

  private FlotillaCluster(LocalCluster cluster, int initialRanges) throws java.io.IOException {
    this.cluster = cluster;
    this.initialRanges = initialRanges;
    // With --set tls.enabled=true: the nodes serve HTTPS, trusted by the CA of their tls settings.
    javax.net.ssl.SSLContext trust = cluster.spec().tlsCaFile().isPresent()
        ? io.flotilla.common.NodeTls.clientContext(cluster.spec().tlsCaFile().get()) : null;
    this.endpoints = cluster.members().stream().map(m -> trust == null ? Endpoint.parse(m.http)
        : Endpoint.parse(m.http).withTls(trust)).toList();
  }

  /**
   * Starts the nodes and waits until each answers {@code /readyz}.
   *
   * @param ranges initial ranges, cut evenly over the key space ({@link ClusterSpec#evenSplits})
   * @param javaOpts JVM options of each node, space-separated
   * @param settings extra keys of each node's {@code flotilla:} section (nested maps)
   */
  public static FlotillaCluster start(Path dataDir, String firstIp, int httpPort, int raftPort, int ranges,
      String javaOpts, Map<String, Object> settings, Duration timeout) throws IOException, InterruptedException {
    List<String> splits = ClusterSpec.evenSplits(ranges);
    ClusterSpec spec = new ClusterSpec(3, dataDir, firstIp, httpPort, raftPort, splits, settings);
    for (int i = 1; i <= spec.nodes(); i++) {
      Loopback.requireFree(spec.ip(i), httpPort);
      Loopback.requireFree(spec.ip(i), raftPort);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    LocalCluster cluster = new LocalCluster(spec, config -> {
      List<String> command = new ArrayList<>(List.of(java));
      command.addAll(List.of(javaOpts.trim().split("\\s+")));
      command.addAll(List.of("-cp", classpath, "io.flotilla.api.cli.FlotillaMain", "node", config.toString()));
      return command;
    }, dataDir, Map.of());
    try {
      cluster.startAll();
      cluster.awaitReady(timeout);
      return new FlotillaCluster(cluster, splits.size() + 1);
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  @Override
  public StoreApi api() {
    return new FlotillaApi();
  }

  @Override
  public List<Endpoint> endpoints() {
    return endpoints;
  }

  /**
   * The node count, and how many ranges there were at the start and are now (the placement
   * driver may have split hot ones).
   */
  @Override
  public String describe() {
    String ranges = "? ranges";
    try (HttpConnection c = new HttpConnection(endpoints.get(0), Duration.ofSeconds(5))) {
      HttpResponse r = c.send("GET", "/v1/admin/ranges", null, null);
      JsonNode list = new ObjectMapper().readTree(r.body()).path("ranges");
      ranges = list.size() + " ranges";
    } catch (IOException e) {
      ranges = "ranges unknown (" + e.getMessage() + ")";
    }
    return "Flotilla, " + endpoints.size() + " nodes, " + initialRanges + (initialRanges == 1 ? " range" : " ranges")
        + " at the start and " + ranges + " after the runs, replication 3";
  }

  /** Each node's process, in node order (node i serves {@code endpoints().get(i - 1)}). */
  public List<Process> processes() {
    return cluster.members().stream().map(LocalCluster.Member::process).toList();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
