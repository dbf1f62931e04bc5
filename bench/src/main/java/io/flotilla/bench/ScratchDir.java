package io.flotilla.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A directory for one benchmark's data (clusters, RocksDB files) that is deleted with everything
 * in it on {@link #close()}, unless {@link #keep()} was called last (a run that may fail keeps
 * its logs to look at, and discards them once it succeeded).
 */
public final class ScratchDir implements AutoCloseable {
  private final Path path;
  private boolean keep;

  private ScratchDir(Path path) {
    this.path = path;
  }

  /** A new temporary directory named {@code prefix...}. */
  public static ScratchDir create(String prefix) throws IOException {
    return new ScratchDir(Files.createTempDirectory(prefix));
  }

  /** The given directory (created if absent); deleted on close like a temporary one. */
  public static ScratchDir at(Path dir) throws IOException {
    return new ScratchDir(Files.createDirectories(dir));
  }

  public Path path() {
    return path;
  }

  public void keep() {
    keep = true;
  }

  public void discardOnClose() {
    keep = false;
  }

  @Override
  public void close() {
    if (keep) {
      return;
    }
    try (Stream<Path> paths = Files.walk(path)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + path, e);
    }
  }
}
