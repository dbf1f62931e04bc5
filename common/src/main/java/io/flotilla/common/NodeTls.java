package io.flotilla.common;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * A node's TLS identity, from PEM files: its certificate chain and private key, and the
 * certificate authorities it trusts. The same identity serves every port and every call to a
 * peer: the HTTP API, the Raft port (mutual TLS: a peer must present a certificate the CA
 * signed), and the node's HTTP calls to its peers. Thread-safe (immutable).
 */
public final class NodeTls {
  private static final Pattern PEM = Pattern.compile(
      "-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
  private static final char[] NO_PASSWORD = new char[0];

  private final X509KeyManager keyManager;
  private final X509TrustManager trustManager;
  private final SSLContext sslContext;

  private NodeTls(X509KeyManager keyManager, X509TrustManager trustManager) throws GeneralSecurityException {
    this.keyManager = keyManager;
    this.trustManager = trustManager;
    this.sslContext = SSLContext.getInstance("TLS");
    sslContext.init(new javax.net.ssl.KeyManager[] {keyManager}, new javax.net.ssl.TrustManager[] {trustManager}, null);
  }

  /**
   * @param certFile the node's certificate, then any intermediates (PEM)
   * @param keyFile its private key, unencrypted PKCS#8 ({@code -----BEGIN PRIVATE KEY-----})
   * @param caFile the certificate authorities whose certificates the node accepts (PEM)
   */
  public static NodeTls load(Path certFile, Path keyFile, Path caFile) throws IOException {
    try {
      List<X509Certificate> chain = certificates(certFile);
      PrivateKey key = privateKey(keyFile);
      KeyStore identity = KeyStore.getInstance("PKCS12");
      identity.load(null, null);
      identity.setKeyEntry("node", key, NO_PASSWORD, chain.toArray(Certificate[]::new));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(identity, NO_PASSWORD);

      return new NodeTls(only(kmf.getKeyManagers(), X509KeyManager.class),
          only(trusting(caFile).getTrustManagers(), X509TrustManager.class));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the TLS files " + certFile + ", " + keyFile + ", " + caFile + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * An SSL context for a client that trusts the CAs of {@code caFile} and presents no
   * certificate (to call a node's HTTPS API).
   */
  public static SSLContext clientContext(Path caFile) throws IOException {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trusting(caFile).getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot trust the CAs of " + caFile + ": " + e.getMessage(), e);
    }
  }

  /** An SSL context that presents the node's certificate and trusts the CA (servers and clients alike). */
  public SSLContext sslContext() {
    return sslContext;
  }

  public X509KeyManager keyManager() {
    return keyManager;
  }

  public X509TrustManager trustManager() {
    return trustManager;
  }

  private static TrustManagerFactory trusting(Path caFile) throws IOException, GeneralSecurityException {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    List<X509Certificate> cas = certificates(caFile);
    for (int i = 0; i < cas.size(); i++) {
      trusted.setCertificateEntry("ca-" + i, cas.get(i));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trusted);
    return tmf;
  }

  /** Every certificate in a PEM file, in order. */
  public static List<X509Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    for (byte[] der : blocks(file, "CERTIFICATE")) {
      out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
    }
    if (out.isEmpty()) {
      throw new IOException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return out;
  }

  private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    List<byte[]> keys = blocks(file, "PRIVATE KEY");
    if (keys.size() != 1) {
      throw new IOException(file + " must hold one unencrypted PKCS#8 key (-----BEGIN PRIVATE KEY-----); "
          + "convert another with: openssl pkcs8 -topk8 -nocrypt -in KEY -out " + file.getFileName());
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(keys.get(0));
    GeneralSecurityException last = null;
    for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw new IOException(file + " holds a key that is neither EC, RSA nor Ed25519", last);
  }

  private static List<byte[]> blocks(Path file, String type) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    List<byte[]> out = new ArrayList<>();
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      if (m.group(1).equals(type)) {
        out.add(Base64.getMimeDecoder().decode(m.group(2)));
      }
    }
    return out;
  }

  private static <T> T only(Object[] managers, Class<T> type) throws GeneralSecurityException {
    for (Object m : managers) {
      if (type.isInstance(m)) {
        return type.cast(m);
      }
    }
    throw new GeneralSecurityException("no " + type.getSimpleName() + " available");
  }
}
