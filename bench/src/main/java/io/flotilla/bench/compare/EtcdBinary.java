package io.flotilla.bench.compare;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Finds the {@code etcd} server binary, installing Debian's {@code etcd-server} (etcd 3.4) with
 * apt-get when it is missing, so {@code bench compare} runs on a fresh machine of this project's
 * kind without a manual step.
 */
public final class EtcdBinary {
  private EtcdBinary() {}

  /** The given binary, or {@code etcd} on the PATH, installed first if absent. */
  public static Path locate(Path explicit) throws IOException, InterruptedException {
    if (explicit != null) {
      if (!Files.isExecutable(explicit)) {
        throw new IllegalArgumentException("--etcd " + explicit + " is not an executable file");
      }
      return explicit;
    }
    Optional<Path> found = onPath("etcd");
    if (found.isPresent()) {
      return found.get();
    }
    System.err.println("etcd: not found; installing Debian's etcd-server and etcd-client with apt-get ...");
    if (apt("install", "-y", "etcd-server", "etcd-client") != 0) {
      apt("update");
      apt("install", "-y", "etcd-server", "etcd-client");
    }
    return onPath("etcd").orElseThrow(() -> new IllegalStateException(
        "etcd is not installed and apt-get could not install it; install etcd 3.4 (Debian: apt-get install "
            + "etcd-server) or pass --etcd PATH"));
  }

  /** The first line of {@code etcd --version}, such as "etcd Version: 3.4.23". */
  public static String version(Path etcd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(etcd.toString(), "--version").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out.lines().findFirst().orElse("etcd (unknown version)").trim();
  }

  private static Optional<Path> onPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static int apt(String... args) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(new java.util.ArrayList<>(List.of("apt-get", "-q")));
    pb.command().addAll(List.of(args));
    pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
    return pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start().waitFor();
  }
}
