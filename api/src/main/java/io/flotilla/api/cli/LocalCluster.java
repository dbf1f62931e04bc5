package io.flotilla.api.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import java.util.function.Function;

/**
 * A cluster of node processes on this machine, one JVM per node. Used by
 * {@code bin/flotilla cluster} and by the tests; it stops every process it started on
 * {@link #close()}, and its shutdown hook does the same if the JVM exits first.
 */
public final class LocalCluster implements AutoCloseable {
  /** One node: how to reach it and how to start it again. */
  public static final class Member {
    public final int index;
    public final String id;
    public final String http;
    public final String raft;
    public final Path data;
    public final List<String> command;
    volatile Process process;

    Member(int index, String id, String http, String raft, Path data, List<String> command) {
      this.index = index;
      this.id = id;
      this.http = http;
      this.raft = raft;
      this.data = data;
      this.command = command;
    }

    public Process process() {
      return process;
    }

    public boolean alive() {
      return process != null && process.isAlive();
    }
  }

  private final ClusterSpec spec;
  private final Function<Path, List<String>> commandFor;
  private final Path workingDir;
  private final Map<String, String> environment;
  private final List<Member> members = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final HttpClient http;
  private final Thread hook = new Thread(this::stopAll, "local-cluster-stop");

  /**
   * @param commandFor the argv that starts one node from its config file
   * @param workingDir the directory node processes run in
   */
  public LocalCluster(ClusterSpec spec, Function<Path, List<String>> commandFor, Path workingDir,
      Map<String, String> environment) throws IOException {
    this.spec = spec;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1));
    if (spec.tlsCaFile().isPresent()) {
      b.sslContext(io.flotilla.common.NodeTls.clientContext(spec.tlsCaFile().get()));
    }
    this.http = b.build();
    this.commandFor = commandFor;
    this.workingDir = workingDir;
    this.environment = Map.copyOf(environment);
    for (int i = 1; i <= spec.nodes(); i++) {
      Path dir = spec.nodeDir(i);
      Files.createDirectories(dir);
      Path config = dir.resolve("node.yml");
      ClusterSpec.writeConfig(config, spec.nodeConfig(i));
      members.add(new Member(i, spec.nodeId(i), spec.httpUrl(i), spec.raftAddress(i), dir, commandFor.apply(config)));
    }
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Adds node {@code n<k>} (k = members + 1, on the next loopback address) configured to join
   * the running cluster through {@code joinUrl}; start it with {@link #start}.
   */
  public Member addJoiner(String joinUrl) throws IOException {
    int i = members.size() + 1;
    Path dir = spec.nodeDir(i);
    Files.createDirectories(dir);
    Path config = dir.resolve("node.yml");
    ClusterSpec.writeConfig(config, spec.joinerConfig(i, joinUrl));
    Member m = new Member(i, spec.nodeId(i), spec.httpUrl(i), spec.raftAddress(i), dir, commandFor.apply(config));
    members.add(m);
    return m;
  }

  public ClusterSpec spec() {
    return spec;
  }

  public List<Member> members() {
    return List.copyOf(members);
  }

  public Member member(String id) {
    return members.stream().filter(m -> m.id.equals(id)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + id));
  }

  /** Starts every node that is not running. */
  public void startAll() throws IOException {
    for (Member m : members) {
      if (!m.alive()) {
        start(m);
      }
    }
  }

  public void start(Member m) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(m.command).directory(workingDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(m.data.resolve("console.log").toFile()));
    pb.environment().putAll(environment);
    m.process = pb.start();
  }

  /** kill -9: the node gets no chance to flush or say goodbye. */
  public void kill(Member m) throws InterruptedException {
    Process p = m.process;
    if (p != null) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor();
    }
  }

  /** SIGTERM, then kill -9 if the node has not stopped within the grace period. */
  public void stop(Member m, Duration grace) throws InterruptedException {
    Process p = m.process;
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    if (!p.waitFor(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
      kill(m);
    }
  }

  /** Waits until every running node answers /readyz with 200; fails if one dies or time runs out. */
  public void awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Member m : members) {
      while (!ready(m)) {
        if (m.process != null && !m.process.isAlive()) {
          throw new IllegalStateException("node " + m.id + " exited with " + m.process.exitValue()
              + "; see " + m.data.resolve("console.log") + " and " + m.data.resolve("node.log"));
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("node " + m.id + " was not ready within " + timeout.toSeconds()
              + " s (last /readyz: " + readiness(m) + "); see " + m.data.resolve("node.log"));
        }
        Thread.sleep(200);
      }
    }
  }

  /** What /readyz says right now, for failure messages. */
  private String readiness(Member m) throws InterruptedException {
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create(m.http + "/readyz")).timeout(Duration.ofSeconds(2)).build();
      HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    } catch (IOException e) {
      return e.toString();
    }
  }

  public boolean ready(Member m) throws InterruptedException {
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create(m.http + "/readyz")).timeout(Duration.ofSeconds(2)).build();
      return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  /** Writes {@code cluster.json}: every node's id, pid, addresses, data and restart command. */
  public Path writeClusterJson() throws IOException {
    List<Map<String, Object>> nodes = new ArrayList<>();
    for (Member m : members) {
      Map<String, Object> n = new LinkedHashMap<>();
      n.put("id", m.id);
      n.put("pid", m.process == null ? null : m.process.pid());
      n.put("http", m.http);
      n.put("raft", m.raft);
      n.put("data", m.data.toString());
      n.put("command", m.command);
      nodes.add(n);
    }
    Path file = spec.dataDir().resolve("cluster.json");
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), Map.of("nodes", nodes));
    return file;
  }

  private void stopAll() {
    for (Member m : members) {
      Process p = m.process;
      if (p != null && p.isAlive()) {
        p.destroy();
      }
    }
    for (Member m : members) {
      try {
        stop(m, Duration.ofSeconds(15));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // already shutting down: the hook is running or ran
    }
  }
}
