package io.flotilla.api.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Writes files that may hold secrets (keys, tokens) with their permissions from the start, never readable by others first. */
final class PrivateFiles {
  static final String OWNER_ONLY = "rw-------";
  static final String PUBLIC = "rw-r--r--";

  private PrivateFiles() {}

  /** Writes {@code text} to {@code file} (replacing it), which has {@code permissions} before it holds a byte. */
  static void write(Path file, String text, String permissions) throws IOException {
    Set<PosixFilePermission> wanted = PosixFilePermissions.fromString(permissions);
    if (Files.exists(file)) {
      Files.setPosixFilePermissions(file, wanted);
    } else {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(wanted));
      Files.setPosixFilePermissions(file, wanted); // the umask may have taken bits a public file needs
    }
    Files.writeString(file, text);
  }
}
