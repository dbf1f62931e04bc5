package io.flotilla.api.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.flotilla.api.auth.Role;
import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.NotNull;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Who may call a node (shared/API.md's 401 and 403). Off by default; on, every request but
 * {@code /healthz}, {@code /readyz} and {@code /metrics} carries {@code Authorization: Bearer
 * <token>}, and a token's role bounds what it may do ({@link Role}). Every node of a cluster
 * has the same {@code clusterToken}: the nodes send it on their calls to each other, and only
 * it opens {@code /internal}.
 */
public class AuthConfig {
  /** The shortest token accepted: shorter ones can be guessed. */
  public static final int MIN_TOKEN_CHARS = 16;

  @JsonProperty public boolean enabled;
  /** The nodes' own token, the same on every node of the cluster (required when enabled). */
  @JsonProperty public String clusterToken;
  @NotNull @Valid @JsonProperty public List<TokenConfig> tokens = new ArrayList<>();

  /** A client's token: its name (in logs and errors), its secret, and its role. */
  public static class TokenConfig {
    @JsonProperty public String name;
    /** The token itself; or give {@link #sha256} instead, so the config file holds no secret. */
    @JsonProperty public String token;
    /** The token's SHA-256, 64 hex digits ({@code printf %s TOKEN | sha256sum}). */
    @JsonProperty public String sha256;
    @NotNull @JsonProperty public Role role;
  }

  @AssertTrue(message = "auth.enabled needs auth.clusterToken of at least " + MIN_TOKEN_CHARS
      + " characters, without white space at either end")
  public boolean isClusterTokenSet() {
    return !enabled || (clusterToken != null && clusterToken.length() >= MIN_TOKEN_CHARS
        && clusterToken.equals(clusterToken.strip()));
  }

  /** Null if the tokens are well formed, else what is wrong with the first one that is not. */
  public String tokenProblem() {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < tokens.size(); i++) {
      TokenConfig t = tokens.get(i);
      String where = "auth.tokens[" + i + "]";
      if (t.name == null || t.name.isBlank()) {
        return where + " needs a name";
      }
      if (!names.add(t.name)) {
        return where + ": the name '" + t.name + "' is used twice";
      }
      if ((t.token == null) == (t.sha256 == null)) {
        return where + " ('" + t.name + "') needs exactly one of token and sha256";
      }
      if (t.token != null && !t.token.equals(t.token.strip())) {
        return where + " ('" + t.name + "'): a token must not begin or end with white space";
      }
      if (t.token != null && t.token.length() < MIN_TOKEN_CHARS) {
        return where + " ('" + t.name + "'): a token needs at least " + MIN_TOKEN_CHARS + " characters";
      }
      if (t.sha256 != null && !t.sha256.matches("[0-9a-fA-F]{64}")) {
        return where + " ('" + t.name + "'): sha256 must be 64 hex digits";
      }
      if (t.role == Role.NODE) {
        return where + " ('" + t.name + "'): the node role belongs to auth.clusterToken alone";
      }
    }
    return null;
  }

  @AssertTrue(message = "auth.tokens: each needs a unique name, exactly one of token (16 characters or more) and "
      + "sha256 (64 hex digits), and a role of read, write or admin")
  public boolean isTokensValid() {
    return tokenProblem() == null;
  }
}
