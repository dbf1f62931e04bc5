package io.flotilla.bench;

import io.flotilla.bench.load.EtcdGatewayApi;
import io.flotilla.bench.load.Endpoint;
import io.flotilla.bench.load.FlotillaApi;
import io.flotilla.bench.load.ResultTable;
import io.flotilla.bench.load.RunResult;
import io.flotilla.bench.load.StoreApi;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Drives an already running cluster (Flotilla, or etcd through its JSON gateway) with the
 * generator and prints one row per workload and client count: throughput, latency percentiles
 * and errors.
 *
 * <pre>bin/flotilla bench load --nodes http://127.0.0.11:7001,http://127.0.0.12:7001 --workloads put,get-strong</pre>
 */
@Command(name = "load", mixinStandardHelpOptions = true,
    description = "Closed- or open-loop HTTP load against a running Flotilla (or etcd) cluster.")
public final class LoadMain implements Callable<Integer> {
  @Option(names = "--nodes", split = ",", required = true, description = "base URLs of the nodes (or etcd members)")
  List<String> nodes;

  @Option(names = "--store", defaultValue = "flotilla", description = "flotilla or etcd (default: ${DEFAULT-VALUE})")
  String store;

  @Option(names = "--token", defaultValue = "${env:FLOTILLA_TOKEN}",
      description = "the token to send (Authorization: Bearer) to nodes with auth on (default: $FLOTILLA_TOKEN)")
  String token;

  @Option(names = "--cacert", description = "for https:// nodes: the CA file to trust (as bin/flotilla certs makes it)")
  java.nio.file.Path cacert;

  @Option(names = "--no-preload", description = "do not write every key once first (the cluster holds them already)")
  boolean noPreload;

  @Mixin
  LoadOptions options;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    StoreApi api = switch (store) {
      case "flotilla" -> new FlotillaApi();
      case "etcd" -> new EtcdGatewayApi();
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "--store must be flotilla or etcd");
    };
    javax.net.ssl.SSLContext trust = cacert == null ? null : io.flotilla.common.NodeTls.clientContext(cacert);
    List<Endpoint> endpoints = nodes.stream().map(n -> {
      Endpoint e = Endpoint.parse(n).withToken(token);
      return trust != null && e.tls() != null ? e.withTls(trust) : e;
    }).toList();
    List<RunResult> results = StoreRuns.run(api, endpoints, options, !noPreload, System.err).results();
    System.out.println(api.name() + ": " + options.describe());
    System.out.print(ResultTable.format(results));
    System.out.print(ResultTable.failures(results));
    return 0;
  }
}
