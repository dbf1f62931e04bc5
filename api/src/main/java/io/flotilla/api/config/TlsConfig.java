package io.flotilla.api.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.validation.constraints.AssertTrue;

/**
 * TLS on every port of a node (off by default). On, the HTTP API is served over HTTPS only,
 * the Raft port speaks mutual TLS only (a peer must present a certificate the CA signed), and
 * the node's calls to its peers use its certificate and trust the CA; the peers' {@code http}
 * URLs are then {@code https://}. PEM files, as {@code bin/flotilla certs} makes them.
 */
public class TlsConfig {
  @JsonProperty public boolean enabled;
  /** The node's certificate, then any intermediates. */
  @JsonProperty public String certFile;
  /** Its private key, unencrypted PKCS#8. */
  @JsonProperty public String keyFile;
  /** The certificate authorities the node trusts: its peers' certificates must chain to one. */
  @JsonProperty public String caFile;
  /**
   * Instead of the three files: a directory as {@code bin/flotilla certs} fills it, holding
   * {@code ca.crt} and the node's {@code <id>.crt} and {@code <id>.key}.
   */
  @JsonProperty public String dir;

  @AssertTrue(message = "tls.enabled needs tls.dir, or tls.certFile, tls.keyFile and tls.caFile")
  public boolean isComplete() {
    return !enabled || dir != null || (certFile != null && keyFile != null && caFile != null);
  }

  /** The node's certificate, key and CA files, in that order. */
  public java.util.List<java.nio.file.Path> files(String nodeId) {
    if (certFile != null) {
      return java.util.List.of(java.nio.file.Path.of(certFile), java.nio.file.Path.of(keyFile),
          java.nio.file.Path.of(caFile));
    }
    java.nio.file.Path d = java.nio.file.Path.of(dir);
    return java.util.List.of(d.resolve(nodeId + ".crt"), d.resolve(nodeId + ".key"), d.resolve("ca.crt"));
  }
}
