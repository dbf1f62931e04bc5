package io.flotilla.testcluster;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.flotilla.api.cli.ClusterSpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A cluster of node containers (Testcontainers), each on the host network with its own
 * loopback address, its data directory bind-mounted at the same path as on the host. The image
 * is built locally: a base image imported from this machine's JDK (no registry needed), then
 * the node's jars on top.
 */
public final class DockerCluster implements ClusterBackend {
  public static final String NODE_IMAGE = "flotilla-node:local";
  /** Tagged with a digest of the script that builds it: a changed script builds a new base. */
  private static final String BASE_REPO = "flotilla-base";
  private static final int HTTP_PORT = 18001;
  private static final int RAFT_PORT = 18101;

  private final ClusterSpec spec;
  private final Map<String, GenericContainer<?>> containers = new LinkedHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private DockerCluster(ClusterSpec spec) {
    this.spec = spec;
  }

  /** Why Docker-backed runs cannot happen here, or null when they can. */
  public static String unavailableReason() {
    try {
      if (!DockerClientFactory.instance().isDockerAvailable()) {
        return "no Docker daemon answers (install docker.io and start dockerd)";
      }
      return null;
    } catch (RuntimeException | Error e) {
      return "Docker is not usable: " + e;
    }
  }

  /**
   * Builds the node image from the repository at {@code home} (its api/target jars), then starts
   * {@code nodes} containers and waits until all are ready.
   */
  public static DockerCluster start(Path home, String name, int subnet, int nodes, Map<String, Object> overrides)
      throws IOException, InterruptedException {
    buildImages(home);
    Path dir = Files.createTempDirectory("flotilla-docker-" + name + "-");
    ClusterSpec spec = new ClusterSpec(nodes, dir, "127.0." + subnet + ".11", HTTP_PORT, RAFT_PORT,
        List.of("g", "n", "t"), overrides);
    DockerCluster cluster = new DockerCluster(spec);
    try {
      YAMLMapper yaml = new YAMLMapper();
      for (int i = 1; i <= nodes; i++) {
        Path nodeDir = spec.nodeDir(i);
        Files.createDirectories(nodeDir);
        Path config = nodeDir.resolve("node.yml");
        Files.writeString(config, yaml.writeValueAsString(spec.nodeConfig(i)));
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(NODE_IMAGE))
            .withNetworkMode("host")
            .withFileSystemBind(nodeDir.toString(), nodeDir.toString())
            .withCommand(config.toString())
            .withStartupAttempts(1);
        cluster.containers.put(spec.nodeId(i), c);
        c.start();
      }
      cluster.awaitReady(Duration.ofSeconds(120));
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** The base image (once per machine) and the node image (every time: the jars may have changed). */
  private static void buildImages(Path home) throws IOException, InterruptedException {
    Path script = home.resolve("test-cluster/docker/build-base.sh");
    String base = BASE_REPO + ":" + digest(Files.readAllBytes(script));
    if (!imageExists(base)) {
      run(home, List.of("bash", script.toString(), base));
    }
    Path context = Files.createTempDirectory("flotilla-image-");
    try {
      Path api = home.resolve("api/target");
      Files.copy(api.resolve("flotilla.jar"), context.resolve("flotilla.jar"));
      Path lib = Files.createDirectories(context.resolve("lib"));
      try (var jars = Files.list(api.resolve("lib"))) {
        for (Path jar : (Iterable<Path>) jars::iterator) {
          Files.copy(jar, lib.resolve(jar.getFileName()));
        }
      }
      Files.copy(home.resolve("test-cluster/docker/Dockerfile"), context.resolve("Dockerfile"));
      run(context, List.of("docker", "build", "-q", "--build-arg", "BASE=" + base, "-t", NODE_IMAGE, "."));
    } finally {
      try (var walk = Files.walk(context)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static String digest(byte[] bytes) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
      return java.util.HexFormat.of().formatHex(d).substring(0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean imageExists(String image) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("docker", "image", "inspect", image).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return p.waitFor() == 0;
  }

  private static void run(Path dir, List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  private String containerId(String id) {
    GenericContainer<?> c = containers.get(id);
    if (c == null) {
      throw new IllegalArgumentException("no node " + id);
    }
    return c.getContainerId();
  }

  @Override
  public List<String> nodeIds() {
    return new ArrayList<>(containers.keySet());
  }

  @Override
  public String url(String id) {
    int i = Integer.parseInt(id.substring(1));
    return spec.httpUrl(i);
  }

  @Override
  public void kill(String id) {
    DockerClientFactory.instance().client().killContainerCmd(containerId(id)).withSignal("KILL").exec();
  }

  @Override
  public void stop(String id) {
    DockerClientFactory.instance().client().stopContainerCmd(containerId(id)).withTimeout(20).exec();
  }

  @Override
  public void start(String id) {
    DockerClientFactory.instance().client().startContainerCmd(containerId(id)).exec();
  }

  @Override
  public void pause(String id) {
    DockerClientFactory.instance().client().pauseContainerCmd(containerId(id)).exec();
  }

  @Override
  public void resume(String id) {
    DockerClientFactory.instance().client().unpauseContainerCmd(containerId(id)).exec();
  }

  @Override
  public void awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (String id : containers.keySet()) {
      while (!ready(id)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("node " + id + " was not ready within " + timeout.toSeconds() + " s; see "
              + spec.nodeDir(Integer.parseInt(id.substring(1))).resolve("node.log"));
        }
        Thread.sleep(200);
      }
    }
  }

  private boolean ready(String id) throws InterruptedException {
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create(url(id) + "/readyz")).timeout(Duration.ofSeconds(2)).build();
      return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  /** Containers share the host's network stack; cutting them apart is not offered here. */
  @Override
  public Network network() {
    return null;
  }

  @Override
  public void close() {
    for (Map.Entry<String, GenericContainer<?>> e : containers.entrySet()) {
      try {
        String cid = e.getValue().getContainerId();
        if (cid != null) {
          try {
            DockerClientFactory.instance().client().unpauseContainerCmd(cid).exec();
          } catch (RuntimeException notPaused) {
            // it was not paused
          }
        }
        e.getValue().stop();
      } catch (RuntimeException ex) {
        // best effort: the next container still gets stopped
      }
    }
  }
}
