package io.flotilla.api.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.api.auth.Role;
import io.flotilla.api.auth.Tokens;
import io.flotilla.api.config.AuthConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalAuthTest {
  @TempDir
  Path data;

  @Test
  void aLocalClusterGetsItsTokensOnceKeptOwnerOnlyAndValidForItsNodes() throws Exception {
    assertTrue(LocalAuth.load(data).isEmpty(), "no file, no auth");
    Map<String, Object> made = LocalAuth.loadOrCreate(data);
    assertEquals(made, LocalAuth.loadOrCreate(data), "made once: a restart keeps the tokens");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(LocalAuth.FILE))));

    AuthConfig config = new ObjectMapper().convertValue(made, AuthConfig.class);
    assertTrue(config.enabled);
    assertTrue(config.isClusterTokenSet());
    assertNull(config.tokenProblem());
    Tokens tokens = Tokens.of(config);
    assertEquals(Role.ADMIN, tokens.principal(LocalAuth.tokenOf(made, "admin")).orElseThrow().role());
    assertEquals(Role.WRITE, tokens.principal(LocalAuth.tokenOf(made, "app")).orElseThrow().role());
    assertEquals(Role.READ, tokens.principal(LocalAuth.tokenOf(made, "viewer")).orElseThrow().role());
    assertEquals(Role.NODE, tokens.principal(LocalAuth.clusterToken(made)).orElseThrow().role());
  }

  @Test
  void aNodeConfigIsWrittenOwnerOnly() throws Exception {
    Path file = data.resolve("node.yml");
    ClusterSpec.writeConfig(file, Map.of("flotilla", Map.of("id", "n1")));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertTrue(Files.readString(file).contains("n1"));
  }
}
