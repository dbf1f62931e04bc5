package io.flotilla.api.cli;

import io.flotilla.common.NodeTls;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes the PEM files of a cluster's TLS (as CockroachDB's {@code cert create-ca} and
 * {@code create-node} do): a certificate authority, {@code ca.crt} and {@code ca.key}, and per
 * node a certificate the CA signed for the node's addresses, {@code <name>.crt} and
 * {@code <name>.key}, good for serving and for calling peers (mutual TLS). EC P-256 keys,
 * unencrypted PKCS#8, readable by their owner only; certificates readable by all.
 */
public final class Certs {
  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);
  private static final Duration NODE_VALIDITY = Duration.ofDays(825);
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Keys are their owner's alone; certificates are public. */
  private static final String KEY = PrivateFiles.OWNER_ONLY;
  private static final String CERT = PrivateFiles.PUBLIC;

  private Certs() {}

  /** The CA in {@code dir}, made there first if it has none. */
  public static void ensureCa(Path dir) throws IOException {
    if (Files.exists(dir.resolve(CA_CERT))) {
      return;
    }
    try {
      KeyPair keys = newKeys();
      X500Name name = new X500Name("CN=Flotilla CA");
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(60)),
          Date.from(now.plus(CA_VALIDITY)), name, keys.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate cert = sign(b, keys.getPrivate());
      Files.createDirectories(dir);
      write(dir.resolve(CA_KEY), pem("PRIVATE KEY", keys.getPrivate().getEncoded()), KEY);
      write(dir.resolve(CA_CERT), pem("CERTIFICATE", cert.getEncoded()), CERT);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot make a CA in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Makes {@code <name>.crt} and {@code <name>.key} in {@code dir}, signed by its CA, for
   * {@code hosts} (IP addresses or DNS names: the names clients and peers reach the node by).
   */
  public static void createNode(Path dir, String name, List<String> hosts) throws IOException {
    if (!name.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("a node name is letters, digits, '.', '_' and '-', got '" + name + "'");
    }
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("name at least one address or DNS name the node is reached by");
    }
    try {
      X509Certificate ca = NodeTls.certificates(dir.resolve(CA_CERT)).get(0);
      PrivateKey caKey = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
          Base64.getMimeDecoder().decode(Files.readString(dir.resolve(CA_KEY))
              .replaceAll("-----[A-Z ]+-----", "").trim())));
      KeyPair keys = newKeys();
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(now.minusSeconds(60)),
          Date.from(now.plus(NODE_VALIDITY)), new X500Name("CN=" + name), keys.getPublic());
      GeneralName[] names = new GeneralName[hosts.size()];
      for (int i = 0; i < hosts.size(); i++) {
        String h = hosts.get(i);
        names[i] = isAddress(h) ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h);
      }
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
      X509Certificate cert = sign(b, caKey);
      write(dir.resolve(name + ".key"), pem("PRIVATE KEY", keys.getPrivate().getEncoded()), KEY);
      write(dir.resolve(name + ".crt"), pem("CERTIFICATE", cert.getEncoded()), CERT);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot make the certificate of " + name + " in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static boolean isAddress(String host) {
    if (!host.matches("[0-9.]+") && !host.contains(":")) {
      return false;
    }
    try {
      InetAddress.getByName(host); // a literal: no lookup
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static KeyPair newKeys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(64, RANDOM).abs().add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
        .build(key)));
  }

  private static String pem(String type, byte[] der) {
    StringWriter out = new StringWriter();
    out.write("-----BEGIN " + type + "-----\n");
    out.write(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der));
    out.write("\n-----END " + type + "-----\n");
    return out.toString();
  }

  private static void write(Path file, String text, String permissions) throws IOException {
    PrivateFiles.write(file, text, permissions);
  }
}
