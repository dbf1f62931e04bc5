package io.flotilla.api.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The certificates of a local cluster started with {@code --tls}, in {@code DATA/certs}: a CA
 * made once, and each node's certificate for its loopback address (and {@code localhost}),
 * made when the node first needs one, so that a restart and a joining node use the same CA.
 */
final class LocalTls {
  static final String DIR = "certs";

  private LocalTls() {}

  /** Whether the cluster in {@code data} was started with TLS (it has a CA). */
  static boolean present(Path data) {
    return Files.exists(data.resolve(DIR).resolve(Certs.CA_CERT));
  }

  /** The CA (made if missing) and a certificate of node {@code id} at {@code ip} (made if missing). */
  static void ensureNode(Path data, String id, String ip) throws IOException {
    Path dir = data.resolve(DIR);
    Certs.ensureCa(dir);
    if (!Files.exists(dir.resolve(id + ".crt"))) {
      Certs.createNode(dir, id, List.of(ip, "localhost"));
    }
  }

  /** The nodes' {@code tls:} section: on, with the files of {@code DATA/certs}. */
  static Map<String, Object> section(Path data) {
    Map<String, Object> tls = new LinkedHashMap<>();
    tls.put("enabled", true);
    tls.put("dir", data.resolve(DIR).toString());
    return tls;
  }

  static Path caFile(Path data) {
    return data.resolve(DIR).resolve(Certs.CA_CERT);
  }
}
