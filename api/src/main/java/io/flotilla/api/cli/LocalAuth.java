package io.flotilla.api.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tokens of a local cluster started with {@code --auth}: the nodes' {@code auth:} section,
 * kept in {@code DATA/auth.yml} (readable by its owner only), so that a restart and a joining
 * node use the same tokens. Made once, with a cluster token and one token per role.
 */
final class LocalAuth {
  static final String FILE = "auth.yml";
  private static final YAMLMapper YAML = new YAMLMapper();

  private LocalAuth() {}

  /** The section kept in {@code data}, if the cluster there has auth on. */
  static Optional<Map<String, Object>> load(Path data) throws IOException {
    Path file = data.resolve(FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    return Optional.of(YAML.readValue(file.toFile(), new TypeReference<Map<String, Object>>() {}));
  }

  /** The section kept in {@code data}, made and written there first if there is none. */
  static Map<String, Object> loadOrCreate(Path data) throws IOException {
    Optional<Map<String, Object>> kept = load(data);
    if (kept.isPresent()) {
      return kept.get();
    }
    Map<String, Object> section = new LinkedHashMap<>();
    section.put("enabled", true);
    section.put("clusterToken", newToken());
    section.put("tokens", List.of(token("admin", "admin"), token("app", "write"), token("viewer", "read")));
    Files.createDirectories(data);
    PrivateFiles.write(data.resolve(FILE), YAML.writeValueAsString(section), PrivateFiles.OWNER_ONLY);
    return section;
  }

  /** The token of the client token named {@code name} in a section. */
  static String tokenOf(Map<String, Object> section, String name) {
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> tokens = (List<Map<String, Object>>) section.get("tokens");
    return tokens.stream().filter(t -> name.equals(t.get("name"))).map(t -> String.valueOf(t.get("token")))
        .findFirst().orElseThrow(() -> new IllegalArgumentException("no token named " + name + " in " + FILE));
  }

  static String clusterToken(Map<String, Object> section) {
    return String.valueOf(section.get("clusterToken"));
  }

  private static Map<String, Object> token(String name, String role) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("name", name);
    t.put("token", newToken());
    t.put("role", role);
    return t;
  }

  private static String newToken() {
    byte[] bytes = new byte[24];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
