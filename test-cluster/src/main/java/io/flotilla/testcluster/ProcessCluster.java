package io.flotilla.testcluster;

import io.flotilla.api.cli.ClusterSpec;
import io.flotilla.api.cli.LocalCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A cluster of real node processes for tests, started from this JVM's class path with a small
 * heap. Each test class picks its own {@code subnet} (the third octet of 127.0.X.11...), so
 * clusters never collide with each other or with a developer's {@code bin/flotilla cluster}.
 */
public final class ProcessCluster implements AutoCloseable {
  public static final int HTTP_PORT = 17001;
  public static final int RAFT_PORT = 17101;

  private final LocalCluster cluster;
  private final ApiClient api = new ApiClient();

  private ProcessCluster(LocalCluster cluster) {
    this.cluster = cluster;
  }

  /** Starts {@code nodes} nodes and waits until all are ready. */
  public static ProcessCluster start(String name, int subnet, int nodes, Map<String, Object> flotillaOverrides)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("flotilla-" + name + "-");
    ClusterSpec spec = new ClusterSpec(nodes, dir, "127.0." + subnet + ".11", HTTP_PORT, RAFT_PORT,
        List.of("g", "n", "t"), flotillaOverrides);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    LocalCluster local = new LocalCluster(spec, config -> {
      List<String> cmd = new ArrayList<>(List.of(java, "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-cp", classpath, "io.flotilla.api.cli.FlotillaMain", "node", config.toString()));
      return cmd;
    }, dir, Map.of());
    ProcessCluster pc = new ProcessCluster(local);
    try {
      local.startAll();
      local.awaitReady(Duration.ofSeconds(90));
    } catch (IOException | InterruptedException | RuntimeException e) {
      pc.close();
      throw e;
    }
    return pc;
  }

  public ApiClient api() {
    return api;
  }

  public List<LocalCluster.Member> nodes() {
    return cluster.members();
  }

  public LocalCluster.Member node(String id) {
    return cluster.member(id);
  }

  public String url(String id) {
    return cluster.member(id).http;
  }

  public void kill(String id) throws InterruptedException {
    cluster.kill(cluster.member(id));
  }

  public void start(String id) throws IOException {
    cluster.start(cluster.member(id));
  }

  public void stop(String id) throws InterruptedException {
    cluster.stop(cluster.member(id), Duration.ofSeconds(20));
  }

  public void awaitReady(Duration timeout) throws InterruptedException {
    cluster.awaitReady(timeout);
  }

  public Path dataDir() {
    return cluster.spec().dataDir();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
