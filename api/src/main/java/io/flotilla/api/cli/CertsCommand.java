package io.flotilla.api.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/flotilla certs}: a cluster's CA, made once, and a node's certificate signed by it. */
@Command(name = "certs", mixinStandardHelpOptions = true,
    description = "Make the TLS files of a cluster in a directory: the CA (ca.crt, ca.key) if it has none, and "
        + "the certificate of one node (NAME.crt, NAME.key) for the addresses and names it is reached by. "
        + "Give a node tls.dir (or certFile, keyFile and caFile); keep ca.key off the nodes.")
final class CertsCommand implements Callable<Integer> {
  @Option(names = "--dir", defaultValue = "./certs", description = "the directory (default: ${DEFAULT-VALUE})")
  Path dir;

  @Option(names = "--node", description = "the node's id (its files are <id>.crt and <id>.key); without it, the CA only")
  String node;

  @Option(names = "--host", description = "an IP address or DNS name the node is reached by; repeatable")
  List<String> hosts = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Certs.ensureCa(dir);
    System.out.println("CA: " + dir.resolve(Certs.CA_CERT));
    if (node != null) {
      Certs.createNode(dir, node, hosts);
      System.out.println("node " + node + ": " + dir.resolve(node + ".crt") + ", " + dir.resolve(node + ".key")
          + " for " + String.join(", ", hosts));
    }
    return 0;
  }
}
