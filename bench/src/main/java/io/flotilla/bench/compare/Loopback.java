package io.flotilla.bench.compare;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/** Loopback addresses for the members of a benchmark cluster: member i gets the first address plus i - 1. */
final class Loopback {
  private Loopback() {}

  static String address(String first, int member) {
    String[] octets = first.split("\\.");
    if (octets.length != 4 || !octets[0].equals("127")) {
      throw new IllegalArgumentException("expected a loopback address such as 127.0.90.11, got " + first);
    }
    int last = Integer.parseInt(octets[3]) + member - 1;
    if (last < 1 || last > 254) {
      throw new IllegalArgumentException("no room for member " + member + " after " + first);
    }
    return octets[0] + "." + octets[1] + "." + octets[2] + "." + last;
  }

  /**
   * Fails when something already listens at host:port: a leftover cluster would otherwise be
   * measured instead of the fresh one, or make the fresh one fail to start in a confusing way.
   */
  static void requireFree(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 300);
    } catch (IOException free) {
      return;
    }
    throw new IllegalStateException(host + ":" + port + " is already in use (a cluster left running?); stop it, "
        + "or choose other addresses with --flotilla-first-ip / --etcd-first-ip");
  }
}
