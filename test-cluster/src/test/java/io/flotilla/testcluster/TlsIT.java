package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.api.cli.Certs;
import io.flotilla.common.NodeTls;
import io.flotilla.testcluster.ApiClient.Resp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A cluster with TLS on: the API answers over HTTPS only, the Raft port only to peers with a
 * certificate of the cluster's CA (mutual TLS), and the nodes' own traffic (replication,
 * forwarded writes and reads, the placement driver) runs over it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsIT {
  private static final int SUBNET = 40;

  private Path certs;
  private Path otherCa;
  private ProcessCluster cluster;
  private ApiClient api;
  private List<String> nodes;

  @BeforeAll
  void startCluster() throws Exception {
    certs = Files.createTempDirectory("flotilla-tls-it");
    otherCa = Files.createTempDirectory("flotilla-tls-it-other");
    Certs.ensureCa(certs);
    for (int i = 1; i <= 3; i++) {
      Certs.createNode(certs, "n" + i, List.of("127.0." + SUBNET + "." + (10 + i)));
    }
    Certs.ensureCa(otherCa);
    Certs.createNode(otherCa, "n1", List.of("127.0." + SUBNET + ".11"));
    cluster = ProcessCluster.start("tls", SUBNET, 3, Map.of("tls", Map.of("enabled", true, "dir", certs.toString())));
    api = new ApiClient().withTls(NodeTls.clientContext(certs.resolve(Certs.CA_CERT)));
    nodes = cluster.nodeIds().stream().map(cluster::url).toList();
  }

  @AfterAll
  void stopCluster() throws IOException {
    if (cluster != null) {
      cluster.close();
    }
    for (Path dir : new Path[] {certs, otherCa}) {
      if (dir != null) {
        try (var files = Files.list(dir)) {
          for (Path f : files.toList()) {
            Files.delete(f);
          }
        }
        Files.delete(dir);
      }
    }
  }

  @Test
  void writesAndReadsOfEveryModeCrossTheNodesOverTls() {
    for (String node : nodes) {
      assertTrue(node.startsWith("https://"), node);
    }
    for (int i = 0; i < nodes.size(); i++) {
      String key = "t/" + i;
      Resp put = api.put(nodes.get(i), key, "v" + i);
      assertEquals(200, put.status(), put::toString);
      long revision = put.json().get("revision").asLong();
      for (String via : nodes) {
        assertEquals("v" + i, api.get(via, key, "raw").text(), "strong read through " + via);
        assertEquals("v" + i, api.get(via, key, "raw&consistency=follower").text(), "follower read through " + via);
        assertEquals("v" + i, api.get(via, key, "raw&consistency=stale&min_revision=" + revision).text(),
            "stale read through " + via);
      }
    }
    Resp batch = api.batch(nodes.get(1), "{\"atomic\": true, \"ops\": [{\"op\":\"put\",\"key\":\"a/x\",\"value\":\"MQ==\"},"
        + "{\"op\":\"put\",\"key\":\"z/x\",\"value\":\"Mg==\"}]}");
    assertEquals(200, batch.status(), batch::toString);
  }

  @Test
  void theApiAnswersNoPlainHttpAndNoClientThatDistrustsItsCa() throws Exception {
    String plain = nodes.get(0).replace("https://", "http://");
    assertThrows(UncheckedIOException.class, () -> new ApiClient().get(plain, "t/0", "raw"),
        "plain HTTP to the HTTPS port");
    assertThrows(UncheckedIOException.class, () -> new ApiClient()
        .withTls(NodeTls.clientContext(otherCa.resolve(Certs.CA_CERT))).get(nodes.get(0), "t/0", "raw"),
        "a client trusting another CA");
  }

  /**
   * The Raft port speaks to a peer presenting a certificate of the cluster's CA, and to no
   * one else: the same HTTP/2 greeting, offered over TLS with ALPN {@code h2} as gRPC does, gets
   * the server's first frame back with n2's certificate, and a refusal with another CA's or
   * with none.
   */
  @Test
  void theRaftPortTalksOnlyToPeersOfTheClustersCa() throws Exception {
    String raft = cluster.node("n1").raft;
    String host = raft.substring(0, raft.lastIndexOf(':'));
    int port = Integer.parseInt(raft.substring(raft.lastIndexOf(':') + 1));
    NodeTls peer = NodeTls.load(certs.resolve("n2.crt"), certs.resolve("n2.key"), certs.resolve(Certs.CA_CERT));
    assertTrue(greet(peer.sslContext(), host, port) >= 0, "a peer of the cluster's CA gets the server's first frame");

    NodeTls stranger = NodeTls.load(otherCa.resolve("n1.crt"), otherCa.resolve("n1.key"), certs.resolve(Certs.CA_CERT));
    SSLContext anonymous = NodeTls.clientContext(certs.resolve(Certs.CA_CERT));
    for (SSLContext client : List.of(stranger.sslContext(), anonymous)) {
      int answer;
      try {
        answer = greet(client, host, port);
      } catch (IOException refused) {
        answer = -1;
      }
      assertEquals(-1, answer, "a client without a certificate of the cluster's CA must not get through");
    }
  }

  /** Opens TLS with ALPN h2, sends the HTTP/2 client preface, and reads the first byte back (-1: closed). */
  private static int greet(SSLContext context, String host, int port) throws IOException {
    try (SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(host, port)) {
      s.setSoTimeout(10_000);
      javax.net.ssl.SSLParameters p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2"});
      s.setSSLParameters(p);
      s.startHandshake();
      // TLS 1.3: the server judges the client's certificate after the client finished its
      // handshake, so a refusal arrives as an alert on the first read.
      s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // an empty SETTINGS frame
      s.getOutputStream().flush();
      return s.getInputStream().read();
    }
  }
}
