package io.flotilla.api.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.common.NodeTls;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertsTest {
  private static final String HOST = "127.0.9.77";

  @TempDir
  Path dir;
  @TempDir
  Path other;

  private NodeTls node(Path certs, String name) throws IOException {
    Certs.ensureCa(certs);
    Certs.createNode(certs, name, List.of(HOST, "localhost"));
    return NodeTls.load(certs.resolve(name + ".crt"), certs.resolve(name + ".key"), certs.resolve(Certs.CA_CERT));
  }

  /** One byte each way over TLS, the server requiring a client certificate and the client checking the server's address. */
  private static void handshake(NodeTls server, NodeTls client) throws Exception {
    try (SSLServerSocket listener = (SSLServerSocket) server.sslContext().getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getByName(HOST))) {
      listener.setNeedClientAuth(true);
      CompletableFuture<Integer> served = CompletableFuture.supplyAsync(() -> {
        try (SSLSocket s = (SSLSocket) listener.accept()) {
          int b = s.getInputStream().read();
          s.getOutputStream().write(b + 1);
          return b;
        } catch (IOException e) {
          return -1;
        }
      });
      try (SSLSocket s = (SSLSocket) client.sslContext().getSocketFactory().createSocket(HOST, listener.getLocalPort())) {
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.getOutputStream().write(41);
        assertEquals(42, s.getInputStream().read());
      } finally {
        served.get(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void nodesOfOneCaTalkMutualTlsAndOnlyTheirKeysAreOwnerOnly() throws Exception {
    NodeTls n1 = node(dir, "n1");
    NodeTls n2 = node(dir, "n2");
    handshake(n1, n2);
    handshake(n2, n1);
    byte[] ca = Files.readAllBytes(dir.resolve(Certs.CA_CERT));
    Certs.ensureCa(dir);
    assertTrue(java.util.Arrays.equals(ca, Files.readAllBytes(dir.resolve(Certs.CA_CERT))), "an existing CA is kept");
    for (String f : List.of(Certs.CA_KEY, "n1.key")) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(f))));
    }
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("n1.crt"))));
  }

  @Test
  void aNodeOfAnotherCaIsRefusedEitherWay() throws Exception {
    NodeTls ours = node(dir, "n1");
    node(other, "n1");
    // Trusting our CA, so that only its own certificate can fail it.
    NodeTls stranger = NodeTls.load(other.resolve("n1.crt"), other.resolve("n1.key"), dir.resolve(Certs.CA_CERT));
    assertThrows(IOException.class, () -> handshake(ours, stranger), "our server refuses its client certificate");
    NodeTls impostor = NodeTls.load(other.resolve("n1.crt"), other.resolve("n1.key"), other.resolve(Certs.CA_CERT));
    assertThrows(SSLHandshakeException.class, () -> handshake(impostor, ours), "our client refuses its server certificate");
  }

  @Test
  void badInputIsRefusedByName() throws Exception {
    Certs.ensureCa(dir);
    assertThrows(IllegalArgumentException.class, () -> Certs.createNode(dir, "../n1", List.of(HOST)));
    assertThrows(IllegalArgumentException.class, () -> Certs.createNode(dir, "n1", List.of()));
    Files.writeString(dir.resolve("bad.key"), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    IOException e = assertThrows(IOException.class,
        () -> NodeTls.load(dir.resolve(Certs.CA_CERT), dir.resolve("bad.key"), dir.resolve(Certs.CA_CERT)));
    assertTrue(e.getMessage().contains("PKCS#8"), e.getMessage());
  }
}
