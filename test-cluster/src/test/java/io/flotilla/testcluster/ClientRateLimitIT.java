package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.testcluster.ApiClient.Resp;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * With {@code limits.clientRequestsPerSecond} set, a node refuses a client's API requests past
 * its rate with 429 {@code overloaded} and {@code Retry-After}, applying nothing, while another
 * client (another source address) is served.
 */
class ClientRateLimitIT {
  private static final int SUBNET = 39;
  private static final int BURST = 5;

  @Test
  void aClientOverItsRateGets429sThatChangedNothingWhileAnotherClientIsServed() throws Exception {
    try (ProcessCluster cluster = ProcessCluster.start("rate-limit", SUBNET, 3,
        Map.of("limits", Map.of("clientRequestsPerSecond", 1, "clientBurst", BURST)))) {
      ApiClient api = cluster.api();
      String n1 = cluster.url(cluster.nodeIds().get(0));
      List<String> accepted = new ArrayList<>();
      List<String> refused = new ArrayList<>();
      for (int i = 0; i < 2 * BURST; i++) {
        String key = "rl/" + i;
        Resp r = api.put(n1, key, "v" + i);
        if (r.status() == 429) {
          refused.add(key);
          assertEquals("overloaded", r.json().path("error").asText(), r::toString);
          assertTrue(r.json().path("message").asText().contains("over its limit"), r::toString);
          assertNotNull(r.header("Retry-After"), r::toString);
        } else {
          assertEquals(200, r.status(), r::toString);
          accepted.add(key);
        }
      }
      assertTrue(accepted.size() >= BURST, "the burst should pass: " + accepted);
      assertTrue(!refused.isEmpty(), "at one request a second past the burst, some are refused: " + accepted);

      // Another client, from another address, is served by the same node meanwhile.
      URI uri = URI.create(n1);
      try (Socket other = new Socket()) {
        other.bind(new InetSocketAddress(InetAddress.getByName("127.0." + SUBNET + ".99"), 0));
        other.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
        other.setSoTimeout(10_000);
        OutputStream out = other.getOutputStream();
        out.write(("GET /v1/kv/" + accepted.get(0) + "?consistency=stale HTTP/1.1\r\nHost: " + uri.getHost()
            + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String status = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.US_ASCII))
            .readLine();
        assertEquals("HTTP/1.1 200 OK", status, "another client is not held to the first one's rate");
      }

      // Each node limits on its own: the other two nodes read every key back (2 x the burst).
      List<String> readers = List.of(cluster.url(cluster.nodeIds().get(1)), cluster.url(cluster.nodeIds().get(2)));
      List<String> all = new ArrayList<>(accepted);
      all.addAll(refused);
      for (int i = 0; i < all.size(); i++) {
        String key = all.get(i);
        Resp get = api.get(readers.get(i % 2), key);
        assertEquals(accepted.contains(key) ? 200 : 404, get.status(), () -> key + ": " + get);
      }
    }
  }
}
