package io.flotilla.bench.compare;

import io.flotilla.bench.load.Endpoint;
import io.flotilla.bench.load.EtcdGatewayApi;
import io.flotilla.bench.load.HttpConnection;
import io.flotilla.bench.load.HttpResponse;
import io.flotilla.bench.load.StoreApi;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A fresh 3-member etcd cluster on loopback, member i on {@code firstIp + i - 1}, data in
 * {@code dataDir/e<i>}. etcd's defaults are kept, fsync included (its {@code --unsafe-no-fsync}
 * is off), so every acknowledged write is on disk as Flotilla's are. Logs go to
 * {@code dataDir/e<i>/etcd.log}.
 */
public final class EtcdCluster implements StoreCluster {
  private static final int MEMBERS = 3;

  private final ChildProcesses processes;
  private final List<Endpoint> endpoints;
  private final String version;

  private EtcdCluster(ChildProcesses processes, List<Endpoint> endpoints, String version) {
    this.processes = processes;
    this.endpoints = endpoints;
    this.version = version;
  }

  /** Starts the members and waits until each reports itself healthy. */
  public static EtcdCluster start(Path etcd, Path dataDir, String firstIp, int clientPort, int peerPort,
      Duration timeout) throws IOException, InterruptedException {
    List<String> peers = new ArrayList<>();
    for (int i = 1; i <= MEMBERS; i++) {
      String ip = Loopback.address(firstIp, i);
      Loopback.requireFree(ip, clientPort);
      Loopback.requireFree(ip, peerPort);
      peers.add("e" + i + "=http://" + ip + ":" + peerPort);
    }
    ChildProcesses processes = new ChildProcesses();
    List<Endpoint> endpoints = new ArrayList<>();
    List<Process> members = new ArrayList<>();
    try {
      for (int i = 1; i <= MEMBERS; i++) {
        String ip = Loopback.address(firstIp, i);
        Path dir = Files.createDirectories(dataDir.resolve("e" + i));
        String client = "http://" + ip + ":" + clientPort;
        String peer = "http://" + ip + ":" + peerPort;
        members.add(processes.start(List.of(etcd.toString(), "--name", "e" + i, "--data-dir", dir.resolve("data").toString(),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", String.join(",", peers), "--initial-cluster-token", "flotilla-bench",
            "--initial-cluster-state", "new", "--logger", "zap", "--log-level", "warn",
            "--log-outputs", dir.resolve("etcd.log").toString()), dir, dir.resolve("console.log")));
        endpoints.add(new Endpoint(ip, clientPort));
      }
      awaitHealthy(endpoints, members, dataDir, timeout);
      return new EtcdCluster(processes, endpoints, EtcdBinary.version(etcd));
    } catch (IOException | InterruptedException | RuntimeException e) {
      processes.close();
      throw e;
    }
  }

  private static void awaitHealthy(List<Endpoint> endpoints, List<Process> members, Path dataDir, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int i = 0; i < endpoints.size(); i++) {
      try (HttpConnection c = new HttpConnection(endpoints.get(i), Duration.ofSeconds(2))) {
        while (!healthy(c)) {
          Path log = dataDir.resolve("e" + (i + 1)).resolve("etcd.log");
          if (!members.get(i).isAlive()) {
            throw new IllegalStateException("etcd member e" + (i + 1) + " exited with " + members.get(i).exitValue()
                + "; see " + log + " and " + log.resolveSibling("console.log"));
          }
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("etcd member e" + (i + 1) + " was not healthy within "
                + timeout.toSeconds() + " s; see " + log);
          }
          Thread.sleep(200);
        }
      }
    }
  }

  /** etcd's {@code GET /health}: 200 with {@code "health":"true"} once the member has a leader. */
  private static boolean healthy(HttpConnection c) {
    try {
      HttpResponse r = c.send("GET", "/health", null, null);
      return r.status() == 200 && new String(r.body(), StandardCharsets.UTF_8).replace(" ", "").contains("\"health\":\"true\"");
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public StoreApi api() {
    return new EtcdGatewayApi();
  }

  @Override
  public List<Endpoint> endpoints() {
    return endpoints;
  }

  @Override
  public String describe() {
    return version + ", " + MEMBERS + " members, v3 JSON gateway, fsync on";
  }

  @Override
  public void close() {
    processes.close();
  }
}
