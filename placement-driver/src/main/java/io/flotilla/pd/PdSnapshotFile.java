package io.flotilla.pd;

import io.flotilla.proto.PdSnapshot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * A placement driver replica's snapshot on disk: one file in the group's state machine
 * directory, replaced whole (written beside it, synced, renamed over it, the directory synced),
 * so a crash leaves the old snapshot or the new one, never a torn one.
 */
final class PdSnapshotFile {
  static final String NAME = "pd-snapshot";

  private final Path file;

  PdSnapshotFile(Path dir) {
    this.file = dir.resolve(NAME);
  }

  /** The snapshot last written, if any. */
  Optional<PdSnapshot> read() throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try (InputStream in = Files.newInputStream(file)) {
      return Optional.of(PdSnapshot.parseFrom(in));
    }
  }

  /** Replaces the snapshot with {@code snapshot}, durably, before returning. */
  synchronized void write(PdSnapshot snapshot) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(NAME + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer bytes = snapshot.toByteString().asReadOnlyByteBuffer();
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
