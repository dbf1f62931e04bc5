package io.flotilla.api.auth;

import io.flotilla.api.config.AuthConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The tokens a node accepts, kept as their SHA-256 digests: a token is looked up by its
 * digest, so the lookup's timing tells nothing about the tokens, and a config may hold the
 * digests alone. Thread-safe (immutable).
 */
public final class Tokens {
  private final Map<String, Principal> byDigest;

  private Tokens(Map<String, Principal> byDigest) {
    this.byDigest = Map.copyOf(byDigest);
  }

  /** The tokens of a valid, enabled auth config: each client token, and the cluster token as the node role. */
  public static Tokens of(AuthConfig config) {
    Map<String, Principal> byDigest = new HashMap<>();
    byDigest.put(sha256Hex(config.clusterToken), new Principal("cluster", Role.NODE));
    for (AuthConfig.TokenConfig t : config.tokens) {
      String digest = t.sha256 != null ? t.sha256.toLowerCase(Locale.ROOT) : sha256Hex(t.token);
      if (byDigest.putIfAbsent(digest, new Principal(t.name, t.role)) != null) {
        throw new IllegalArgumentException("auth.tokens: '" + t.name + "' has the same token as another one"
            + " (or as auth.clusterToken)");
      }
    }
    return new Tokens(byDigest);
  }

  /** Who {@code token} belongs to, if anyone. */
  public Optional<Principal> principal(String token) {
    return Optional.ofNullable(byDigest.get(sha256Hex(token)));
  }

  public static String sha256Hex(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
