package io.flotilla.bench.compare;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Processes this benchmark started, stopped together: SIGTERM, then SIGKILL after a grace
 * period. A shutdown hook stops them if the JVM exits first (Ctrl-C, a failure), so no member
 * outlives the benchmark.
 */
final class ChildProcesses implements AutoCloseable {
  private static final Duration GRACE = Duration.ofSeconds(10);

  private final List<Process> processes = new CopyOnWriteArrayList<>();
  private final Thread hook = new Thread(this::stopAll, "bench-stop-children");

  ChildProcesses() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts {@code command} with its output (stdout and stderr) appended to {@code log}. */
  Process start(List<String> command, Path workingDir, Path log) throws IOException {
    Process p = new ProcessBuilder(command).directory(workingDir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    processes.add(p);
    return p;
  }

  private void stopAll() {
    processes.forEach(Process::destroy);
    for (Process p : processes) {
      try {
        if (!p.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // the JVM is shutting down: the hook runs or ran
    }
  }
}
