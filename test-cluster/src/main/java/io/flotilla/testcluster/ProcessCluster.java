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
public final class ProcessCluster implements ClusterBackend {
  public static final int HTTP_PORT = 17001;
  public static final int RAFT_PORT = 17101;

  private final LocalCluster cluster;
  private final String cgroupPrefix;
  private final ApiClient api = new ApiClient();

  private ProcessCluster(LocalCluster cluster, String cgroupPrefix) {
    this.cluster = cluster;
    this.cgroupPrefix = cgroupPrefix;
  }

  /** The cgroup (relative to the cgroup2 root) a node runs in, or null when not isolatable. */
  public String cgroupOf(String id) {
    return cgroupPrefix == null ? null : cgroupPrefix + id;
  }

  /** The node's own loopback address. */
  public String hostOf(String id) {
    return java.net.URI.create(url(id)).getHost();
  }

  /** SIGSTOP: the node stops dead (timers, threads, sockets) until {@link #resume}. */
  public void pause(String id) throws IOException, InterruptedException {
    signal(id, "STOP");
  }

  /** SIGCONT after {@link #pause}. */
  public void resume(String id) throws IOException, InterruptedException {
    signal(id, "CONT");
  }

  private void signal(String id, String signal) throws IOException, InterruptedException {
    long pid = cluster.member(id).process().pid();
    int rc = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
    if (rc != 0) {
      throw new IOException("kill -" + signal + " " + pid + " failed with " + rc);
    }
  }

  /** Starts {@code nodes} nodes and waits until all are ready. */
  public static ProcessCluster start(String name, int subnet, int nodes, Map<String, Object> flotillaOverrides)
      throws IOException, InterruptedException {
    return start(name, subnet, nodes, flotillaOverrides, null);
  }

  /**
   * Starts {@code nodes} nodes, each in its own cgroup so {@link Network} can cut it off (see
   * {@link Network#available()}), and waits until all are ready.
   */
  public static ProcessCluster startIsolatable(String name, int subnet, int nodes,
      Map<String, Object> flotillaOverrides) throws IOException, InterruptedException {
    return start(name, subnet, nodes, flotillaOverrides, "flotilla-" + subnet + "-");
  }

  private static ProcessCluster start(String name, int subnet, int nodes, Map<String, Object> flotillaOverrides,
      String cgroupPrefix) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("flotilla-" + name + "-");
    if (!flotillaOverrides.containsKey("placement")) {
      // The placement driver's own moves would disturb tests about other things; its tests
      // turn it on.
      Map<String, Object> withPlacement = new java.util.HashMap<>(flotillaOverrides);
      withPlacement.put("placement", Map.of("enabled", false));
      flotillaOverrides = withPlacement;
    }
    ClusterSpec spec = new ClusterSpec(nodes, dir, "127.0." + subnet + ".11", HTTP_PORT, RAFT_PORT,
        List.of("g", "n", "t"), flotillaOverrides);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    LocalCluster local = new LocalCluster(spec, config -> {
      List<String> cmd = new ArrayList<>();
      if (cgroupPrefix != null) {
        // config is DIR/<id>/node.yml: the node's id names its cgroup
        String group = Network.CGROUP_ROOT + "/" + cgroupPrefix + config.getParent().getFileName();
        cmd.addAll(List.of("sh", "-c", "mkdir -p '" + group + "' && echo $$ > '" + group + "/cgroup.procs' && exec \"$@\"",
            "sh"));
      }
      cmd.addAll(List.of(java, "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-cp", classpath, "io.flotilla.api.cli.FlotillaMain", "node", config.toString()));
      return cmd;
    }, dir, Map.of());
    ProcessCluster pc = new ProcessCluster(local, cgroupPrefix);
    try {
      local.startAll();
      local.awaitReady(Duration.ofSeconds(90));
    } catch (IOException | InterruptedException | RuntimeException e) {
      pc.close();
      throw e;
    }
    return pc;
  }

  @Override
  public List<String> nodeIds() {
    return cluster.members().stream().map(m -> m.id).toList();
  }

  /** Partitions work on a cluster from {@link #startIsolatable} where iptables and cgroup v2 are available. */
  @Override
  public Network network() {
    return cgroupPrefix != null && Network.available() ? new Network(this) : null;
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

  /**
   * Adds a node (the next id, on the next address of this cluster's subnet) that joins the
   * running cluster through {@code via}, starts it and waits until it is ready.
   */
  public LocalCluster.Member join(String via) throws IOException, InterruptedException {
    LocalCluster.Member m = cluster.addJoiner(url(via));
    cluster.start(m);
    cluster.awaitReady(Duration.ofSeconds(90));
    return m;
  }

  public void kill(String id) throws InterruptedException {
    cluster.kill(cluster.member(id));
  }

  public void start(String id) throws IOException {
    cluster.start(cluster.member(id));
  }

  @Override
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
    for (LocalCluster.Member m : cluster.members()) {
      Process p = m.process();
      if (p != null && p.isAlive()) {
        try {
          resume(m.id); // a paused node cannot stop
        } catch (IOException | InterruptedException e) {
          // best effort: close() below kills it anyway
        }
      }
    }
    cluster.close();
    if (cgroupPrefix != null) {
      for (LocalCluster.Member m : cluster.members()) {
        java.io.File group = new java.io.File(Network.CGROUP_ROOT, cgroupOf(m.id));
        group.delete(); // only succeeds once empty, which it is after close()
      }
    }
  }
}
